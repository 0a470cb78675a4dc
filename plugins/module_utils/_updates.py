# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Install pending Windows updates in a running VM through Run Command (``windows_update``)."""

from __future__ import annotations

from ._errors import AzureModuleError, PreconditionError, azure_errors
from ._guest_scripts import run_guest_op
from ._module import to_wire
from ._vm import get_vm, is_generalized, power_state
from ._wait import wait_operation


def vm_ready_for_updates(compute, resource_group, name, check_mode):
    """The VM's power state; refuses a generalized VM, and (outside check mode) one that is not running."""
    vm = get_vm(compute, resource_group, name)
    state = power_state(vm)
    if is_generalized(vm):
        raise PreconditionError("VM '%s' is generalized; it cannot run, so no updates can be installed in it. "
                                "Update the original VM the image was built from." % name)
    if state != "running" and not check_mode:
        raise PreconditionError("VM '%s' is %s; Windows updates are installed in a running VM (start it with "
                                "goldenimage.avd.vm_power)." % (name, state))
    return state


def _guest_report(compute, resource_group, name, op, deadline, what, **parameters):
    report, stdout, stderr = run_guest_op(compute, to_wire, resource_group, name, op, deadline, **parameters)
    if not isinstance(report, dict):
        raise AzureModuleError("%s in VM '%s' gave no report: %s" % (what, name, (stderr or stdout)[-500:]))
    return report


def select_updates(report, updates):
    """The KB ids of the scan ``report`` to install: all pending ones, or those ``updates`` names by KB id or
    update GUID (``updates`` as ``_validate.check_update_ids`` returns them)."""
    pending = [str(kb) for kb in report.get("pendingUpdates") or []]
    if not updates:
        return pending
    wanted = {entry.upper() for entry in updates}
    guids = {str(item.get("kb")).upper(): str(item.get("id") or "").upper()
             for item in report.get("pendingUpdateIds") or [] if isinstance(item, dict)}
    return [kb for kb in pending if kb.upper() in wanted or guids.get(kb.upper()) in wanted]


def install_updates(compute, resource_group, name, updates, reboot, deadline):
    """Scan, install what is pending (or the KB ids / update GUIDs of ``updates``), restart when asked and allowed.

    Returns ``(changed, before, after, result)``; ``before``/``after`` are the pending updates for ``--diff``.
    """
    report = _guest_report(compute, resource_group, name, "preflight", deadline, "The update scan")
    pending = [str(kb) for kb in report.get("pendingUpdates") or []]
    to_install = select_updates(report, updates)
    result = dict(installed=[], to_install=to_install, pending_before=pending, reboot_required=False,
                  rebooted=False)
    if not to_install:
        return False, {"pending": pending}, {"pending": pending}, result
    report = _guest_report(compute, resource_group, name, "install-updates", deadline, "Installing updates",
                           Updates=list(updates))
    result["installed"] = list(report.get("installed") or [])
    result["reboot_required"] = bool(report.get("rebootRequired"))
    if result["reboot_required"] and reboot:
        # the updates are installed already: a timeout here reports them in its partial result
        operation = "restart VM '%s' after the updates" % name
        with azure_errors(operation, partial=result):
            poller = compute.virtual_machines.begin_restart(resource_group, name)
        wait_operation(poller, deadline, operation, partial=result)
        result["rebooted"] = True
    remaining = list(report.get("remaining") or [kb for kb in pending if kb not in result["installed"]])
    return bool(result["installed"]), {"pending": pending}, {"pending": remaining}, result
