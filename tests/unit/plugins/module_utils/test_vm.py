"""Readers of a VM's instance view: one contract for the power and generalization state."""

from __future__ import annotations

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils._vm import is_generalized, power_state


def vm(*codes):
    return {"properties": {"instanceView": {"statuses": [{"code": code} for code in codes]}}}


@pytest.mark.parametrize(
    "value, expected, generalized",
    [
        (vm("ProvisioningState/succeeded", "PowerState/running"), "running", False),
        (vm("PowerState/deallocated", "OSState/generalized"), "deallocated", True),
        (vm("powerstate/Stopped", "osstate/Generalized"), "stopped", True),
        (vm("ProvisioningState/succeeded"), "unknown", False),
        ({"properties": {}}, "unknown", False),
        (None, "unknown", False),
    ],
)
def test_power_and_generalized_state(value, expected, generalized):
    assert power_state(value) == expected
    assert is_generalized(value) is generalized


def test_power_state_default_is_the_callers():
    assert power_state(vm(), default=None) is None


def test_readers_take_the_instance_view_itself():
    view = vm("PowerState/deallocated", "OSState/generalized")["properties"]["instanceView"]
    assert power_state(view) == "deallocated" and is_generalized(view) is True
