"""vm_power planning: which actions, which tag changes, and the refusal to start a generalized VM."""

from __future__ import annotations

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import PreconditionError
from ansible_collections.goldenimage.avd.plugins.module_utils._power import TAG_POWER_BEFORE, plan_power


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
