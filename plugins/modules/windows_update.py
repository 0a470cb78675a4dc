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
  - Check mode runs nothing in the VM and returns C(changed=false) with RV(scanned=false) and a warning - it
    cannot know whether updates are pending (see the C(check_mode) attribute), and it never claims a change it
    does not know of.
  - A VM that is not running is refused, except in check mode, where it gives a warning (in a previewed
    play the task that would start it did not). A generalized VM is always refused.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  name:
    description: Name of the VM; it must be running.
    type: str
    required: true
  updates:
    description:
      - Updates to install, each a KB article number (V(KB) and its digits, for example V(KB5046617)) or a
        Windows Update GUID (the update's C(UpdateID), for example V(0b2d8f9e-1c7a-4a3e-9f51-6d2e8c4b7a10));
        all pending updates when empty.
      - Anything else is refused before anything runs.
    type: list
    elements: str
    default: []
  reboot:
    description: Restart the VM when an installed update requires it, so that it is applied before cloning.
    type: bool
    default: true
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.vm
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
attributes:
  check_mode:
    support: partial
    details:
      - Check mode reads the VM (it refuses a generalized VM, and warns about one that is not running) and
        writes nothing, but does not scan for pending updates, so it returns C(changed=false) and
        RV(scanned=false) whatever is pending.
      - The list of pending updates comes only from the Windows Update Agent inside the guest, through Run Command,
        which is an Azure action (a write that needs the Run Command permission). The read-only
        C(patchStatus) of the VM's instance view is no substitute - it exists only after an Azure Update
        Manager assessment, holds counts but no KB ids, and may be days old.
  diff_mode:
    support: full
    details: The C(diff) holds the pending updates before and after a real run (empty in check mode).
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
scanned:
  description: Whether the VM was scanned for pending updates (always in a real run, never in check mode).
  returned: always
  type: bool
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, check_vm_options, vm_options, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._updates import install_updates, vm_ready_for_updates
from ansible_collections.goldenimage.avd.plugins.module_utils._validate import check_update_ids
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_timeout


def validate(params):
    check_vm_options(params)
    params["updates"] = check_update_ids(params["updates"])
    check_timeout(params["timeout"])


def run(azure):
    params = azure.params
    validate(params)
    deadline = Deadline(params["timeout"])
    rg, name = params["resource_group"], params["name"]
    state = vm_ready_for_updates(azure.compute, rg, name, azure.check_mode)
    if azure.check_mode:
        if state != "running":
            # in a previewed play the task that starts the VM did not start it; a real run needs it running
            azure.module.warn("VM '%s' is %s now; a real run needs it running (start it first with "
                              "goldenimage.avd.vm_power, as the golden_image role does)." % (name, state))
        # not knowing what is pending, check mode claims no change (the check_mode attribute says why)
        azure.module.warn("Check mode did not scan VM '%s' for pending updates (that takes a Run Command, an "
                          "Azure action); changed=false here means 'not known', a real run installs what is "
                          "pending." % name)
        azure.exit(False, diff=azure.make_diff({}, {}), installed=[], to_install=[], pending_before=[],
                   reboot_required=False, rebooted=False, scanned=False,
                   msg="Check mode: the VM was not scanned (that takes a Run Command); a real run installs what "
                       "is pending.")
        return
    changed, before, after, result = install_updates(azure.compute, rg, name, params["updates"], params["reboot"],
                                                     deadline)
    azure.exit(changed, diff=azure.make_diff(before, after), scanned=True, **result)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **vm_options(),
            updates=dict(type="list", elements="str", default=[]),
            reboot=dict(type="bool", default=True),
            **wait_options(timeout=1800, poll_interval=15),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
