# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Drain, undrain and remove session hosts without hurting the users on them.

Safety rules this file keeps:

* a session host is removed from the pool, and its VM deleted or deallocated, only when the
  user-session list shows no session on it (Azure itself refuses a session-host delete with
  sessions unless ``force`` is set; this code never sets it);
* users are logged off only with ``on_timeout: logoff``, after ``drain_timeout`` has passed, after
  a final warning and ``logoff_grace``;
* the wait polls the whole pool with one user-session list per poll, whatever the number of hosts.

``drain_timeout``, ``logoff_grace`` and the message repeat interval are durations users live
through, so they are measured on the ARM clock (the ``Date`` of Azure's responses; in Azure the
same as the wall clock, in the simulator its scaled clock). ``timeout`` bounds the whole task in
real seconds.
"""

from __future__ import annotations

import contextlib
import functools
import time

from ._errors import (  # pylint: disable=redefined-builtin
    NotFoundError, PreconditionError, TimeoutError, ignore_not_found,
)
from ._hostpool import list_session_hosts, session_host_short_name
from ._ids import parse_resource_id
from ._module import to_wire
from ._rollout import short_name
from ._vm import find_vm, power_state
from ._wait import Deadline, start_operation, wait_operation

DEFAULT_FINAL_TITLE = "You will be signed out"
DEFAULT_FINAL_BODY = ("This desktop is being updated. Please save your work and sign out; you will be signed out "
                      "in %d minutes. Sign in again to continue on an updated desktop.")


class DrainContext:
    """What the drain needs: clients, the ARM clock, a sleep and a logger (all injectable)."""

    def __init__(self, desktop, compute, resource_group, host_pool, server_now, sleep=time.sleep,
                 clock=time.monotonic, log=None):
        self.desktop = desktop
        self.compute = compute
        self.resource_group = resource_group
        self.host_pool = host_pool
        self.server_now = server_now
        self.sleep = sleep
        self.clock = clock
        self.log = log or (lambda message: None)
        self.requests = 0


def _session_key(session):
    # name: "<pool>/<host.domain>/<id>"
    parts = (session.get("name") or "").split("/")
    return (short_name(parts[-2]) if len(parts) >= 2 else "", parts[-1])


# Sessions per page of the pool's user-session list (the API's ``pageSize``; the default pages are
# small, and a drain reads the list once per poll, so a big pool costs one request, not many).
SESSIONS_PAGE_SIZE = 1000


def list_user_sessions(ctx):
    """Every user session of the pool, in one paged list call, keyed by (host, session id)."""
    ctx.requests += 1
    listed = ctx.desktop.user_sessions.list_by_host_pool(ctx.resource_group, ctx.host_pool,
                                                         page_size=SESSIONS_PAGE_SIZE)
    sessions = [to_wire(item) for item in listed]
    return {_session_key(session): session for session in sessions}


def match_hosts(session_hosts, requested):
    """``({requested name: session host wire dict}, [names not in the pool])``."""
    by_short = {short_name(sh.get("name")): sh for sh in session_hosts}
    found, missing = {}, []
    for name in requested:
        host = by_short.get(short_name(name))
        if host is None:
            missing.append(short_name(name))
        else:
            found[short_name(name)] = host
    return found, missing


def _new_report(name, host):
    props = (host or {}).get("properties") or {}
    return {
        "name": name,
        "session_host_name": session_host_short_name(host) if host else None,
        "vm_id": props.get("resourceId"),
        "in_pool_at_start": host is not None,
        "allow_new_session_at_start": bool(props.get("allowNewSession", True)) if host else None,
        "sessions_at_start": 0,
        "sessions_left": 0,
        "ended_by_themselves": 0,
        "logged_off": 0,
        "messages_sent": 0,
        "drained": False,
        "undrained": False,
        "removed": False,
        "vm_action": None,
        "state": None,
        "empty_after_s": None,
    }


def set_allow_new_session(ctx, report, allow, check_mode):
    if report["allow_new_session_at_start"] is allow:
        return False
    if not check_mode:
        ctx.requests += 1
        ctx.desktop.session_hosts.update(ctx.resource_group, ctx.host_pool, report["session_host_name"],
                                         session_host={"allowNewSession": allow})
    report["drained" if not allow else "undrained"] = True
    return True


def send_message(ctx, key, session, title, body):
    host_name = (session.get("name") or "").split("/")[-2]
    ctx.requests += 1
    with ignore_not_found() as outcome:  # the user signed out in between: nothing to tell
        ctx.desktop.user_sessions.send_message(ctx.resource_group, ctx.host_pool, host_name, key[1],
                                               send_message={"messageTitle": title, "messageBody": body})
    return outcome.found


def log_off(ctx, key, session):
    host_name = (session.get("name") or "").split("/")[-2]
    ctx.requests += 1
    with ignore_not_found() as outcome:
        ctx.desktop.user_sessions.delete(ctx.resource_group, ctx.host_pool, host_name, key[1], force=True)
    return outcome.found


def _elapsed(ctx, since):
    return (ctx.server_now() - since).total_seconds()


def _on_hosts(sessions, names):
    return {key: session for key, session in sessions.items() if key[0] in names}


def is_active(session):
    """Whether the user is at the session now (``sessionState`` Active): only then is a message seen."""
    return ((session.get("properties") or {}).get("sessionState") or "").lower() == "active"


class _DrainWatch:
    """One drain in progress: the sessions left, who got which message, who was logged off."""

    def __init__(self, ctx, reports, message, final_message, logoff_grace):
        self.ctx = ctx
        self.reports = reports
        self.message = message
        self.final_message = final_message
        self.logoff_grace = logoff_grace
        self.names = set(reports)
        self.sessions = _on_hosts(list_user_sessions(ctx), self.names)
        self.started = ctx.server_now()
        self.start_keys = set(self.sessions)
        for key in self.start_keys:
            reports[key[0]]["sessions_at_start"] += 1
        self.last_message = {}
        self.logged_off = set()
        self.warned = {}  # session -> when the final warning reached it (ARM clock)
        self.timeout_at = None

    def refresh(self):
        self.sessions = _on_hosts(list_user_sessions(self.ctx), self.names)

    def send_messages(self, now):
        """The drain message to Active sessions not told yet, or told ``repeat_interval`` ago."""
        interval = self.message.get("repeat_interval") or 0
        for key, session in self.sessions.items():
            if not is_active(session):
                continue
            sent = self.last_message.get(key)
            if sent is None or (interval > 0 and (now - sent).total_seconds() >= interval):
                if send_message(self.ctx, key, session, self.message["title"], self.message["body"]):
                    self.reports[key[0]]["messages_sent"] += 1
                    self.last_message[key] = now

    def note_empty_hosts(self):
        """Record when each host became empty; the number of sessions left per host."""
        left = {}
        for key in self.sessions:
            left[key[0]] = left.get(key[0], 0) + 1
        for name, report in self.reports.items():
            if name not in left and report["empty_after_s"] is None:
                report["empty_after_s"] = int(_elapsed(self.ctx, self.started))
        self.ctx.log("drain: %d users left on %d of %d hosts after %ds (ARM clock)" % (
            len(self.sessions), len(left), len(self.names), int(_elapsed(self.ctx, self.started))))
        return left

    def warn_and_log_off(self, now):
        """After drain_timeout (``on_timeout: logoff``): warn, then log off ``logoff_grace`` later.

        True when only users who never saw the final warning are left: they are not logged off.
        """
        for key, session in self.sessions.items():
            if key in self.logged_off:
                continue
            if key in self.warned:
                if (now - self.warned[key]).total_seconds() >= self.logoff_grace and log_off(self.ctx, key, session):
                    self.logged_off.add(key)
                    self.reports[key[0]]["logged_off"] += 1
            elif is_active(session) and send_message(self.ctx, key, session, self.final_message["title"],
                                                     self.final_message["body"]):
                self.reports[key[0]]["messages_sent"] += 1
                self.warned[key] = self.ctx.server_now()
        unreached = [key for key in self.sessions if key not in self.warned and key not in self.logged_off]
        self.ctx.log("drain: drain_timeout passed; %d users warned, %d logged off, %d not reachable (disconnected)"
                     % (len(self.warned), len(self.logged_off), len(unreached)))
        return bool(unreached) and len(unreached) == len(self.sessions) \
            and (now - self.timeout_at).total_seconds() >= self.logoff_grace

    def finish(self):
        _finish_counts(self.reports, self.start_keys, self.sessions, self.logged_off)


def drain_and_wait(ctx, reports, message, drain_timeout, on_timeout, logoff_grace, final_message,
                   poll_interval, deadline):
    """Message users, wait until the hosts of ``reports`` are empty; apply ``on_timeout``.

    Messages go to sessions that are Active when listed: a Disconnected user would not see them,
    so they get theirs when they come back. With ``on_timeout: logoff`` a session is logged off
    ``logoff_grace`` after the final warning reached it while it was Active; a user who stays
    disconnected the whole time is never logged off unwarned.

    Returns ``timed_out`` (True when users were still on a host after drain_timeout, and on_timeout
    is not logoff or only users the final warning could not reach are left). Updates the per-host
    reports in place.
    """
    watch = _DrainWatch(ctx, reports, message, final_message, logoff_grace)
    while True:
        now = ctx.server_now()
        if message:
            watch.send_messages(now)
        left = watch.note_empty_hosts()
        if not watch.sessions:
            break
        if watch.timeout_at is None and _elapsed(ctx, watch.started) >= drain_timeout:
            if on_timeout != "logoff":
                watch.finish()
                return True
            watch.timeout_at = now
        if watch.timeout_at is not None and watch.warn_and_log_off(now):
            watch.finish()
            return True
        if deadline.expired():
            watch.finish()
            raise TimeoutError(
                "Timed out after %ss (real time) waiting for users to leave %d hosts; %d users left. The hosts stay "
                "drained." % (int(deadline.timeout), len(left), len(watch.sessions)),
                partial={"session_hosts": sorted(reports.values(), key=lambda r: r["name"])})
        ctx.sleep(min(poll_interval, max(deadline.remaining(), 0.0)))
        watch.refresh()
    watch.finish()
    return False


def _finish_counts(reports, start_keys, sessions, logged_off):
    for report in reports.values():
        report["sessions_left"] = 0
    for key in sessions:
        reports[key[0]]["sessions_left"] += 1
    for key in start_keys:
        if key not in sessions and key not in logged_off:
            reports[key[0]]["ended_by_themselves"] += 1


def remove_hosts(ctx, reports, vm_action, check_mode, poll_deadline):
    """Remove the empty hosts of ``reports`` from the pool and apply ``vm_action`` to their VMs."""
    changed = False
    pollers = []
    for report in sorted(reports.values(), key=lambda r: r["name"]):
        if report["sessions_left"]:
            report["state"] = "drained_with_users"
            continue
        if report["in_pool_at_start"]:
            if not check_mode:
                ctx.requests += 1
                with ignore_not_found():
                    ctx.desktop.session_hosts.delete(ctx.resource_group, ctx.host_pool, report["session_host_name"])
            report["removed"] = True
            changed = True
        report["state"] = "removed"
        if vm_action == "none":
            continue
        vm = _get_vm(ctx, report)
        if vm is None:
            report["vm_action"] = "already gone" if vm_action == "delete" else None
            continue
        if vm_action == "deallocate" and power_state(vm) == "deallocated":
            continue
        report["vm_action"] = "deleted" if vm_action == "delete" else "deallocated"
        changed = True
        if check_mode:
            continue
        ctx.requests += 1
        group = _vm_resource_group(ctx, report)
        begin = ctx.compute.virtual_machines.begin_delete if vm_action == "delete" else \
            ctx.compute.virtual_machines.begin_deallocate
        start = functools.partial(begin, group, vm["name"])
        operation = "%s the VM of session host '%s'" % (vm_action, report["name"])
        pollers.append((operation, start_operation(start, operation), start))
    # all LROs run at once; waiting on them one after the other costs only the longest one
    for operation, poller, start in pollers:
        with ignore_not_found():
            wait_operation(poller, poll_deadline, operation, restart=start,
                           partial=lambda: {"session_hosts": sorted(reports.values(), key=lambda r: r["name"])})
    return changed


def _vm_name(report):
    if report.get("vm_id"):
        return report["vm_id"].rstrip("/").rsplit("/", 1)[-1]
    return report["name"]


def _vm_resource_group(ctx, report):
    """The VM's own resource group (session-host VMs may live apart from their host pool)."""
    with contextlib.suppress(ValueError):  # no id, or not an ARM id: the pool's resource group
        return parse_resource_id(report.get("vm_id"))["resource_group"] or ctx.resource_group
    return ctx.resource_group


