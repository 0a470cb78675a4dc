# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Generalize a clone: pre-flight, local-account removal, sysprep, wait for stop, deallocate, generalize.

Only VMs that ``vm_clone`` made are ever touched: an original VM must never be sysprepped (sysprep
runs a limited number of times per Windows installation and the VM cannot be started again).
"""

from __future__ import annotations

import contextlib
import functools
import time

from ._errors import (
    AzureModuleError,
    PreconditionError,
    azure_errors,
    get_or_none,
)
from ._clone import is_clone_of
from ._guest_scripts import run_guest_op
from ._ids import parse_resource_id, same_id
from ._vm import get_vm, is_generalized, power_state
from ._wait import Deadline, wait_operation

TAG_ROLE = "goldenimage.role"
TAG_CLONE_OF = "goldenimage.clone-of"
TAG_SYSPREP_STARTED = "goldenimage.sysprep-started"

LOG_TAIL_LINES = 40
# Read the sysprep logs every this many instance-view polls while waiting for the shutdown.
LOG_CHECK_EVERY = 4
LOG_READ_TIMEOUT = 300


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

def refusal_reason(vm):
    """Why ``vm`` must not be sysprepped, or None when it is a clone made by vm_clone."""
    tags = (vm or {}).get("tags") or {}
    role = tags.get(TAG_ROLE)
    name = (vm or {}).get("name")
    if role == "original":
        return ("VM '%s' is tagged 'goldenimage.role: original': an original VM is never sysprepped. "
                "Clone it with goldenimage.avd.vm_clone and generalize the clone." % name)
    if role != "clone" or not tags.get(TAG_CLONE_OF):
        return ("VM '%s' was not made by goldenimage.avd.vm_clone (it lacks the tags 'goldenimage.role: clone' "
                "and 'goldenimage.clone-of'); refusing to sysprep it. Clone the VM and generalize the clone."
                % name)
    if same_id(tags[TAG_CLONE_OF], (vm or {}).get("id")):
        return "VM '%s' claims to be a clone of itself; refusing to sysprep it." % name
    return None


def os_disk_refusal_reason(vm, disk):
    """Why ``vm`` must not be sysprepped judging by its OS disk ``disk`` (wire dict or None), or None.

    The VM's tags alone are not proof: tags are easy to copy onto the wrong VM. vm_clone tags the OS disk it
    makes with the same ``goldenimage.role: clone`` and ``goldenimage.clone-of``; an original's disk has not.
    """
    name = (vm or {}).get("name")
    source = ((vm or {}).get("tags") or {}).get(TAG_CLONE_OF)
    if disk is None:
        return ("The OS disk of VM '%s' could not be found; refusing to sysprep a VM whose disk is not a copy "
                "made by goldenimage.avd.vm_clone." % name)
    if not source or not is_clone_of(disk, source):
        return ("VM '%s' is tagged as a clone, but its OS disk '%s' was not made by goldenimage.avd.vm_clone for "
                "%s (disk tags 'goldenimage.role: clone' and 'goldenimage.clone-of' missing or different); refusing "
                "to sysprep it: it may be an original VM with copied tags." % (name, disk.get("name"), source))
    return None


def sysprep_started(vm):
    return ((vm or {}).get("tags") or {}).get(TAG_SYSPREP_STARTED)


def plan_steps(vm, remove_local_accounts):
    """The steps still to do for ``vm`` (already checked by ``refusal_reason``), in order."""
    if is_generalized(vm):
        return []
    state = power_state(vm)
    started = sysprep_started(vm)
    if started and state in ("stopped", "deallocated"):
        return ["deallocate", "generalize"] if state == "stopped" else ["generalize"]
    if started:
        return ["wait_for_stop", "deallocate", "generalize"]
    steps = []
    if state not in ("running", "starting"):
        steps.append("start")
    steps.append("preflight")
    if remove_local_accounts:
        steps.append("remove_local_accounts")
    steps += ["sysprep", "wait_for_stop", "deallocate", "generalize"]
    return steps


def keep_list(keep_accounts, admin_username):
    """The accounts to keep: ``keep_accounts`` when given, else the provisioning admin."""
    if keep_accounts:
        return list(dict.fromkeys(keep_accounts))
    if admin_username:
        return [admin_username]
    return []


BUILTIN_ACCOUNTS = ("administrator", "defaultaccount", "guest", "wdagutilityaccount")


def accounts_left(report, keep_accounts, remove_local_accounts):
    """The local accounts (lower case) still in the guest when sysprep runs, judging by the pre-flight report:
    all of them when none are removed, else the built-in ones and ``keep_accounts``."""
    local = {str(name).lower() for name in report.get("localAccounts") or []}
    local |= {str(entry.get("user")).lower() for entry in report.get("appxPerUser") or [] if isinstance(entry, dict)}
    local |= {str(name).lower() for name in report.get("profiles") or []}
    if not remove_local_accounts:
        return local
    keep = {name.lower() for name in keep_accounts} | set(BUILTIN_ACCOUNTS)
    return {name for name in local if name in keep}


def _machine_problems(report):
    """Blockers of the machine itself: BitLocker, a pending reboot, the sysprep count, a generalized guest."""
    problems = []
    if str(report.get("bitlocker") or "Off").lower() != "off":
        problems.append("BitLocker is on (decrypt the OS volume on the original VM)")
    if report.get("pendingReboot"):
        problems.append("a reboot is pending (restart the original VM and build again)")
    count, limit = report.get("sysprepCount"), report.get("sysprepLimit")
    if isinstance(count, int) and isinstance(limit, int) and count >= limit:
        problems.append("sysprep already ran %d times on this Windows installation (limit %d)" % (count, limit))
    if report.get("generalized"):
        problems.append("the guest is already generalized in Windows but not in Azure")
    return problems


def _account_problems(report, left, admin):
    """Blockers of the accounts ``left`` when sysprep runs: per-user AppX packages, profiles but the admin's."""
    problems = []
    appx = [entry for entry in report.get("appxPerUser") or []
            if isinstance(entry, dict) and (entry.get("user") or "").lower() in left]
    if appx:
        problems.append("AppX packages installed for single users only: %s (remove them or provision them for "
                        "all users)" % ", ".join("%s (%s)" % (e.get("package"), e.get("user")) for e in appx))
    profiles = [str(name) for name in report.get("profiles") or []
                if str(name).lower() in left and str(name).lower() not in BUILTIN_ACCOUNTS
                and str(name).lower() != admin]
    if profiles:
        problems.append("user profiles that stay in the image: %s (remove these local accounts and their profiles: "
                        "remove_local_accounts=true without them in keep_accounts)" % ", ".join(profiles))
    return problems


