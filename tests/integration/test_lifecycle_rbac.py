"""The shipped custom role (meta/goldenimage-avd-operator-role.json, shown in README.md "Azure
RBAC") against what the collection really calls.

`rbac_actions(template)` (avdsim.rbac.actions, the simulator's own derivation that its
enforcement uses too) maps one simulator operation key (``"<METHOD> <ARM path template>"``, as
``/_sim/metrics`` counts them) to the RBAC actions Azure checks for it. The lifecycle test
(test_ansible_runner.py) runs a full lifecycle with ONLY this role assigned; this file checks the
mapping, that README and the shipped file agree, and that the role holds nothing the collection
does not need.
"""

import json
import re
from pathlib import Path

import pytest

from avdsim.rbac.actions import COMPUTE_OPERATION_STATUS, rbac_actions

REPO = Path(__file__).resolve().parents[2]

# Actions in the role that a lifecycle run on the demo does not show as requests, each with the
# reason the collection needs it.
NEEDED_BEYOND_THE_DEMO_RUN = {
    # Azure's linked access checks when a VM is created with a VM-owned NIC on an existing subnet
    # (vm_clone, session_host_deploy) and when that VM is deleted with its NIC.
    "microsoft.network/networkinterfaces/write": "VM create with networkInterfaceConfigurations",
    "microsoft.network/networkinterfaces/read": "VM create with networkInterfaceConfigurations",
    "microsoft.network/networkinterfaces/join/action": "VM create with networkInterfaceConfigurations",
    "microsoft.network/networkinterfaces/delete": "VM delete with deleteOption Delete on the NIC",
    "microsoft.network/virtualnetworks/subnets/join/action": "a new NIC joins the existing subnet",
    # vm_power state stopped (golden_image_original_power_state: stopped).
    "microsoft.compute/virtualmachines/poweroff/action": "vm_power state=stopped",
    # vm_backup: retention prunes old restore points; state=restored makes disks from one.
    "microsoft.compute/restorepointcollections/restorepoints/delete": "vm_backup retain / state=absent",
    "microsoft.compute/restorepointcollections/restorepoints/diskrestorepoints/read": "vm_backup state=restored",
    # image_version_prune and a capture that failed remove versions.
    "microsoft.compute/galleries/images/versions/delete": "image_version_prune, failed capture cleanup",
    # hostpool_drain on_timeout=logoff signs users off.
    "microsoft.desktopvirtualization/hostpools/sessionhosts/usersessions/delete": "hostpool_drain on_timeout=logoff",
}

_RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
ROLE_FILE = REPO / "meta" / "goldenimage-avd-operator-role.json"


def shipped_role() -> dict:
    return json.loads(ROLE_FILE.read_text())