def _get_vm(ctx, report):
    ctx.requests += 1
    return find_vm(ctx.compute, _vm_resource_group(ctx, report), _vm_name(report))


def run_drain(ctx, names, state, message=None, wait=True, drain_timeout=3600, on_timeout="fail",
              logoff_grace=600, final_message=None, vm_action="none", poll_interval=15, timeout=None,
              check_mode=False):
    """Apply ``state`` to the session hosts ``names``; returns ``(changed, result dict)``.

    Raises PreconditionError (``on_timeout: fail`` with users left) and TimeoutError (real-time
    bound) with the per-host reports in ``partial``.
    """
    found, reports = _host_reports(ctx, names, state)
    present = {name: report for name, report in reports.items() if report["in_pool_at_start"]}
    changed = False
    allow = state == "undrained"
    for report in present.values():
        changed |= set_allow_new_session(ctx, report, allow, check_mode)
        report["state"] = "in_service" if allow else "drained"
    if allow:
        return changed, _result(reports, timed_out=False)
    if check_mode:
        changed |= _preview(ctx, reports, found, state, vm_action)
        return changed, _result(reports, timed_out=False)

    deadline = Deadline(timeout if timeout is not None else drain_timeout + logoff_grace + 1800, clock=ctx.clock)
    timed_out = False
    if present and (wait or state == "removed"):
        timed_out = drain_and_wait(ctx, present, message, drain_timeout, on_timeout, logoff_grace,
                                   _final_message(final_message, logoff_grace), poll_interval, deadline)
        changed |= any(report["logged_off"] for report in present.values())
    elif present and message:
        _message_once(ctx, present, message)

    if state == "removed":
        changed |= remove_hosts(ctx, reports, vm_action, False, deadline)
    result = _result(reports, timed_out)
    if timed_out and on_timeout == "fail":
        busy = [r["name"] for r in result["session_hosts"] if r["sessions_left"]]
        raise PreconditionError(
            "users were still signed in to %s after drain_timeout (%ss on the ARM clock); the hosts stay drained "
            "and nobody was logged off. Run again to keep waiting, or use on_timeout=logoff to sign them out "
            "after a warning." % (", ".join(busy), drain_timeout), partial=dict(result, changed=changed))
    return changed, result