def preflight_problems(report, keep_accounts=(), remove_local_accounts=True, admin=None):
    """What would make sysprep fail, from the pre-flight report and what the run does before sysprep: accounts
    that stay (``keep_accounts``, or all when ``remove_local_accounts`` is false) keep their per-user AppX
    packages and, but for the provisioning ``admin`` (the account sysprep runs as), their profiles."""
    if not isinstance(report, dict):
        return ["the pre-flight script returned no report"]
    machine = _machine_problems(report)
    left = accounts_left(report, keep_accounts, remove_local_accounts)
    accounts = _account_problems(report, left, (admin or report.get("adminAccount") or "").lower())
    return machine + accounts


def blocker_report(name, problems):
    """The message of a run stopped by the pre-flight: one line per blocker."""
    return ("Pre-flight checks in VM '%s' found what would make sysprep fail; sysprep was not started:\n%s"
            % (name, "\n".join("- %s" % problem for problem in problems)))


def log_lines(report, key):
    if not isinstance(report, dict):
        return []
    value = report.get(key) or []
    if isinstance(value, str):
        value = value.splitlines()
    return [str(line) for line in value if line is not None]


def log_tail(report, lines=LOG_TAIL_LINES):
    """Readable tail of setuperr.log and setupact.log from the read-sysprep-logs report."""
    parts = []
    for key, title in (("setuperr", "setuperr.log"), ("setupact", "setupact.log")):
        value = log_lines(report, key)[-lines:]
        if value:
            parts.append("%s:\n%s" % (title, "\n".join(value)))
    return "\n".join(parts)


def sysprep_failed(report, baseline):
    """True when setuperr.log holds lines it did not hold before sysprep was started."""
    current = log_lines(report, "setuperr")
    return bool(current) and current != log_lines(baseline, "setuperr")