def readme_role() -> dict:
    text = (REPO / "README.md").read_text()
    section = text.split("### Azure RBAC", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", section, re.S).group(1)
    return json.loads(block)


def role_actions() -> set:
    return {a.lower() for a in shipped_role()["Actions"]}


def missing_actions(by_operation: dict) -> dict:
    """Operations of a run whose RBAC actions the README role lacks: {operation: [actions]}."""
    have = role_actions()
    missing = {}
    for operation in by_operation:
        if operation.split(" ", 1)[1].startswith("/_sim/"):
            continue
        lacking = sorted(rbac_actions(operation) - have)
        if lacking:
            missing[operation] = lacking
    return missing


@pytest.mark.parametrize("operation,expected", [
    ("GET " + _RG + "Microsoft.Compute/virtualMachines/{vmName}",
     {"microsoft.compute/virtualmachines/read"}),
    ("GET " + _RG + "Microsoft.Compute/virtualMachines",
     {"microsoft.compute/virtualmachines/read"}),
    ("POST " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/runCommand",
     {"microsoft.compute/virtualmachines/runcommand/action"}),
    ("PATCH " + _RG + "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions/{galleryImageVersionName}",
     {"microsoft.compute/galleries/images/versions/write"}),
    ("DELETE " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/sessionHosts/{sessionHostName}",
     {"microsoft.desktopvirtualization/hostpools/sessionhosts/delete"}),
    ("POST " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/sessionHosts/{sessionHostName}/userSessions/{userSessionId}/sendMessage",
     {"microsoft.desktopvirtualization/hostpools/sessionhosts/usersessions/sendmessage/action"}),
    ("GET " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/userSessions",
     {"microsoft.desktopvirtualization/hostpools/usersessions/read"}),
    ("GET /subscriptions/{subscriptionId}/providers/Microsoft.DesktopVirtualization/hostPools",
     {"microsoft.desktopvirtualization/hostpools/read"}),
    ("GET /subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}/{operationKind}/{operationId}",
     COMPUTE_OPERATION_STATUS),
    ("GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}", {"microsoft.resources/subscriptions/resourcegroups/read"}),
])
def test_operation_to_action(operation, expected):
    assert rbac_actions(operation) == expected


def test_readme_shows_the_shipped_role():
    """One source: the README's block is the shipped file, character for character."""
    assert readme_role() == shipped_role()
    text = (REPO / "README.md").read_text().split("### Azure RBAC", 1)[1]
    assert ROLE_FILE.read_text().strip() in text


def test_role_is_a_valid_custom_role_definition():
    role = shipped_role()
    assert role["IsCustom"] is True
    assert role["Actions"] == sorted(role["Actions"], key=str.lower)
    assert len(role["Actions"]) == len(role_actions())
    assert not any("*" in action for action in role["Actions"])
    assert role["NotActions"] == [] and role["DataActions"] == []


def test_role_holds_only_what_the_collection_uses():
    """Every action is one the lifecycle's own requests need, or listed above with its reason."""
    lifecycle_actions = set()
    for operation in LIFECYCLE_OPERATIONS:
        lifecycle_actions |= rbac_actions(operation)
    assert role_actions() - lifecycle_actions - set(NEEDED_BEYOND_THE_DEMO_RUN) == set()
    # And the reasons above do not excuse actions that the role no longer holds.
    assert set(NEEDED_BEYOND_THE_DEMO_RUN) <= role_actions()


# The operations a full demo lifecycle run sends (make demo, build/demo/report.json
# arm_requests.by_operation); test_ansible_runner.py checks a live run against the role.
LIFECYCLE_OPERATIONS = [
    "DELETE " + _RG + "Microsoft.Compute/disks/{diskName}",
    "DELETE " + _RG + "Microsoft.Compute/snapshots/{snapshotName}",
    "DELETE " + _RG + "Microsoft.Compute/virtualMachines/{vmName}",
    "DELETE " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/sessionHosts/{sessionHostName}",
    "GET /subscriptions/{subscriptionId}/providers/Microsoft.DesktopVirtualization/hostPools",
    "GET /subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}/{operationKind}/{operationId}",
    "GET " + _RG + "Microsoft.Compute/disks",
    "GET " + _RG + "Microsoft.Compute/disks/{diskName}",
    "GET " + _RG + "Microsoft.Compute/galleries/{galleryName}",
    "GET " + _RG + "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}",
    "GET " + _RG + "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions",
    "GET " + _RG + "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions/{galleryImageVersionName}",
    "GET " + _RG + "Microsoft.Compute/restorePointCollections/{restorePointCollectionName}",
    "GET " + _RG + "Microsoft.Compute/restorePointCollections/{restorePointCollectionName}/restorePoints/{restorePointName}",
    "GET " + _RG + "Microsoft.Compute/snapshots",
    "GET " + _RG + "Microsoft.Compute/snapshots/{snapshotName}",
    "GET " + _RG + "Microsoft.Compute/virtualMachines",
    "GET " + _RG + "Microsoft.Compute/virtualMachines/{vmName}",
    "GET " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/extensions/{vmExtensionName}",
    "GET " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}",
    "GET " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/sessionHosts",
    "GET " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/userSessions",
    "PATCH " + _RG + "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}",
    "PATCH " + _RG + "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions/{galleryImageVersionName}",
    "PATCH " + _RG + "Microsoft.Compute/virtualMachines/{vmName}",
    "PATCH " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}",
    "PATCH " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/sessionHosts/{sessionHostName}",
    "POST " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/deallocate",
    "POST " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/generalize",
    "POST " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/restart",
    "POST " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/runCommand",
    "POST " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/start",
    "POST " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/listRegistrationTokens",
    "POST " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/retrieveRegistrationToken",
    "POST " + _RG + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/sessionHosts/{sessionHostName}/userSessions/{userSessionId}/sendMessage",
    "PUT " + _RG + "Microsoft.Compute/disks/{diskName}",
    "PUT " + _RG + "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions/{galleryImageVersionName}",
    "PUT " + _RG + "Microsoft.Compute/restorePointCollections/{restorePointCollectionName}",
    "PUT " + _RG + "Microsoft.Compute/restorePointCollections/{restorePointCollectionName}/restorePoints/{restorePointName}",
    "PUT " + _RG + "Microsoft.Compute/snapshots/{snapshotName}",
    "PUT " + _RG + "Microsoft.Compute/virtualMachines/{vmName}",
    "PUT " + _RG + "Microsoft.Compute/virtualMachines/{vmName}/extensions/{vmExtensionName}",
]


def test_recorded_lifecycle_operations_are_covered():
    assert missing_actions(dict.fromkeys(LIFECYCLE_OPERATIONS, 1)) == {}
