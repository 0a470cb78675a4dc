# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Rolling-redeploy planner: pure functions, no Azure calls.

A rollout brings every session host of a pooled host pool onto one target image version. It is
driven as a loop of *steps*; each step is planned from the real state of the pool, so a re-run
after a crash continues where the last run stopped. ``plan_step`` answers, for one moment:

* which hosts are outdated (their VM does not run the target version),
* which new hosts to deploy now (``deploy``): never more than ``desired_hosts + surge`` hosts in
  the pool, never more new hosts than outdated ones to replace,
* which outdated hosts to retire now (``retire``: drain, wait until empty, remove): hosts that are
  already out of service first (drained or not Available: retiring them costs no capacity), then
  in-service hosts, fewest sessions first, only as many as keep the in-service count at or above
  the capacity floor and leave seats (``maxSessionLimit`` per in-service host) for every user now
  in the pool,
* whether the rollout is ``complete``, ``in_progress``, ``blocked`` (nothing can move without an
  operator: the reason says what) or ``refused`` (personal pool, impossible policy).

Definitions (the words the results use):

* *in service*: session host status ``Available`` and ``allowNewSession`` true: a host a new
  user can log on to. This is what the capacity floor counts.
* *desired hosts* (N): the number of hosts the pool has when the rollout starts; the rollout ends
  with N hosts on the target version. The role keeps N in the lock tag so that a resumed rollout
  (when the pool holds surge hosts) aims at the same number.
* *surge* (S): how many hosts above N the pool may hold during the rollout; an integer or a
  percentage of N (rounded up).
* *max_unavailable* (U): how many in-service hosts the rollout may take away below the in-service
  count at the start; an integer or a percentage of N (rounded down).
* *capacity floor* (F): ``min_available_hosts`` when given, else the in-service count at the start
  minus U. It must be reachable: F <= N + S, and either S > 0 or F < in-service count.

Naming of new hosts: ``<prefix>-<n>``. The prefix is ``name_prefix`` when given, else the prefix
most existing hosts share (``avd-demo`` for ``avd-demo-0..2``). ``n`` continues after the highest
number in use by any session host *or any VM of the resource group* with that prefix, keeping the
zero-padding width the existing names use; numbers are never reused within one plan, so names
are deterministic for a given state and never clash. A name must stay a valid Windows computer
name (1-15 characters).
"""

from __future__ import annotations

import math
import re

PERSONAL = "personal"
# power states of a VM a rollout took out of the pool and kept (vm_action deallocate)
RETIRED_POWER_STATES = ("stopping", "stopped", "deallocating", "deallocated")
AVAILABLE = "available"

_NUMBERED = re.compile(r"^(?P<prefix>.+?)-(?P<number>\d+)$")
_PERCENT = re.compile(r"^\s*(\d{1,3})\s*%\s*$")
_COMPUTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,14}$")
MAX_COMPUTER_NAME = 15


class PlanError(ValueError):
    """The policy or the input cannot give a plan; the message names the option and the rule."""


# --------------------------------------------------------------------------- small helpers

def parse_count(value, total, option, round_up):
    """``value`` as a number of hosts: an int, a digit string, or a percentage of ``total``.

    Percentages round up for surge (``round_up=True``) and down for max_unavailable, the way a
    Kubernetes rolling update does, so that ``25%`` of 3 hosts is a surge of 1 and an
    unavailability of 0.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise PlanError("%s must be a number of hosts or a percentage such as '25%%', got %r" % (option, value))
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        match = _PERCENT.match(text)
        if match:
            percent = int(match.group(1))
            if percent > 100:
                raise PlanError("%s must be a percentage between 0%% and 100%%, got %r" % (option, value))
            exact = total * percent / 100.0
            return int(math.ceil(exact - 1e-9)) if round_up else int(math.floor(exact + 1e-9))
        if not text.isdigit():
            raise PlanError("%s must be a number of hosts or a percentage such as '25%%', got %r" % (option, value))
        number = int(text)
    if number < 0:
        raise PlanError("%s must be >= 0, got %r" % (option, value))
    return number


def short_name(name):
    """``vm`` from ``hostpool/vm.domain``, ``vm.domain`` or ``vm``, lower-case."""
    name = (name or "").rsplit("/", 1)[-1]
    return name.split(".", 1)[0].lower()


def normalize_id(resource_id):
    return (resource_id or "").strip().rstrip("/").lower()


