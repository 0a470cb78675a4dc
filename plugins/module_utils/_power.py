# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Bring a VM to a power state, remember the state it had and go back to it (``vm_power``)."""

from __future__ import annotations

import functools

from ._errors import PreconditionError
from ._vm import get_vm, is_generalized, power_state
from ._wait import wait_for, wait_operation

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


def plan_power(vm, state, remember):
    """What to do to a settled ``vm``: ``{before, recorded, actions, after, tags}``.

    ``tags`` is the VM's new tag set, or None when the tags stay as they are. ``state=restored``
    goes back to the state recorded in ``TAG_POWER_BEFORE`` and removes the tag.
    """
    before = power_state(vm)
    tags = dict(vm.get("tags") or {})
    recorded = tags.get(TAG_POWER_BEFORE)
    wanted = state
    new_tags = None
    if state == "restored":
        wanted = recorded if recorded in STATES else None
        if recorded is not None:
            tags.pop(TAG_POWER_BEFORE)
            new_tags = tags
    actions = power_actions(before, wanted)
    if remember and state != "restored" and actions and recorded is None:
        tags[TAG_POWER_BEFORE] = before
        new_tags = tags
    if "start" in actions and is_generalized(vm):
        raise PreconditionError("VM '%s' is generalized and cannot be started; it exists only to be captured "
                                "as an image." % vm.get("name"))
    return {"before": before, "recorded": recorded, "actions": actions, "after": wanted if actions else before,
            "tags": new_tags}


class PowerSwitch:
    """Power operations on one VM, all bounded by one ``deadline``."""

    def __init__(self, compute, resource_group, name, deadline, poll_interval):
        self.compute = compute
        self.resource_group = resource_group
        self.name = name
        self.deadline = deadline
        self.poll_interval = poll_interval

    def read(self):
        return get_vm(self.compute, self.resource_group, self.name)

    def settled(self):
        """The VM once a power transition in progress has finished (a second start/stop would conflict)."""
        def done():
            current = self.read()
            return current if power_state(current) not in _SETTLES_TO else None

        return wait_for(done, self.deadline, self.poll_interval,
                        "VM '%s' to finish its power transition" % self.name)

    def set_tags(self, tags):
        """Replace the VM's tags (PATCH); Azure keeps everything else of the VM as it is."""
        operation = "update the tags of VM '%s'" % self.name
        wait_operation(lambda: self.compute.virtual_machines.begin_update(self.resource_group, self.name, {"tags": tags}),
                       self.deadline, operation, restart=True)

    def apply(self, actions):
        """Run ``actions`` (from ``power_actions``) one after the other; the power state afterwards."""
        ops = self.compute.virtual_machines
        begin = {"start": ops.begin_start, "power_off": ops.begin_power_off, "deallocate": ops.begin_deallocate}
        for action in actions:
            operation = "%s VM '%s'" % (action.replace("_", " "), self.name)
            # start, power off and deallocate are safe to repeat: a transient failure starts them again
            wait_operation(functools.partial(begin[action], self.resource_group, self.name), self.deadline, operation,
                           restart=True)
        return power_state(self.read())


def set_power_state(switch, state, remember, check_mode):
    """Bring the VM of ``switch`` to ``state`` (None: only report); returns ``(changed, before, after, result)``.

    ``before``/``after`` are the ``{power_state, recorded_power_state}`` pairs for ``--diff``.
    """
    vm = switch.read()
    if power_state(vm) in _SETTLES_TO and state:
        vm = switch.settled()
    plan = plan_power(vm, state, remember)
    after = plan["after"]
    if not check_mode:
        # remember the state before leaving it; forget it only once the VM is back in it
        if plan["tags"] is not None and state != "restored":
            switch.set_tags(plan["tags"])
        if plan["actions"]:
            after = switch.apply(plan["actions"])
        if plan["tags"] is not None and state == "restored":
            switch.set_tags(plan["tags"])
    recorded_after = plan["tags"].get(TAG_POWER_BEFORE) if plan["tags"] is not None else plan["recorded"]
    result = dict(power_state=after, previous_power_state=plan["before"], generalized=is_generalized(vm),
                  vm_id=vm["id"], recorded_power_state=recorded_after)
    return (bool(plan["actions"]) or plan["tags"] is not None,
            {"power_state": plan["before"], "recorded_power_state": plan["recorded"]},
            {"power_state": after, "recorded_power_state": recorded_after},
            result)
