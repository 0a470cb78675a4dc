# -*- coding: utf-8 -*-
"""Table-driven tests of the pure parts of _hostpool, _deploy and _drain (no Azure calls)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils import _deploy as deploy
from ansible_collections.goldenimage.avd.plugins.module_utils import _drain as drain
from ansible_collections.goldenimage.avd.plugins.module_utils import _hostpool as hostpool
from ansible_collections.goldenimage.avd.plugins.module_utils._vm import power_state

DEF = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/win11"
NOW = datetime.datetime(2026, 11, 2, 8, 0, tzinfo=datetime.timezone.utc)


# --------------------------------------------------------------------------- _hostpool

@pytest.mark.parametrize("reference,expected", [
    ({"id": DEF + "/versions/1.0.1", "exactVersion": "1.0.1"},
     {"image_definition_id": DEF, "image_version": "1.0.1", "image_version_id": DEF + "/versions/1.0.1"}),
    ({"id": DEF + "/versions/latest", "exactVersion": "1.0.3"},
     {"image_definition_id": DEF, "image_version": "1.0.3", "image_version_id": DEF + "/versions/1.0.3"}),
    ({"id": DEF, "exactVersion": "1.0.2"},
     {"image_definition_id": DEF, "image_version": "1.0.2", "image_version_id": DEF + "/versions/1.0.2"}),
    ({"publisher": "MicrosoftWindowsDesktop", "offer": "windows-11", "sku": "win11-24h2-avd", "version": "latest",
      "exactVersion": "26100.1"},
     {"image_definition_id": "MicrosoftWindowsDesktop:windows-11:win11-24h2-avd", "image_version": "26100.1",
      "image_version_id": None}),
    ({}, {"image_definition_id": None, "image_version": None, "image_version_id": None}),
])
def test_vm_image(reference, expected):
    vm = {"properties": {"storageProfile": {"imageReference": reference}}}
    assert hostpool.vm_image(vm) == expected


POOL_ID = "/subscriptions/s/resourceGroups/rg-avd/providers/Microsoft.DesktopVirtualization/hostPools/hp"


def _sh(resource_id):
    return {"name": "hp/x", "properties": {"resourceId": resource_id}}


def _vm_id(group, name="vm", subscription="s"):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        subscription, group, name)


@pytest.mark.parametrize("resource_ids,expected", [
    ([_vm_id("rg-avd"), _vm_id("RG-AVD", "b")], []),
    ([_vm_id("rg-hosts"), _vm_id("RG-Hosts", "b"), _vm_id("rg-avd")], ["rg-hosts"]),
    ([_vm_id("rg-b"), _vm_id("rg-a")], ["rg-a", "rg-b"]),
    ([_vm_id("rg-other-sub", subscription="t"), None, "", "not-an-id"], []),
])
def test_vm_resource_groups(resource_ids, expected):
    assert hostpool.vm_resource_groups([_sh(rid) for rid in resource_ids], POOL_ID, "rg-avd") == expected


@pytest.mark.parametrize("vm_id,expected", [
    (_vm_id("rg-hosts"), "rg-hosts"),
    (None, "rg-avd"),
    ("", "rg-avd"),
])
def test_drain_uses_the_vm_resource_group(vm_id, expected):
    ctx = drain.DrainContext(None, None, "rg-avd", "hp", server_now=lambda: NOW)
    assert drain._vm_resource_group(ctx, {"vm_id": vm_id}) == expected  # pylint: disable=protected-access


@pytest.mark.parametrize("statuses,expected", [
    ([{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}], "running"),
    ([{"code": "PowerState/deallocated"}], "deallocated"),
    ([], None),
])
def test_vm_power_state(statuses, expected):
    # a host pool report says null, not "unknown", for a VM without an instance view
    assert power_state({"properties": {"instanceView": {"statuses": statuses}}}, default=None) == expected


@pytest.mark.parametrize("value,expected", [
    ("owner=run-1;expires=2026-11-02T09:00:00Z;hosts=3;in_service=3;floor=3;target=1.0.1",
     {"owner": "run-1", "expires": "2026-11-02T09:00:00Z", "hosts": 3, "in_service": 3, "floor": 3,
      "target": "1.0.1"}),
    ("owner=a;expires=x;hosts=three;unknown=1", {"owner": "a", "expires": "x"}),
    ("", {}),
    (None, {}),
])
def test_parse_lock(value, expected):
    assert hostpool.parse_lock(value) == expected


def test_format_lock_round_trip():
    fields = {"owner": "run-1", "expires": "2026-11-02T09:00:00Z", "hosts": 20, "in_service": 19, "floor": 19,
              "target": "1.0.1"}
    assert hostpool.parse_lock(hostpool.format_lock(fields)) == fields
    assert len(hostpool.format_lock(fields)) <= 256  # Azure's limit on a tag value


@pytest.mark.parametrize("tags,expected", [
    ({}, {"present": False, "expired": True}),
    ({"goldenimage.rollout-lock": "owner=a;expires=2026-11-02T09:00:00Z"},
     {"present": True, "expired": False, "owner": "a", "expires": "2026-11-02T09:00:00Z"}),
    ({"goldenimage.rollout-lock": "owner=a;expires=2026-11-02T08:00:00Z"},
     {"present": True, "expired": True, "owner": "a", "expires": "2026-11-02T08:00:00Z"}),
    ({"goldenimage.rollout-lock": "owner=a;expires=garbage"},
     {"present": True, "expired": True, "owner": "a", "expires": "garbage"}),
])
def test_lock_state(tags, expected):
    assert hostpool.lock_state(tags, NOW) == expected


def _version(name, tags):
    return {"name": name, "id": DEF + "/versions/" + name, "tags": tags, "properties": {}}


@pytest.mark.parametrize("versions,expected", [
    ([_version("1.0.0", {"goldenimage.marker.prod": "2026-10-06T08:00:00Z"}), _version("1.0.1", {})], "1.0.0"),
    ([_version("1.0.0", {"goldenimage.marker.prod": "2026-10-06T08:00:00Z"}),
      _version("1.0.1", {"goldenimage.marker.prod": "2026-11-01T08:00:00Z"})], "1.0.1"),  # newest claim wins
    ([_version("1.0.0", {"goldenimage.marker.pilot": "2026-10-06T08:00:00Z"})], None),
    ([], None),
])
def test_marker_holder(versions, expected):
    holder = hostpool.marker_holder(versions, "prod")
    assert (holder or {}).get("name") == expected


# --------------------------------------------------------------------------- _deploy

def _definition(security, generation="V2"):
    return {"name": "win11", "properties": {"hyperVGeneration": generation,
                                            "features": [{"name": "SecurityType", "value": security}] if security else []}}


@pytest.mark.parametrize("security,generation,choice,expected", [
    ("TrustedLaunchSupported", "V2", "auto", "TrustedLaunch"),
    ("TrustedLaunch", "V2", "auto", "TrustedLaunch"),
    ("TrustedLaunchAndConfidentialVmSupported", "V2", "auto", "TrustedLaunch"),
    (None, "V2", "auto", None),
    (None, "V1", "auto", None),
    ("TrustedLaunchSupported", "V2", "Standard", None),
])
def test_security_profile(security, generation, choice, expected):
    profile = deploy.security_profile(_definition(security, generation), choice)
    assert (profile or {}).get("securityType") == expected
    if expected:
        assert profile["uefiSettings"] == {"secureBootEnabled": True, "vTpmEnabled": True}


@pytest.mark.parametrize("security,choice,message", [
    ("TrustedLaunch", "Standard", "requires Trusted Launch"),
    (None, "TrustedLaunch", "does not support Trusted Launch"),
])
def test_security_profile_refuses(security, choice, message):
    with pytest.raises(ValueError, match=message):
        deploy.security_profile(_definition(security), choice)


@pytest.mark.parametrize("names,message", [
    (["avd-demo-3"], None),
    (["a" * 15], None),
    (["a" * 16], "Windows computer name"),
    (["12345"], "Windows computer name"),
    (["bad_name"], "Windows computer name"),
    (["avd-1", "AVD-1"], "listed twice"),
])
def test_check_names(names, message):
    if message is None:
        deploy.check_names(names)
    else:
        with pytest.raises(ValueError, match=message):
            deploy.check_names(names)


@pytest.mark.parametrize("password,ok", [
    ("Rollout-Test-Pa55!", True), ("alllowercase123", False), ("Short1!", False), ("", False),
    ("NoDigitsButUpper!", True),
])
def test_check_password(password, ok):
    if ok:
        deploy.check_password(password)
    else:
        with pytest.raises(ValueError, match="admin_password"):
            deploy.check_password(password)


@pytest.mark.parametrize("join,message", [
    ({"type": "entra"}, None),
    ({"type": "ad", "domain": "contoso.com", "user": "svc", "password": "x"}, None),
    ({"type": "ad", "domain": "contoso.com"}, "join.user, join.password"),
    ({"type": "entra", "password": "x"}, "apply only to join.type=ad"),
])
def test_check_join(join, message):
    if message is None:
        deploy.check_join(join)
    else:
        with pytest.raises(ValueError, match=message):
            deploy.check_join(join)


def test_token_only_in_protected_settings():
    body = deploy.dsc_extension("westeurope", "hp", "SECRET-TOKEN", {"type": "entra"}, deploy.AGENT_CONFIGURATION_URL)
    props = body["properties"]
    assert "SECRET-TOKEN" not in repr(props["settings"])
    assert props["protectedSettings"] == {"properties": {"registrationInfoToken": "SECRET-TOKEN"}}
    assert props["settings"]["properties"]["hostPoolName"] == "hp"
    assert props["settings"]["configurationFunction"] == "Configuration.ps1\\AddSessionHost"
    assert (props["publisher"], props["type"]) == ("Microsoft.Powershell", "DSC")


def test_ad_join_password_only_in_protected_settings():
    name, body = deploy.join_extension("westeurope", {"type": "ad", "domain": "contoso.com", "user": "svc",
                                                      "password": "P@ss", "ou_path": "OU=AVD"})
    assert name == "JsonADDomainExtension"
    assert body["properties"]["settings"] == {"Name": "contoso.com", "User": "svc@contoso.com", "Restart": "true",
                                              "Options": "3", "OUPath": "OU=AVD"}
    assert body["properties"]["protectedSettings"] == {"Password": "P@ss"}


def test_vm_body_owns_its_nic_and_disk():
    params = {"vm_size": "Standard_D4s_v5", "os_disk_type": "Premium_LRS", "admin_username": "avdadmin",
              "admin_password": "x", "subnet_id": "/sub/snet", "license_type": "Windows_Client",
              "join": {"type": "entra"}}
    body = deploy.vm_body("avd-3", "westeurope", params, DEF + "/versions/1.0.1", None, {"goldenimage.rollout": "r"})
    props = body["properties"]
    assert props["storageProfile"]["osDisk"]["deleteOption"] == "Delete"
    nic = props["networkProfile"]["networkInterfaceConfigurations"][0]
    assert nic["properties"]["deleteOption"] == "Delete"
    assert "publicIPAddressConfiguration" not in repr(nic)
    assert body["identity"] == {"type": "SystemAssigned"}  # AADLoginForWindows needs it
    assert body["tags"] == {"goldenimage.rollout": "r"}
    assert props["osProfile"]["computerName"] == "avd-3"


# --------------------------------------------------------------------------- _drain

@pytest.mark.parametrize("requested,missing", [
    (["avd-0", "avd-1.contoso.com", "hp/avd-2.contoso.com"], []),
    (["avd-0", "avd-9"], ["avd-9"]),
])
def test_match_hosts(requested, missing):
    pool = [{"name": "hp/avd-%d.contoso.com" % i} for i in range(3)]
    found, not_found = drain.match_hosts(pool, requested)
    assert not_found == missing
    assert len(found) == len(requested) - len(missing)


@pytest.mark.parametrize("message,error", [
    (None, None),
    ({"title": "t", "body": "b", "repeat_interval": 0}, None),
    ({"title": "", "body": "b"}, "title and body"),
    ({"title": "t", "body": "b", "repeat_interval": -1}, "repeat_interval"),
])
def test_check_message(message, error):
    if error is None:
        assert drain.check_message(message) == message
    else:
        with pytest.raises(ValueError, match=error):
            drain.check_message(message)


# --------------------------------------------------------------------------- whose power state is read
def _vm_named(name, tags=None):
    return {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/" + name,
            "name": name, "tags": tags or {}}


def _session_host(name, vm_name=None):
    host = {"name": "hp/%s.contoso.com" % name, "properties": {}}
    if vm_name:
        host["properties"]["resourceId"] = _vm_named(vm_name)["id"].upper()
    return host


@pytest.mark.parametrize("session_hosts, vms, expected", [
    # session-host VMs (by resourceId or by name) and rollout VMs, each once; other VMs are not read
    ([_session_host("h1", "h1"), _session_host("h2")], [_vm_named("h1"), _vm_named("h2"), _vm_named("other")],
     ["h1", "h2"]),
    ([_session_host("h1", "h1")], [_vm_named("h1", {hostpool.TAG_ROLLOUT: "r"}), _vm_named("new", {hostpool.TAG_ROLLOUT: "r"})],
     ["h1", "new"]),
    ([_session_host("gone", "gone")], [_vm_named("other")], []),
    ([], [], []),
])
def test_needing_views(session_hosts, vms, expected):
    by_id = {hostpool.normalize_id(vm["id"]): vm for vm in vms}
    by_name = {vm["name"].lower(): vm for vm in vms}
    assert [vm["name"] for vm in hostpool.needing_views(session_hosts, vms, by_id, by_name)] == expected
