"""The job -> RBAC actions table and the pre-flight's pure decisions (plugins/module_utils/_permissions.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils import _permissions as perms

REPO = Path(__file__).resolve().parents[2]
ROLE = json.loads((REPO / "meta" / "goldenimage-avd-operator-role.json").read_text())
SUB = "00000000-0000-0000-0000-000000000001"
SUBNET = "/subscriptions/%s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/v/subnets/s" % SUB


def test_the_shipped_role_is_exactly_the_actions_of_the_jobs():
    """One table: the role holds every action a job needs, and nothing else."""
    assert ROLE["Actions"] == perms.all_actions()


@pytest.mark.parametrize("job,place,action", [
    ("build_image", "resource_group", "Microsoft.Compute/virtualMachines/generalize/action"),
    ("build_image", "resource_group", "Microsoft.Compute/restorePointCollections/restorePoints/write"),
    ("build_image", "gallery_resource_group", "Microsoft.Compute/galleries/images/versions/write"),
    ("build_image", "subnet", "Microsoft.Network/virtualNetworks/subnets/join/action"),
    ("marker", "gallery_resource_group", "Microsoft.Compute/galleries/images/versions/write"),
    ("marker", "resource_group", "Microsoft.DesktopVirtualization/hostpools/read"),
    ("rollout", "resource_group", "Microsoft.DesktopVirtualization/hostpools/retrieveRegistrationToken/action"),
    ("rollout", "resource_group", "Microsoft.Network/networkInterfaces/join/action"),
    ("rollout", "gallery_resource_group", "Microsoft.Compute/galleries/images/versions/read"),
    ("rollout", "subnet", "Microsoft.Network/virtualNetworks/subnets/join/action"),
])
def test_job_needs(job, place, action):
    assert action in perms.JOB_ACTIONS[job][place]


@pytest.mark.parametrize("job,place,action", [
    ("marker", "resource_group", "Microsoft.Compute/virtualMachines/write"),
    ("marker", "gallery_resource_group", "Microsoft.Compute/galleries/images/versions/delete"),
    ("rollout", "resource_group", "Microsoft.Compute/virtualMachines/generalize/action"),
    ("rollout", "gallery_resource_group", "Microsoft.Compute/galleries/images/versions/write"),
    ("build_image", "resource_group", "Microsoft.DesktopVirtualization/hostpools/write"),
])
def test_job_does_not_need(job, place, action):
    assert action not in perms.JOB_ACTIONS[job].get(place, ())


@pytest.mark.parametrize("blocks,action,expected", [
    ([{"actions": ["*"], "notActions": []}], "Microsoft.Compute/virtualMachines/write", True),
    ([{"actions": ["*/read"]}], "Microsoft.Compute/virtualMachines/read", True),
    ([{"actions": ["*/read"]}], "Microsoft.Compute/virtualMachines/write", False),
    ([{"actions": ["Microsoft.Compute/*"], "notActions": ["Microsoft.Compute/*/delete"]}],
     "Microsoft.Compute/disks/delete", False),
    ([{"actions": ["Microsoft.Compute/*"], "notActions": ["Microsoft.Compute/*/delete"]},
      {"actions": ["microsoft.compute/disks/DELETE"]}], "Microsoft.Compute/disks/delete", True),
    ([], "Microsoft.Compute/disks/read", False),
])
def test_allowed(blocks, action, expected):
    assert perms.allowed(blocks, action) is expected


def test_missing_actions_per_place_and_unknown_places_are_not_checked():
    everything = [{"actions": ["*"]}]
    reader = [{"actions": ["*/read"]}]
    missing = perms.missing_actions("marker", {"resource_group": everything, "gallery_resource_group": reader})
    assert missing == [("gallery_resource_group", "Microsoft.Compute/galleries/images/versions/write"),
                       ("gallery_resource_group", "Microsoft.Compute/galleries/images/write")]
    assert perms.missing_actions("rollout", {"resource_group": everything}) == []


@pytest.mark.parametrize("params,expected", [
    ({"resource_group": "rg", "gallery_resource_group": "rg-gal", "subnet": SUBNET},
     {"resource_group": "/subscriptions/%s/resourceGroups/rg" % SUB,
      "gallery_resource_group": "/subscriptions/%s/resourceGroups/rg-gal" % SUB, "subnet": SUBNET}),
    ({"resource_group": "rg"}, {"resource_group": "/subscriptions/%s/resourceGroups/rg" % SUB}),
])
def test_scopes(params, expected):
    assert perms.scopes_for("build_image", SUB, params) == expected


@pytest.mark.parametrize("params,message", [
    ({"resource_group": ""}, "Option 'resource_group' is required for job 'rollout'"),
    ({"resource_group": "rg", "subnet": "/subscriptions/x/resourceGroups/rg"}, "Option 'subnet_id' must be a subnet id"),
])
def test_bad_scopes(params, message):
    with pytest.raises(ValueError, match=message):
        perms.scopes_for("rollout", SUB, params)


def test_failure_message_names_actions_and_scopes():
    text = perms.failure_message("rollout", [
        {"action": "Microsoft.Compute/virtualMachines/write", "scope": "/subscriptions/s/resourceGroups/a"},
        {"action": "Microsoft.Compute/virtualMachines/delete", "scope": "/subscriptions/s/resourceGroups/a"},
        {"action": "Microsoft.Network/virtualNetworks/subnets/join/action", "scope": SUBNET}])
    assert ("missing Microsoft.Compute/virtualMachines/write, Microsoft.Compute/virtualMachines/delete at scope "
            "/subscriptions/s/resourceGroups/a; Microsoft.Network/virtualNetworks/subnets/join/action at scope " + SUBNET) in text
    assert "job 'rollout'" in text and "nothing was changed" in text


_JOB_TITLES = {"build_image": "`build_image` (role `golden_image`, build_image.yml, lifecycle build)",
               "marker": "`marker` (role `image_marker`, promote.yml, rollback.yml, lifecycle pilot/prod)",
               "rollout": "`rollout` (role `session_host_rollout`, rollout.yml, lifecycle rollouts)"}
_PLACE_TITLES = {"resource_group": "resource group of the VMs / host pools",
                 "gallery_resource_group": "resource group of the gallery", "subnet": "the subnet"}


def readme_table():
    """The README's permissions table, made from the job table."""
    lines = ["| job | checked at | actions |", "|---|---|---|"]
    for job in perms.JOBS:
        for place in perms.PLACES:
            actions = perms.JOB_ACTIONS[job].get(place)
            if actions:
                cells = ", ".join("`%s`" % a for a in sorted(actions, key=str.lower))
                lines.append("| %s | %s | %s |" % (_JOB_TITLES[job], _PLACE_TITLES[place], cells))
    return "\n".join(lines)


def test_readme_permissions_table_is_the_job_table():
    section = (REPO / "README.md").read_text().split("### Azure RBAC", 1)[1].split("\n## ", 1)[0]
    assert readme_table() in section, "README 'Azure RBAC' table differs; expected:\n" + readme_table()