def version_id_of(definition_id, version):
    if not definition_id or not version:
        return None
    return normalize_id("%s/versions/%s" % (definition_id, version))


def host_version_id(host):
    """The gallery image version id a host's VM runs, normalised, or None when unknown."""
    if host.get("image_version_id"):
        return normalize_id(host["image_version_id"])
    return version_id_of(host.get("image_definition_id"), host.get("image_version"))


def is_outdated(host, target_version_id):
    return host_version_id(host) != normalize_id(target_version_id)


def in_service(host):
    return (host.get("status") or "").lower() == AVAILABLE and bool(host.get("allow_new_session"))


# --------------------------------------------------------------------------- naming

def name_prefix_of(names):
    """The prefix most numbered names share (ties: alphabetical), or None."""
    counts = {}
    for name in names:
        match = _NUMBERED.match(short_name(name))
        if match:
            counts[match.group("prefix")] = counts.get(match.group("prefix"), 0) + 1
    if not counts:
        return None
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]


def next_host_names(count, prefix, taken_names):
    """``count`` new names ``<prefix>-<n>`` after the highest ``n`` in ``taken_names``."""
    if count <= 0:
        return []
    prefix = (prefix or "").strip().lower()
    if not prefix or not re.match(r"^[a-z0-9][a-z0-9-]*$", prefix) or prefix.endswith("-"):
        raise PlanError("name_prefix must be letters, digits and hyphens, start with a letter or digit and "
                        "not end with a hyphen, got %r" % (prefix,))
    highest = -1
    width = 1
    taken = set()
    for name in taken_names:
        name = short_name(name)
        taken.add(name)
        match = _NUMBERED.match(name)
        if match and match.group("prefix") == prefix:
            number = int(match.group("number"))
            if number > highest:
                highest = number
            if match.group("number").startswith("0") and len(match.group("number")) > 1:
                width = max(width, len(match.group("number")))
    names = []
    number = highest + 1
    while len(names) < count:
        candidate = "%s-%0*d" % (prefix, width, number)
        number += 1
        if candidate in taken:
            continue
        if len(candidate) > MAX_COMPUTER_NAME:
            raise PlanError("new session host name %r is longer than %d characters (a Windows computer name); "
                            "set a shorter name_prefix" % (candidate, MAX_COMPUTER_NAME))
        names.append(candidate)
    return names


# --------------------------------------------------------------------------- policy

def resolve_policy(desired_hosts, in_service_at_start, surge=1, max_unavailable=0, min_available_hosts=None):
    """Numbers of the policy for a pool of ``desired_hosts``; raises PlanError when it cannot progress.

    A blank value (an AWX survey question left empty sends ``""``) means the default."""
    surge, max_unavailable, min_available_hosts = (
        None if isinstance(value, str) and not value.strip() else value
        for value in (surge, max_unavailable, min_available_hosts))
    surge_hosts = parse_count(surge if surge is not None else 1, desired_hosts, "surge", round_up=True)
    unavailable_hosts = parse_count(max_unavailable if max_unavailable is not None else 0, desired_hosts,
                                    "max_unavailable", round_up=False)
    if surge_hosts == 0 and unavailable_hosts == 0:
        raise PlanError("surge and max_unavailable cannot both be 0: the rollout could neither add a new host "
                        "nor take an old one out of service")
    if min_available_hosts is None:
        floor = max(0, in_service_at_start - unavailable_hosts)
    else:
        floor = parse_count(min_available_hosts, desired_hosts, "min_available_hosts", round_up=True)
    if floor > desired_hosts + surge_hosts:
        raise PlanError("min_available_hosts %d cannot be held: the pool has %d hosts and surge allows %d more"
                        % (floor, desired_hosts, surge_hosts))
    if surge_hosts == 0 and floor >= desired_hosts:
        raise PlanError("min_available_hosts %d with surge 0 leaves no host that may be drained in a pool of %d; "
                        "allow a surge or lower the floor" % (floor, desired_hosts))
    return {"surge": surge_hosts, "max_unavailable": unavailable_hosts, "capacity_floor": floor}


# --------------------------------------------------------------------------- the planner

def _retire_order(host):
    # Hosts that serve nobody new first, then the emptiest, then by name for a stable order.
    return (1 if in_service(host) else 0, int(host.get("sessions") or 0), short_name(host.get("name")))


