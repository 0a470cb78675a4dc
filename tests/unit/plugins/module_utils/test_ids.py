"""ARM ids and Azure name rules."""

from __future__ import annotations

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils._ids import (
    parse_resource_id,
    resource_id,
    same_id,
    validate_name,
)

SUB = "6f1c2b9e-3d4a-4b8e-9c71-2a5d0e8f4b13"
VM = "/subscriptions/%s/resourceGroups/rg-avd-demo/providers/Microsoft.Compute/virtualMachines/vm-golden-w11" % SUB
VERSION = ("/subscriptions/%s/resourceGroups/rg-avd-demo/providers/Microsoft.Compute/galleries/gal_avd_demo"
           "/images/win11-avd/versions/1.0.0" % SUB)
SUBNET = ("/subscriptions/%s/resourceGroups/rg-avd-demo/providers/Microsoft.Network/virtualNetworks/vnet-avd"
          "/subnets/snet-hosts" % SUB)


@pytest.mark.parametrize(
    "rid, expected",
    [
        (VM, {"subscription_id": SUB, "resource_group": "rg-avd-demo", "namespace": "Microsoft.Compute",
              "type": "virtualMachines", "name": "vm-golden-w11", "names": ["vm-golden-w11"], "parent": None}),
        (VERSION, {"type": "galleries/images/versions", "name": "1.0.0",
                   "names": ["gal_avd_demo", "win11-avd", "1.0.0"],
                   "parent": VERSION.rsplit("/versions/", 1)[0]}),
        (SUBNET, {"namespace": "Microsoft.Network", "type": "virtualNetworks/subnets", "name": "snet-hosts"}),
        ("/subscriptions/%s" % SUB, {"subscription_id": SUB, "resource_group": None, "name": None}),
        ("/subscriptions/%s/resourceGroups/rg1/" % SUB, {"resource_group": "rg1", "type": None}),
        # ARM returns path segments in any case
        (VM.replace("resourceGroups", "resourcegroups").replace("providers", "PROVIDERS"),
         {"resource_group": "rg-avd-demo", "name": "vm-golden-w11"}),
    ],
)
def test_parse_resource_id(rid, expected):
    parsed = parse_resource_id(rid)
    assert expected.items() <= parsed.items()


@pytest.mark.parametrize(
    "rid",
    [
        "", "vm-golden-w11", "/subscription/x", "/subscriptions/",
        "/subscriptions/%s/resourceGroups" % SUB,
        "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines" % SUB,
        "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/extensions" % SUB,
        "/subscriptions/%s/resourceGroups/rg/vm" % SUB,
        None,
    ],
)
def test_parse_rejects_non_ids(rid):
    with pytest.raises(ValueError, match="resource id|Resource id"):
        parse_resource_id(rid)


def test_build_and_roundtrip():
    built = resource_id(SUB, "rg-avd-demo", "Microsoft.Compute", "galleries", "gal_avd_demo",
                        "images", "win11-avd", "versions", "1.0.0")
    assert built == VERSION
    assert parse_resource_id(built)["id"] == VERSION
    assert resource_id(SUB, "rg1") == "/subscriptions/%s/resourceGroups/rg1" % SUB
    with pytest.raises(ValueError):
        resource_id(SUB, "rg", "Microsoft.Compute", "virtualMachines")
    with pytest.raises(ValueError):
        resource_id("", "rg")


@pytest.mark.parametrize(
    "left, right, same",
    [
        (VM, VM.upper(), True),
        (VM, VM + "/", True),
        (VM, VM + "x", False),
        (None, None, True),
        (VM, None, False),
    ],
)
def test_same_id(left, right, same):
    assert same_id(left, right) is same


@pytest.mark.parametrize(
    "kind, value",
    [
        ("resource_group", "rg-avd-demo"), ("resource_group", "rg_(prod).eu"),
        ("vm", "vm-golden-w11"), ("vm", "a"), ("vm", "clone_1"),
        ("computer_name", "avd-demo-0"), ("computer_name", "A" * 15),
        ("gallery", "gal_avd_demo"), ("gallery", "g.1"),
        ("image_definition", "win11-avd"), ("image_version", "1.0.0"), ("image_version", "2147483647.0.12"),
        ("host_pool", "hp-demo-pooled"), ("host_pool", "hp demo@eu"),
        ("session_host", "avd-demo-0.contoso.local"),
        ("snapshot", "snap-os_1"), ("disk", "disk_"), ("nic", "nic-1"), ("restore_point", "rp-2026-11-22"),
        ("marker", "prod"), ("marker", "ring-1"), ("tag_key", "goldenimage.marker.prod"),
    ],
)
def test_valid_names(kind, value):
    assert validate_name(kind, value) == value


@pytest.mark.parametrize(
    "kind, value, option, fragments",
    [
        ("resource_group", "rg.", "resource_group", ["'resource_group'", "not ending with '.'"]),
        ("resource_group", "x" * 91, "resource_group", ["91 characters", "1-90"]),
        ("vm", "vm-", "name", ["'name'", "not ending with '.' or '-'"]),
        ("vm", "_vm", "name", ["starting with a letter or digit"]),
        ("vm", "vm name", "name", ["not valid"]),
        ("computer_name", "avd-demo-host-0001", "computer_name", ["18 characters", "1-15"]),
        ("computer_name", "12345", "computer_name", ["not only digits"]),
        ("gallery", "gal-avd", "gallery", ["'gallery'", "letters, digits, '_' and '.'"]),
        ("image_definition", "win11-", "image", ["'image'"]),
        ("image_version", "1.0", "version", ["'version'", "Major.Minor.Patch"]),
        ("image_version", "1.0.0-beta", "version", ["Major.Minor.Patch"]),
        ("image_version", "1.0.2147483648", "version", ["above 2147483647"]),
        ("host_pool", "hp", "host_pool", ["2 characters", "3-64"]),
        ("host_pool", "hp/1", "host_pool", ["not valid"]),
        ("marker", "Prod", "marker", ["lower-case"]),
        ("marker", "", "marker", ["needs a marker name"]),
        ("tag_key", "a/b", "tags", ["'tags'", "except"]),
        ("snapshot", "snap-", "name", ["ending with a letter, digit or '_'"]),
    ],
)
def test_invalid_names_name_the_option_and_rule(kind, value, option, fragments):
    with pytest.raises(ValueError) as err:
        validate_name(kind, value)
    message = str(err.value)
    assert "Option '%s'" % option in message
    for fragment in fragments:
        assert fragment in message


def test_option_name_can_be_given():
    with pytest.raises(ValueError, match="Option 'source_vm'"):
        validate_name("vm", "bad name", option="source_vm")
    with pytest.raises(ValueError, match="Unknown name kind 'planet'"):
        validate_name("planet", "earth")
    with pytest.raises(ValueError, match="needs a vm name"):
        validate_name("vm", None)
