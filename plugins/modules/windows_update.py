#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: windows_update
short_description: Install pending Windows updates in a running VM through Run Command
version_added: 0.1.0
description:
  - Installs the pending Windows updates of a running Windows VM (all of them, or the KB ids in
    O(updates)) with the Windows Update Agent, through the Azure Run Command action, and restarts the
    VM when an update asks for it and O(reboot=true).
  - This is the built-in update step of the C(goldenimage.avd.golden_image) role, run on the original
    VM before it is cloned.
  - Nothing pending gives C(changed=false).
  - Check mode runs nothing in the VM and reports C(changed=true) with empty RV(to_install). Finding the
    pending updates takes a guest script, and a Run Command is an Azure action (a write, which needs the
    Run Command permission), so a preview that promises to write nothing cannot scan.
  - A VM that is not running is refused, except in check mode, where it gives a warning (in a previewed
    play the task that would start it did not). A generalized VM is always refused.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description: Resource group of the VM.
    type: str
    required: true
  name:
    description: Name of the VM; it must be running.
    type: str
    required: true
  updates:
    description: KB ids to install (for example V(KB5046617)); all pending updates when empty.
    type: list
    elements: str
    default: []
  reboot:
    description: Restart the VM when an installed update requires it, so that it is applied before cloning.
    type: bool
    default: true
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
notes:
  - O(poll_interval) is accepted for symmetry; the waits of this module follow the C(Retry-After)
    interval of the Azure operations.
seealso:
  - module: goldenimage.avd.vm_power
"""

EXAMPLES = r"""
- name: Patch the original VM before building the next image version
  goldenimage.avd.windows_update:
    resource_group: rg-avd-demo
    name: vm-golden-w11
  register: patched

- name: Install one specific update only
  goldenimage.avd.windows_update:
    resource_group: rg-avd-demo
    name: vm-golden-w11
    updates: [KB5046617]
"""

RETURN = r"""
installed:
  description: KB ids installed by this run (empty in check mode).
  returned: always
  type: list
  elements: str
  sample: [KB5046617, KB5045935]
to_install:
  description: KB ids this run installs (the pending ones, filtered by O(updates)); empty in check mode.
  returned: always
  type: list
  elements: str
  sample: [KB5046617]
pending_before:
  description: KB ids pending before the run, as the guest reported them (empty in check mode).
  returned: always
  type: list
  elements: str
reboot_required:
  description: Whether an installed update required a restart.
  returned: always
  type: bool
rebooted:
  description: Whether the module restarted the VM.
  returned: always
  type: bool
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import (
    AzureModuleError,
    PreconditionError,
    TimeoutError,  # pylint: disable=redefined-builtin
)
from ansible_collections.goldenimage.avd.plugins.module_utils._guest_scripts import run_guest_op
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import validate_name
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire
from ansible_collections.goldenimage.avd.plugins.module_utils._sysprep import is_generalized, power_state
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline


def handler(mod):
    params = mod.params
    validate_name("resource_group", params["resource_group"])
    validate_name("vm", params["name"], option="name")
    for kb in params["updates"]:
        if not kb or "," in kb or len(kb) > 32:
            raise ValueError("Option 'updates' holds %r; give KB ids such as 'KB5046617'." % kb)
    if params["timeout"] < 0:
        raise ValueError("Option 'timeout' must be >= 0 seconds, got %d." % params["timeout"])
    deadline = Deadline(params["timeout"])
    rg, name = params["resource_group"], params["name"]
    vm = to_wire(mod.compute.virtual_machines.get(rg, name, expand="instanceView"))
    state = power_state(vm)
    if is_generalized(vm):
        raise PreconditionError("VM '%s' is generalized; it cannot run, so no updates can be installed in it. "
                                "Update the original VM the image was built from." % name)
    if state != "running" and not mod.check_mode:
        raise PreconditionError("VM '%s' is %s; Windows updates are installed in a running VM (start it with "
                                "goldenimage.avd.vm_power)." % (name, state))
    if mod.check_mode:
        if state != "running":
            # in a previewed play the task that starts the VM did not start it; a real run needs it running
            mod.module.warn("VM '%s' is %s now; a real run needs it running (start it first with "
                            "goldenimage.avd.vm_power, as the golden_image role does)." % (name, state))
        mod.exit(True, diff=mod.make_diff({}, {}), installed=[], to_install=[], pending_before=[],
                 reboot_required=False, rebooted=False,
                 msg="Check mode: the VM was not scanned (that takes a Run Command); a real run installs what is "
                     "pending.")
        return
    report, stdout, stderr = run_guest_op(mod.compute, to_wire, rg, name, "preflight", deadline)
    if not isinstance(report, dict):
        raise AzureModuleError("The update scan in VM '%s' gave no report: %s" % (name, (stderr or stdout)[-500:]))
    pending = [str(kb) for kb in report.get("pendingUpdates") or []]
    wanted = {kb.upper() for kb in params["updates"]}
    to_install = [kb for kb in pending if not wanted or kb.upper() in wanted]
    result = dict(installed=[], to_install=to_install, pending_before=pending, reboot_required=False,
                  rebooted=False)
    if not to_install:
        mod.exit(False, diff=mod.make_diff({"pending": pending}, {"pending": pending}), **result)
        return
    report, stdout, stderr = run_guest_op(mod.compute, to_wire, rg, name, "install-updates", deadline,
                                          Updates=list(params["updates"]))
    if not isinstance(report, dict):
        raise AzureModuleError("Installing updates in VM '%s' gave no report: %s" % (name, (stderr or stdout)[-500:]))
    result["installed"] = list(report.get("installed") or [])
    result["reboot_required"] = bool(report.get("rebootRequired"))
    if result["reboot_required"] and params["reboot"]:
        poller = mod.compute.virtual_machines.begin_restart(rg, name)
        poller.wait(timeout=deadline.remaining())
        if not poller.done():
            raise TimeoutError("Timed out restarting VM '%s' after the updates; they are installed." % name,
                               partial=result)
        poller.result()
        result["rebooted"] = True
    remaining = list(report.get("remaining") or [kb for kb in pending if kb not in result["installed"]])
    mod.exit(bool(result["installed"]), diff=mod.make_diff({"pending": pending}, {"pending": remaining}),
             **result)


def main():
    mod = AzureModule(dict(
        resource_group=dict(type="str", required=True),
        name=dict(type="str", required=True),
        updates=dict(type="list", elements="str", default=[]),
        reboot=dict(type="bool", default=True),
        timeout=dict(type="int", default=1800),
        poll_interval=dict(type="float", default=15),
    ), supports_check_mode=True)
    mod.run(handler)


if __name__ == "__main__":
    main()