def _final_message(final_message, logoff_grace):
    """The warning before a logoff: the user's title and body, or ours naming the grace in minutes."""
    final = final_message or {}
    return {"title": final.get("title") or DEFAULT_FINAL_TITLE,
            "body": final.get("body") or DEFAULT_FINAL_BODY % max(1, int(round(logoff_grace / 60.0)))}


def _host_reports(ctx, names, state):
    """``(session hosts found by short name, per-host reports)``; unknown names fail unless removing."""
    session_hosts = list_session_hosts(ctx.desktop, ctx.resource_group, ctx.host_pool)
    ctx.requests += 1
    found, missing = match_hosts(session_hosts, names)
    if missing and state != "removed":
        raise NotFoundError("session hosts not in host pool %s: %s" % (ctx.host_pool, ", ".join(missing)),
                            hint="Use the VM names or the session host names hostpool_info returns.")
    reports = {short_name(name): _new_report(short_name(name), found.get(short_name(name))) for name in names}
    for name in missing:
        reports[name]["state"] = "absent"
    return found, reports


def _preview(ctx, reports, found, state, vm_action):
    """Check mode: the sessions each host has now, and what removing the hosts would do."""
    changed = False
    for name, host in found.items():
        reports[name]["sessions_at_start"] = int(((host.get("properties") or {}).get("sessions")) or 0)
        reports[name]["sessions_left"] = reports[name]["sessions_at_start"]
    if state == "removed":
        changed = remove_hosts(ctx, reports, vm_action, True, None)
        for report in reports.values():
            if report["sessions_left"]:
                report["state"] = "would wait for users"
    return changed


def _message_once(ctx, present, message):
    """``wait: false``: send the message to the sessions there are now, and count them."""
    sessions = _on_hosts(list_user_sessions(ctx), set(present))
    for key, session in sessions.items():
        present[key[0]]["sessions_at_start"] += 1
        present[key[0]]["sessions_left"] += 1
        if send_message(ctx, key, session, message["title"], message["body"]):
            present[key[0]]["messages_sent"] += 1


def _result(reports, timed_out):
    rows = sorted(reports.values(), key=lambda r: r["name"])
    return {
        "session_hosts": rows,
        "timed_out": timed_out,
        "users_left": sum(r["sessions_left"] for r in rows),
        "logged_off": sum(r["logged_off"] for r in rows),
        "messages_sent": sum(r["messages_sent"] for r in rows),
    }


def check_message(message, option="message"):
    if message is None:
        return None
    if not message.get("title") or not message.get("body"):
        raise ValueError("%s needs both title and body" % option)
    interval = message.get("repeat_interval") or 0
    if interval < 0:
        raise ValueError("%s.repeat_interval must be >= 0 seconds (0 sends the message once)" % option)
    return message
