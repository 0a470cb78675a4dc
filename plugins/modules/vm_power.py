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
  resource_group:
    description: Resource group of the VM.
    type: str
    required: true
  name:
    description: Name of the VM.
    type: str
    required: true
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
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
notes:
  - O(poll_interval) is accepted for symmetry; the waits of this module follow the C(Retry-After)
    interval of the Azure operations.
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

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import (
    NotFoundError,
    PreconditionError,
    TimeoutError,  # pylint: disable=redefined-builtin
    classify,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import validate_name
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire
from ansible_collections.goldenimage.avd.plugins.module_utils._sysprep import is_generalized, power_state
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_poll_interval, wait_for

TAG_POWER_BEFORE = "goldenimage.power-state-before"
STATES = ("running", "stopped", "deallocated")

# Transitional states settle into these.
_SETTLES_TO = {"starting": "running", "stopping": "stopped", "deallocating": "deallocated"}


def power_actions(current, wanted):
    """The Azure actions that take a VM from power state ``current`` to ``wanted``, in order."""
    current = _SETTLES_TO.get(current, current)
    if wanted is None or current == wanted:
        return []
    if wanted == "running":
        return ["start"]
    if wanted == "deallocated":
        return ["deallocate"]
    if wanted == "stopped":
        return ["start", "power_off"] if current == "deallocated" else ["power_off"]
    raise ValueError("Option 'state' must be one of running, stopped, deallocated; got %r." % wanted)


def update_tags(ops, params, tags, deadline):
    """Replace the VM's tags (PATCH); Azure keeps everything else of the VM as it is."""
    poller = ops.begin_update(params["resource_group"], params["name"], {"tags": tags})
    poller.wait(timeout=deadline.remaining())
    if not poller.done():
        raise TimeoutError("Timed out updating the tags of VM '%s'; run the task again." % params["name"])
    poller.result()


def main():
    mod = AzureModule(dict(
        resource_group=dict(type="str", required=True),
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["running", "stopped", "deallocated", "restored"]),
        remember=dict(type="bool", default=False),
        timeout=dict(type="int", default=1800),
        poll_interval=dict(type="float", default=15),
    ), supports_check_mode=True)

    def get(mod):
        params = mod.params
        try:
            return to_wire(mod.compute.virtual_machines.get(params["resource_group"], params["name"],
                                                            expand="instanceView"))
        except Exception as exc:  # pylint: disable=broad-except
            err = classify(exc)
            if isinstance(err, NotFoundError):
                raise NotFoundError("VM '%s' was not found in resource group '%s'." % (
                    params["name"], params["resource_group"]), code=err.code, status=err.status) from exc
            raise err from exc

    def handler(mod):
        params = mod.params
        validate_name("resource_group", params["resource_group"])
        validate_name("vm", params["name"], option="name")
        if params["timeout"] < 0:
            raise ValueError("Option 'timeout' must be >= 0 seconds.")
        check_poll_interval(params["poll_interval"])
        deadline = Deadline(params["timeout"])
        vm = get(mod)
        before = power_state(vm)
        generalized = is_generalized(vm)
        if before in _SETTLES_TO and params["state"]:
            # Let a transition in progress finish before deciding (a second start/stop would conflict).
            def settled():
                current = get(mod)
                return current if power_state(current) not in _SETTLES_TO else None

            vm = wait_for(settled, deadline, params["poll_interval"],
                          "VM '%s' to finish its power transition" % params["name"])
            before = power_state(vm)
        tags = dict(vm.get("tags") or {})
        recorded = tags.get(TAG_POWER_BEFORE)
        wanted = params["state"]
        tag_change = None
        if wanted == "restored":
            wanted = recorded if recorded in STATES else None
            if recorded is not None:
                tags.pop(TAG_POWER_BEFORE)
                tag_change = tags
        actions = power_actions(before, wanted)
        if params["remember"] and params["state"] != "restored" and actions and recorded is None:
            tags[TAG_POWER_BEFORE] = before
            tag_change = tags
        if "start" in actions and generalized:
            raise PreconditionError("VM '%s' is generalized and cannot be started; it exists only to be captured "
                                    "as an image." % params["name"])
        after = wanted if actions else before
        ops = mod.compute.virtual_machines
        if tag_change is not None and not mod.check_mode and params["state"] != "restored":
            update_tags(ops, params, tag_change, deadline)
        if actions and not mod.check_mode:
            for action in actions:
                poller = {"start": ops.begin_start, "power_off": ops.begin_power_off,
                          "deallocate": ops.begin_deallocate}[action](params["resource_group"], params["name"])
                poller.wait(timeout=deadline.remaining())
                if not poller.done():
                    raise TimeoutError("Timed out waiting for %s of VM '%s'; run the task again." % (
                        action.replace("_", " "), params["name"]))
                poller.result()
            after = power_state(get(mod))
        if tag_change is not None and not mod.check_mode and params["state"] == "restored":
            update_tags(ops, params, tag_change, deadline)
        recorded_after = (tag_change or {}).get(TAG_POWER_BEFORE) if tag_change is not None else recorded
        mod.exit(bool(actions) or tag_change is not None,
                 diff=mod.make_diff({"power_state": before, "recorded_power_state": recorded},
                                    {"power_state": after, "recorded_power_state": recorded_after}),
                 power_state=after, previous_power_state=before, generalized=generalized, vm_id=vm["id"],
                 recorded_power_state=recorded_after)

    mod.run(handler)


if __name__ == "__main__":
    main()