def plan_step(pool, hosts, target_version_id, surge=1, max_unavailable=0, min_available_hosts=None,
              desired_hosts=None, in_service_at_start=None, rollout_id=None, pending_vms=(),
              taken_names=(), name_prefix=None):
    """The next step of the rollout of ``pool`` to ``target_version_id``.

    ``hosts``: session hosts as ``hostpool_info`` returns them (``name``, ``status``,
    ``allow_new_session``, ``sessions``, ``image_version_id`` or ``image_definition_id`` +
    ``image_version``, ``rollout`` = the VM's ``goldenimage.rollout`` tag).
    ``pending_vms``: VMs made by this rollout (tag ``goldenimage.rollout`` == ``rollout_id``) that
    are not session hosts yet, as ``{"name", "image_version_id", "power_state"}``; they are deployed
    again (re-registered) before any new name is used. A stopped or deallocated one is not: a
    rollout that removed it from the pool with ``vm_action: deallocate`` (a rollback from this
    version) left it so, and starting it again would take the pool above its surge.
    ``taken_names``: every VM name of the resource group (new names never clash with them).
    ``desired_hosts`` / ``in_service_at_start``: from the lock tag when resuming, else None (the
    current numbers).
    """
    base = {
        "target_version_id": target_version_id,
        "deploy": [],
        "retire": [],
        "waiting_for": [],
        "outdated": [],
        "current": [],
    }
    if _refused(pool, target_version_id, base):
        return base
    outdated, current, serving = _classify(hosts, target_version_id, base)
    base["desired_hosts"] = desired_hosts if desired_hosts is not None else len(hosts)
    base["in_service_at_start"] = in_service_at_start if in_service_at_start is not None else len(serving)
    base.update(resolve_policy(base["desired_hosts"], base["in_service_at_start"], surge, max_unavailable,
                               min_available_hosts))

    # New hosts of this rollout that are not serving yet: deploy them again (idempotent) and wait.
    unregistered = _unregistered(pending_vms, target_version_id)
    waiting = sorted(short_name(h.get("name")) for h in current
                     if not in_service(h) and rollout_id and h.get("rollout") == rollout_id)
    base["waiting_for"] = waiting + [name for name in unregistered if name not in waiting]

    if not outdated and len(current) >= base["desired_hosts"] and not base["waiting_for"]:
        base.update(status="complete", reason="every session host runs the target version",
                    batches_remaining=0)
        return base

    base["deploy"] = base["waiting_for"] + _new_host_names(base, hosts, current, unregistered, taken_names,
                                                           name_prefix)
    short_of_seats = _plan_retire(base, pool, hosts, outdated, serving)
    per_batch = max(1, base["surge"] + max(0, base["in_service_at_start"] - base["capacity_floor"]))
    base["batches_remaining"] = int(math.ceil(len(outdated) / float(per_batch))) if outdated else 1

    if base["deploy"] or base["retire"]:
        base.update(status="in_progress", reason=describe(base))
    else:
        base.update(status="blocked", reason=_blocked_reason(base, pool, current, short_of_seats))
    return base


def _refused(pool, target_version_id, base):
    """Fill ``base`` with the refusal of a Personal pool (True); raise when the target is unknown."""
    pool_type = (pool.get("host_pool_type") or pool.get("hostPoolType") or "").lower()
    if pool_type == PERSONAL:
        base.update(status="refused", reason="host pool %s is a Personal pool: its hosts hold per-user state and "
                                             "are never redeployed by a rollout" % pool.get("name"))
        return True
    if not target_version_id:
        raise PlanError("the target image version is unknown: the pool follows no marker, or the marker is on no "
                        "version; set image_version_id or bind the pool to a marker")
    return False


def _classify(hosts, target_version_id, base):
    """``(outdated, current, serving)`` hosts; their names and counts go into ``base``."""
    outdated = [h for h in hosts if is_outdated(h, target_version_id)]
    current = [h for h in hosts if not is_outdated(h, target_version_id)]
    serving = [h for h in hosts if in_service(h)]
    base.update(
        hosts=len(hosts),
        in_service=len(serving),
        outdated=sorted(short_name(h.get("name")) for h in outdated),
        current=sorted(short_name(h.get("name")) for h in current),
        sessions_on_outdated=sum(int(h.get("sessions") or 0) for h in outdated),
    )
    return outdated, current, serving


