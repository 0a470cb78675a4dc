# -*- coding: utf-8 -*-
"""Table test: which VMs left by a killed session_host_deploy run are waited for before their extensions."""

from __future__ import annotations

import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _deploy as deploy
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _deploy as deploy


def vm(provisioning, power=None):
    statuses = [{"code": "ProvisioningState/%s" % provisioning.lower()}]
    if power:
        statuses.append({"code": "PowerState/%s" % power})
    return {"name": "h", "properties": {"provisioningState": provisioning, "instanceView": {"statuses": statuses}}}


@pytest.mark.parametrize("machine, waits", [
    (vm("Creating"), True),
    (vm("Creating", "starting"), True),
    (vm("Updating", "running"), True),
    (vm("Succeeded", "starting"), True),
    (vm("Succeeded", "deallocating"), True),
    (vm("Succeeded", "stopping"), True),
    (vm("Succeeded", "running"), False),
    # stopped hosts are started, failed ones reported: neither is waited for
    (vm("Succeeded", "deallocated"), False),
    (vm("Succeeded", "stopped"), False),
    (vm("Failed", "running"), False),
    (vm("Succeeded"), False),
    ({}, False),
])
def test_unsettled(machine, waits):
    assert deploy.unsettled(machine) is waits
