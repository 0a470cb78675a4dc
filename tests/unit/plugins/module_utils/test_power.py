"""vm_power planning: which actions, which tag changes, and the refusal to start a generalized VM."""

from __future__ import annotations

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import PreconditionError
from ansible_collections.goldenimage.avd.plugins.module_utils._power import TAG_POWER_BEFORE, plan_power, set_power_state


def vm(power, tags=None, generalized=False):
    codes = ["PowerState/" + power] + (["OSState/generalized"] if generalized else [])
    return {"name": "vm1", "tags": dict(tags or {}),
            "properties": {"instanceView": {"statuses": [{"code": code} for code in codes]}}}


@pytest.mark.parametrize(
    "current, tags, state, remember, expected",
    [
        ("deallocated", {}, "running", False, {"actions": ["start"], "after": "running", "tags": None}),
        ("running", {}, "running", True, {"actions": [], "after": "running", "tags": None}),
        ("deallocated", {}, "running", True,
         {"actions": ["start"], "tags": {TAG_POWER_BEFORE: "deallocated"}}),
        # a state recorded earlier is kept (the first run's state is the one to go back to)
        ("stopped", {TAG_POWER_BEFORE: "deallocated"}, "running", True, {"actions": ["start"], "tags": None}),
        ("running", {TAG_POWER_BEFORE: "deallocated", "team": "a"}, "restored", False,
         {"actions": ["deallocate"], "after": "deallocated", "tags": {"team": "a"}, "recorded": "deallocated"}),
        ("running", {}, "restored", False, {"actions": [], "after": "running", "tags": None, "recorded": None}),
        ("running", {}, None, False, {"actions": [], "after": "running", "tags": None}),
    ],
)
def test_plan_power(current, tags, state, remember, expected):
    plan = plan_power(vm(current, tags), state, remember)
    assert expected.items() <= plan.items()
    assert plan["before"] == current


def test_generalized_vm_is_never_started():
    with pytest.raises(PreconditionError, match="generalized"):
        plan_power(vm("deallocated", generalized=True), "running", False)
    assert plan_power(vm("deallocated", generalized=True), "deallocated", False)["actions"] == []


class FakeSwitch:
    """Records the writes ``set_power_state`` makes, in order; the VM ends in the wanted state."""

    def __init__(self, machine):
        self.machine = machine
        self.calls = []

    def read(self):
        return dict(self.machine, id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1")

    def settled(self):
        raise AssertionError("no transition in progress in these tests")

    def set_tags(self, tags):
        self.calls.append(("tags", tags))

    def apply(self, actions):
        self.calls.append(("power", actions))
        return {"start": "running", "power_off": "stopped", "deallocate": "deallocated"}[actions[-1]]


@pytest.mark.parametrize(
    "machine, state, remember, calls",
    [
        # the state before is written down before the VM leaves it ...
        (vm("deallocated"), "running", True,
         [("tags", {TAG_POWER_BEFORE: "deallocated"}), ("power", ["start"])]),
        # ... and forgotten only once the VM is back in it
        (vm("running", {TAG_POWER_BEFORE: "deallocated"}), "restored", False,
         [("power", ["deallocate"]), ("tags", {})]),
    ],
)
def test_set_power_state_orders_the_tag_writes(machine, state, remember, calls):
    switch = FakeSwitch(machine)
    changed, before, after, result = set_power_state(switch, state, remember, check_mode=False)
    assert changed is True and switch.calls == calls
    assert before["power_state"] == machine["properties"]["instanceView"]["statuses"][0]["code"].split("/")[1]
    assert after["power_state"] == result["power_state"]


def test_set_power_state_writes_nothing_in_check_mode():
    switch = FakeSwitch(vm("deallocated"))
    changed, _before, after, _result = set_power_state(switch, "running", True, check_mode=True)
    assert changed is True and switch.calls == [] and after == {"power_state": "running",
                                                                "recorded_power_state": "deallocated"}