def _unregistered(pending_vms, target_version_id):
    """Names of this rollout's VMs on the target version that are not session hosts yet and not retired."""
    return sorted(short_name(vm["name"]) for vm in pending_vms
                  if normalize_id(vm.get("image_version_id")) == normalize_id(target_version_id)
                  and (vm.get("power_state") or "").lower() not in RETIRED_POWER_STATES)


def _new_host_names(plan, hosts, current, unregistered, taken_names, name_prefix):
    """Names of new hosts to deploy: room under N + S, and never more than the pool still needs."""
    desired = plan["desired_hosts"]
    room = desired + plan["surge"] - len(hosts) - len(unregistered)
    needed = desired - len(current) - len(unregistered)
    new_count = max(0, min(room, needed))
    if not new_count:
        return []
    taken = set(short_name(n) for n in taken_names) | set(short_name(h.get("name")) for h in hosts)
    prefix = name_prefix or name_prefix_of([h.get("name") for h in hosts]) or name_prefix_of(taken)
    if not prefix:
        raise PlanError("cannot name new session hosts: no existing host name looks like <prefix>-<n>; "
                        "set name_prefix")
    return next_host_names(new_count, prefix, taken)


def _plan_retire(plan, pool, hosts, outdated, serving):
    """Fill ``retire`` and ``sessions`` of ``plan``; return the hosts held back for lack of seats.

    Out-of-service outdated hosts cost nothing; in-service ones only above the floor. A pool may
    not shrink below N - U hosts either (U counts whole hosts, not sessions). Nor below the seats
    its users need: every user now in the pool (also those on drained hosts, who sign in again
    elsewhere) must find a seat on the hosts left in service.
    """
    retire = []
    spare = len(serving) - plan["capacity_floor"]
    limit = _int(pool.get("max_session_limit") or pool.get("maxSessionLimit"))
    users = sum(int(h.get("sessions") or 0) for h in hosts)
    seats = limit * len(serving) if limit else None
    short_of_seats = []
    for host in sorted(outdated, key=_retire_order):
        if in_service(host):
            if spare <= 0:
                continue
            if seats is not None and seats - limit < users:
                short_of_seats.append(short_name(host.get("name")))
                continue
            spare -= 1
            if seats is not None:
                seats -= limit
        retire.append(short_name(host.get("name")))
    plan["retire"] = retire
    plan["sessions"] = users
    return short_of_seats


def _blocked_reason(plan, pool, current, short_of_seats):
    """Why nothing can be added or drained, and what the operator can do."""
    blockers = []
    not_serving_new = [short_name(h.get("name")) for h in current if not in_service(h)]
    if not_serving_new:
        blockers.append("up-to-date hosts not in service: %s" % ", ".join(sorted(not_serving_new)))
    blockers.append("%d hosts in service, capacity floor %d, pool at %d of at most %d hosts"
                    % (plan["in_service"], plan["capacity_floor"], plan["hosts"],
                       plan["desired_hosts"] + plan["surge"]))
    if short_of_seats:
        limit = _int(pool.get("max_session_limit") or pool.get("maxSessionLimit"))
        blockers.append("draining %s would leave %d seats (maxSessionLimit %d on each host in service) for "
                        "the %d users in the pool" % (short_of_seats[0], limit * (plan["in_service"] - 1), limit,
                                                      plan["sessions"]))
        advice = "allow a surge (new hosts bring seats first) or roll when fewer users are signed in"
    else:
        advice = "bring the listed hosts back into service, raise surge or lower min_available_hosts"
    return ("no host can be added or drained without going below the capacity floor or above "
            "the surge limit, or leaving users without a seat (%s); %s" % ("; ".join(blockers), advice))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe(plan):
    """One progress line an operator can follow in AWX output."""
    parts = ["%d of %d hosts outdated" % (len(plan.get("outdated") or []), plan.get("hosts", 0)),
             "%d in service (floor %d)" % (plan.get("in_service", 0), plan.get("capacity_floor", 0))]
    if plan.get("deploy"):
        parts.append("deploy %s" % ", ".join(plan["deploy"]))
    if plan.get("retire"):
        parts.append("retire %s" % ", ".join(plan["retire"]))
    if plan.get("sessions_on_outdated"):
        parts.append("%d users on outdated hosts" % plan["sessions_on_outdated"])
    return "; ".join(parts)
