#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_power
short_description: Start, stop or deallocate a VM, or report its power state
version_added: 0.1.0
description:
  - Brings a VM to the power state O(state) and waits until it is there.
  - V(stopped) means powered off but still allocated (still billed for compute); V(deallocated)
    releases the compute. Reaching V(stopped) from V(deallocated) starts the VM and powers it off.
  - Refuses to start a generalized VM (Azure cannot start it; it exists only to be captured).
  - Without O(state) the module only reports the power state.
  - "With O(remember=true) the power state the VM had before this task is recorded in the tag
    C(goldenimage.power-state-before) of the VM (unless a state is already recorded there), and
    O(state=restored) later brings the VM back to the recorded state and removes the tag. A play that
    is interrupted in between and run again still returns the VM to the state it had before the first
    run."
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  state:
    description:
      - The power state wanted; leave unset to only read it.
      - V(restored) returns to the state recorded by an earlier task with O(remember=true) (no change when
        none is recorded).
    type: str
    choices: [running, stopped, deallocated, restored]
  remember:
    description:
      - Record the current power state in the tag C(goldenimage.power-state-before) before changing it,
        unless a state is recorded already. Ignored with O(state=restored).
    type: bool
    default: false
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.vm
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
notes:
  - O(poll_interval) paces the wait for a power transition already in progress (V(starting),
    V(stopping), V(deallocating)); the start, stop and deallocate operations themselves follow the
    C(Retry-After) interval of the Azure operations.
"""

EXAMPLES = r"""
- name: Remember how the original VM was
  goldenimage.avd.vm_power:
    resource_group: rg-avd-demo
    name: vm-golden-w11
  register: original_power

- name: Deallocate the original VM before cloning it
  goldenimage.avd.vm_power:
    resource_group: rg-avd-demo
    name: vm-golden-w11
    state: deallocated

- name: Deallocate it for the build, remembering how it was
  goldenimage.avd.vm_power:
    resource_group: rg-avd-demo
    name: vm-golden-w11
    state: deallocated
    remember: true

- name: Put it back as it was before the build
  goldenimage.avd.vm_power:
    resource_group: rg-avd-demo
    name: vm-golden-w11
    state: restored
"""

RETURN = r"""
power_state:
  description: Power state after the task (in check mode, the one it would reach).
  returned: always
  type: str
  sample: deallocated
previous_power_state:
  description: Power state before the task.
  returned: always
  type: str
  sample: running
generalized:
  description: Whether the VM is generalized in Azure.
  returned: always
  type: bool
  sample: false
vm_id:
  description: Resource id of the VM.
  returned: always
  type: str
recorded_power_state:
  description: The power state recorded in C(goldenimage.power-state-before) after the task, null when none.
  returned: always
  type: str
  sample: running
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, check_vm_options, vm_options, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._power import PowerSwitch, set_power_state
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_poll_interval, check_timeout


def validate(params):
    check_vm_options(params)
    check_timeout(params["timeout"])
    check_poll_interval(params["poll_interval"])


def run(azure):
    params = azure.params
    validate(params)
    switch = PowerSwitch(azure.compute, params["resource_group"], params["name"], Deadline(params["timeout"]),
                         params["poll_interval"])
    changed, before, after, result = set_power_state(switch, params["state"], params["remember"], azure.check_mode)
    azure.exit(changed, diff=azure.make_diff(before, after), **result)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **vm_options(),
            state=dict(type="str", choices=["running", "stopped", "deallocated", "restored"]),
            remember=dict(type="bool", default=False),
            **wait_options(timeout=1800, poll_interval=15),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