class SysprepFailedError(AzureModuleError):
    hint = ("Sysprep failed inside the clone; the log tail names the cause (often a per-user AppX package or a "
            "leftover profile). Fix it on the original VM, remove the clone (goldenimage.avd.vm_clone "
            "state=absent) and build again.")


class SysprepBlockedError(PreconditionError):
    hint = ("The pre-flight found what makes sysprep fail, so sysprep was not started (it would fail after about "
            "10 minutes). Fix it on the original VM, remove the clone (goldenimage.avd.vm_clone state=absent) and "
            "build again; or set ignore_preflight_blockers=true to run sysprep anyway.")


# ---------------------------------------------------------------------------------------------
# Azure operations
# ---------------------------------------------------------------------------------------------

class Sysprepper:
    def __init__(self, compute, to_wire, resource_group, name, server_now, sleep=time.sleep):
        self.compute = compute
        self.to_wire = to_wire
        self.resource_group = resource_group
        self.name = name
        self.server_now = server_now
        self.sleep = sleep
        self.done = []

    def get_vm(self):
        return get_vm(self.compute, self.resource_group, self.name)

    def get_os_disk(self, vm):
        """The OS disk of ``vm`` (wire dict), or None when it has no managed OS disk or it is gone."""
        disk_id = ((((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {})
                   .get("managedDisk") or {}).get("id")
        if not disk_id:
            return None
        parts = parse_resource_id(disk_id)
        found = get_or_none(self.compute.disks.get, parts["resource_group"], parts["name"])
        return None if found is None else self.to_wire(found)

    def admin_username_of_source(self, vm):
        """The provisioning admin of the original the clone was made of (a clone has no osProfile)."""
        own = ((vm.get("properties") or {}).get("osProfile") or {}).get("adminUsername")
        if own:
            return own
        source_id = ((vm.get("tags") or {}).get(TAG_CLONE_OF))
        if not source_id:
            return None
        # best effort: the original may be gone or out of reach; the guest script then keeps no admin by name
        with contextlib.suppress(Exception):
            parts = parse_resource_id(source_id)
            source = self.to_wire(self.compute.virtual_machines.get(parts["resource_group"], parts["name"]))
            return ((source.get("properties") or {}).get("osProfile") or {}).get("adminUsername")
        return None

    def _partial(self):
        return {"steps_done": list(self.done)}

    def _wait(self, start, deadline, operation):
        """Start ``operation`` with ``start()`` and wait; it is safe to repeat (start, tags, deallocate), so
        a transient failure starts it again (``wait_operation``)."""
        return wait_operation(start, deadline, "%s VM '%s'" % (operation, self.name), partial=self._partial,
                              restart=True)

    def run_op(self, op, deadline, **parameters):
        """Run a guest script through Run Command; returns ``(report, stdout, stderr)``."""
        with azure_errors("run the guest script '%s' in VM '%s'" % (op, self.name), partial=self._partial):
            return run_guest_op(self.compute, self.to_wire, self.resource_group, self.name, op, deadline,
                                **parameters)

    def start(self, deadline):
        self._wait(functools.partial(self.compute.virtual_machines.begin_start, self.resource_group, self.name),
                   deadline, "start")

    def mark_sysprep_started(self, vm, deadline):
        tags = dict(vm.get("tags") or {})
        tags[TAG_SYSPREP_STARTED] = self.server_now().strftime("%Y-%m-%dT%H:%M:%SZ")
        self._wait(functools.partial(self.compute.virtual_machines.begin_update, self.resource_group, self.name,
                                     {"tags": tags}), deadline, "tag")

    def wait_for_stop(self, deadline, poll_interval, baseline=None):
        """Poll the instance view until the guest has shut down.

        Every ``LOG_CHECK_EVERY`` polls the sysprep logs are read too: a failed sysprep leaves the VM
        running with new lines in setuperr.log, and waiting for the whole timeout would only hide it.
        """
        polls = 0
        while True:
            vm = self.get_vm()
            state = power_state(vm)
            if state in ("stopped", "deallocated"):
                return state
            polls += 1
            if polls % LOG_CHECK_EVERY == 0 or deadline.expired():
                report = self.read_logs(Deadline(min(LOG_READ_TIMEOUT, max(deadline.remaining(), 60))))
                if report is not None and sysprep_failed(report, baseline):
                    # The VM may have stopped meanwhile; only a running VM means sysprep failed.
                    if power_state(self.get_vm()) == "running":
                        tail = log_tail(report)
                        raise SysprepFailedError(
                            "Sysprep failed in VM '%s'; it is still running and not generalized.\n%s" % (
                                self.name, tail), partial=dict(self._partial(), sysprep_log_tail=tail))
                if deadline.expired():
                    tail = log_tail(report)
                    raise SysprepFailedError(
                        "Sysprep did not shut VM '%s' down within %ss (power state: %s).%s" % (
                            self.name, int(deadline.timeout), state,
                            ("\nTail of the sysprep logs:\n" + tail) if tail else
                            " The sysprep logs could not be read."),
                        partial=dict(self._partial(), sysprep_log_tail=tail))
            self.sleep(max(0.0, min(poll_interval, deadline.remaining())))

    def read_logs(self, deadline):
        """The read-sysprep-logs report, or None when it cannot be read (VM stopping, agent busy)."""
        with contextlib.suppress(Exception):
            report, _stdout, _stderr = self.run_op("read-sysprep-logs", deadline, Lines=LOG_TAIL_LINES)
            return report if isinstance(report, dict) else None
        return None

    def deallocate(self, deadline):
        self._wait(functools.partial(self.compute.virtual_machines.begin_deallocate, self.resource_group, self.name),
                   deadline, "deallocate")

    def generalize(self):
        with azure_errors("generalize VM '%s'" % self.name, partial=self._partial):
            self.compute.virtual_machines.generalize(self.resource_group, self.name)

    def preflight(self, deadline, keep, options):
        """The pre-flight report and its blockers; raises ``SysprepBlockedError`` on blockers unless
        ``options["ignore_preflight_blockers"]``."""
        report, stdout, stderr = self.run_op("preflight", deadline)
        problems = preflight_problems(report, keep, options.get("remove_local_accounts", True),
                                      admin=options.get("admin"))
        if problems and not options.get("ignore_preflight_blockers"):
            raise SysprepBlockedError(blocker_report(self.name, problems), partial=dict(
                self._partial(), preflight=report or {"stdout": stdout, "stderr": stderr}, preflight_blockers=problems))
        return report, problems

    def execute(self, vm, steps, keep, deadline, poll_interval, options=None):
        """Run ``steps`` (from ``plan_steps``); returns a result dict. ``options``: ``remove_local_accounts``,
        ``admin`` (the provisioning admin) and ``ignore_preflight_blockers``."""
        options = options or {}
        result = {"removed_accounts": [], "kept_accounts": [], "preflight": None, "blockers": []}
        baseline = None
        for step in steps:
            if step == "start":
                self.start(deadline)
            elif step == "preflight":
                result["preflight"], result["blockers"] = self.preflight(deadline, keep, options)
            elif step == "remove_local_accounts":
                report, stdout, stderr = self.run_op("remove-local-accounts", deadline, KeepAccounts=keep)
                if not isinstance(report, dict):
                    raise AzureModuleError("Removing local accounts in VM '%s' gave no report (stderr: %s)." % (
                        self.name, (stderr or stdout).strip()[-500:]), partial=self._partial())
                result["removed_accounts"] = list(report.get("removed") or [])
                result["kept_accounts"] = list(report.get("kept") or [])
            elif step == "sysprep":
                baseline = self.read_logs(deadline)
                self.mark_sysprep_started(self.get_vm(), deadline)
                report, stdout, stderr = self.run_op("sysprep", deadline)
                if not isinstance(report, dict) or not report.get("started"):
                    tail = log_tail(self.read_logs(deadline))
                    raise SysprepFailedError("Sysprep did not start in VM '%s': %s\n%s" % (
                        self.name, (stderr or stdout).strip()[-500:], tail), partial=self._partial())
            elif step == "wait_for_stop":
                self.wait_for_stop(deadline, poll_interval, baseline)
            elif step == "deallocate":
                self.deallocate(deadline)
            elif step == "generalize":
                self.generalize()
            self.done.append(step)
        result["steps_done"] = list(self.done)
        return result
