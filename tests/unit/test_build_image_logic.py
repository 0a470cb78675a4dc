# -*- coding: utf-8 -*-
"""Table-driven tests of the pure parts of the build: clone names, disk mapping, version numbers,
restore-point retention, sysprep planning and refusal, guest-script parameters."""

from __future__ import annotations

import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _backup as backup
    from ansible_collections.goldenimage.avd.plugins.module_utils import _capture as capture
    from ansible_collections.goldenimage.avd.plugins.module_utils import _clone as clone
    from ansible_collections.goldenimage.avd.plugins.module_utils import _guest_scripts as scripts
    from ansible_collections.goldenimage.avd.plugins.module_utils import _sysprep as sysprep
    from ansible_collections.goldenimage.avd.plugins.module_utils._versions import next_patch_version
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _backup as backup
    from ansible_collections.goldenimage.avd.plugins.module_utils import _capture as capture
    from ansible_collections.goldenimage.avd.plugins.module_utils import _clone as clone
    from ansible_collections.goldenimage.avd.plugins.module_utils import _guest_scripts as scripts
    from ansible_collections.goldenimage.avd.plugins.module_utils import _sysprep as sysprep
    from ansible_collections.goldenimage.avd.plugins.module_utils._versions import next_patch_version

SUB = "00000000-0000-0000-0000-000000000001"
VM_ID = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-golden" % SUB
CLONE_ID = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-golden-clone" % SUB
SUBNET = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s" % SUB


# ------------------------------------------------------------------------------------- clone

def test_clone_names_are_derived_from_the_clone_name():
    names = clone.clone_names("c1", [0, 2])
    assert names == {
        "vm": "c1", "nic": "c1-nic", "os_disk": "c1-osdisk", "os_snapshot": "c1-snap-os",
        "data_disks": {0: "c1-datadisk-0", 2: "c1-datadisk-2"},
        "data_snapshots": {0: "c1-snap-data-0", 2: "c1-snap-data-2"},
    }


@pytest.mark.parametrize("name, match", [
    ("c1-osdisk", True), ("C1-OSDISK", True), ("c1-datadisk-12", True), ("c1-snap-os", True),
    ("c1-snap-data-3", True), ("c1-nic", False), ("c10-osdisk", False), ("xc1-osdisk", False),
    ("c1-osdisk-old", False),
])
def test_clone_resource_pattern(name, match):
    assert bool(clone.clone_resource_pattern("c1").match(name)) is match


@pytest.mark.parametrize("params, message", [
    ({"name": "c1", "source_vm": "vm", "state": "present"}, None),
    ({"name": "c1", "source_vm": None, "state": "present"}, "source_vm"),
    ({"name": "c1", "source_vm": None, "state": "absent"}, None),
    ({"name": "vm", "source_vm": "vm", "state": "present"}, "must differ"),
    ({"name": "bad name", "source_vm": "vm", "state": "present"}, "Option 'name'"),
    ({"name": "x" * 64, "source_vm": "vm", "state": "present"}, None),
    ({"name": "x" * 65, "source_vm": "vm", "state": "present"}, "Option .name."),
    ({"name": "c1", "source_vm": "vm", "state": "present", "subnet_id": VM_ID}, "subnet_id"),
    ({"name": "c1", "source_vm": "vm", "state": "present", "subnet_id": SUBNET}, None),
])
def test_validate_clone_params(params, message):
    params = dict({"resource_group": "rg", "source_resource_group": None, "subnet_id": None}, **params)
    if message is None:
        clone.validate_clone_params(params)
    else:
        with pytest.raises(ValueError, match=message):
            clone.validate_clone_params(params)


def _vm(tags=None, power="deallocated", data=((0, "ReadOnly"),), nic_subnet=SUBNET, security=True):
    props = {
        "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
        "storageProfile": {
            "osDisk": {"osType": "Windows", "caching": "ReadWrite", "managedDisk": {"id": VM_ID + "-os"}},
            "dataDisks": [{"lun": lun, "caching": caching, "managedDisk": {"id": "%s-data%d" % (VM_ID, lun)}}
                          for lun, caching in data],
        },
        "networkProfile": {"networkInterfaceConfigurations": [{"name": "n", "properties": {
            "primary": True, "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": nic_subnet}}}]}}]}
        if nic_subnet else {"networkInterfaces": [{"id": "/nic"}]},
        "instanceView": {"statuses": [{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/" + power}]},
        "licenseType": "Windows_Client",
    }
    if security:
        props["securityProfile"] = {"securityType": "TrustedLaunch",
                                    "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    return {"id": VM_ID, "name": "vm-golden", "location": "westeurope", "tags": dict(tags or {}),
            "properties": props}


def test_source_disks_and_subnet():
    vm = _vm(data=((1, "None"), (0, "ReadOnly")))
    assert clone.source_disks(vm) == [(None, VM_ID + "-os", "ReadWrite"), (0, VM_ID + "-data0", "ReadOnly"),
                                      (1, VM_ID + "-data1", "None")]
    assert clone.source_subnet(vm) == SUBNET
    assert clone.source_subnet(_vm(nic_subnet=None)) is None


def test_vm_body_attaches_disks_with_vm_owned_nic_and_keeps_security():
    vm = _vm()
    names = clone.clone_names("c1", [0])
    body = clone.vm_body(vm, names, "/os", {0: "/d0"}, SUBNET, None, clone.clone_tags(VM_ID))
    props = body["properties"]
    assert props["hardwareProfile"]["vmSize"] == "Standard_D4s_v5"
    assert props["storageProfile"]["osDisk"]["createOption"] == "Attach"
    assert props["storageProfile"]["osDisk"]["managedDisk"] == {"id": "/os"}
    assert props["storageProfile"]["dataDisks"] == [{"lun": 0, "name": "c1-datadisk-0", "createOption": "Attach",
                                                     "caching": "ReadOnly", "managedDisk": {"id": "/d0"},
                                                     "deleteOption": "Delete"}]
    nic = props["networkProfile"]["networkInterfaceConfigurations"][0]
    assert nic["name"] == "c1-nic" and nic["properties"]["deleteOption"] == "Delete"
    ip = nic["properties"]["ipConfigurations"][0]["properties"]
    assert ip["subnet"] == {"id": SUBNET} and "publicIPAddressConfiguration" not in ip
    assert props["securityProfile"]["securityType"] == "TrustedLaunch"
    assert "osProfile" not in props
    assert body["tags"] == {"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID}
    assert clone.vm_body(vm, names, "/os", {0: "/d0"}, SUBNET, "Standard_D2s_v5", {})[
        "properties"]["hardwareProfile"]["vmSize"] == "Standard_D2s_v5"


def test_disk_body_copies_boot_properties_from_source_disk():
    source = {"sku": {"name": "Premium_LRS", "tier": "Premium"},
              "properties": {"osType": "Windows", "hyperVGeneration": "V2", "diskSizeGB": 128,
                             "securityProfile": {"securityType": "TrustedLaunch"}, "diskState": "Reserved"}}
    body = clone.disk_body("westeurope", "/snap", source, {"a": "b"}, zones=["1"])
    assert body["sku"] == {"name": "Premium_LRS"}
    assert body["zones"] == ["1"]
    assert body["properties"]["creationData"] == {"createOption": "Copy", "sourceResourceId": "/snap"}
    assert body["properties"]["hyperVGeneration"] == "V2"
    assert body["properties"]["securityProfile"] == {"securityType": "TrustedLaunch"}
    assert "diskState" not in body["properties"]


@pytest.mark.parametrize("tags, source, expected", [
    ({"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID}, None, True),
    ({"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID.upper()}, VM_ID, True),
    ({"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID}, CLONE_ID, False),
    ({"goldenimage.role": "clone"}, None, False),
    ({"goldenimage.role": "original"}, None, False),
    ({}, None, False),
])
def test_is_clone_of(tags, source, expected):
    assert clone.is_clone_of({"tags": tags}, source) is expected


# ------------------------------------------------------------------------------------- capture

@pytest.mark.parametrize("names, expected", [
    ([], "1.0.0"),
    (["1.0.0"], "1.0.1"),
    (["1.0.9", "1.0.10", "1.0.2"], "1.0.11"),
    (["1.2.0", "1.10.0", "1.9.5"], "1.10.1"),
    (["2.0.0", "latest", "1.9.9"], "2.0.1"),
])
def test_next_patch_version(names, expected):
    assert next_patch_version(names) == expected


@pytest.mark.parametrize("params, message", [
    ({}, None),
    ({"version": "1.0"}, "Option 'version'"),
    ({"version": "1.0.x"}, "Option 'version'"),
    ({"gallery": "gal-bad"}, "Option 'gallery'"),
    ({"target_regions": [{"name": "westeurope"}, {"name": "West Europe"}]}, "twice"),
    ({"target_regions": [{"name": "westeurope", "replicas": 0}]}, "replicas"),
    ({"replica_count": 101}, "replica_count"),
    ({"notes": "x" * 257}, "notes"),
    ({"parent_version": "one"}, "parent_version"),
    ({"definition": {"publisher": "p", "offer": "", "sku": "s"}}, "definition.offer"),
])
def test_validate_capture_params(params, message):
    base = {"resource_group": "rg", "gallery": "gal_avd", "image": "win11", "version": "auto"}
    base.update(params)
    if message is None:
        capture.validate_capture_params(base)
    else:
        with pytest.raises(ValueError, match=message):
            capture.validate_capture_params(base)


def test_version_body_includes_gallery_region_and_source():
    body = capture.version_body("westeurope", CLONE_ID, [{"name": "northeurope", "replicas": 2}], 1, True,
                                "2027-01-01", None, {"t": "v"})
    publishing = body["properties"]["publishingProfile"]
    assert publishing["targetRegions"] == [{"name": "westeurope"}, {"name": "northeurope", "regionalReplicaCount": 2}]
    assert publishing["excludeFromLatest"] is True and publishing["endOfLifeDate"] == "2027-01-01"
    assert body["properties"]["storageProfile"] == {"source": {"virtualMachineId": CLONE_ID}}


@pytest.mark.parametrize("provisioning, states, outcome", [
    ("Succeeded", ["Completed", "Completed"], "done"),
    ("Creating", ["Completed", "Replicating"], "pending"),
    ("Succeeded", ["Completed", "Unknown"], "pending"),
    ("Creating", ["Failed", "Replicating"], "failed"),
    ("Failed", ["Completed"], "failed"),
])
def test_replication_outcome(provisioning, states, outcome):
    version = {"properties": {"provisioningState": provisioning, "replicationStatus": {"summary": [
        {"region": "r%d" % i, "state": state} for i, state in enumerate(states)]}}}
    assert capture.replication_outcome(capture.replication_summary(version)) == outcome


def test_replication_summary_reports_missing_regions_as_unknown():
    version = {"properties": {"provisioningState": "Creating",
                              "replicationStatus": {"summary": [{"region": "West Europe", "state": "Completed"}]}}}
    summary = capture.replication_summary(version, ["westeurope", "northeurope"])
    assert [(r["region"], r["state"]) for r in summary["regions"]] == [
        ("West Europe", "Completed"), ("northeurope", "Unknown")]


def test_find_version_from_source_and_provenance():
    versions = [{"name": "1.0.0", "properties": {"storageProfile": {"source": {"virtualMachineId": VM_ID}}}},
                {"name": "1.0.1", "properties": {"storageProfile": {"source": {"virtualMachineId": CLONE_ID}}}}]
    assert capture.find_version_from_source(versions, CLONE_ID.upper())["name"] == "1.0.1"
    assert capture.find_version_from_source(versions, "/other") is None
    assert capture.source_provenance({"id": CLONE_ID, "tags": {"goldenimage.clone-of": VM_ID}}) == VM_ID
    tags = capture.provenance_tags(VM_ID, "1.0.0", "2026-11-22T00:00:00Z", None, "notes")
    assert tags == {"goldenimage.source-vm": VM_ID, "goldenimage.parent-version": "1.0.0",
                    "goldenimage.build-time": "2026-11-22T00:00:00Z", "goldenimage.notes": "notes"}


def test_markers_of_ignores_previous_keys():
    version = {"tags": {"goldenimage.marker.prod": "t", "goldenimage.marker.prod.previous": "1.0.0",
                        "goldenimage.marker.pilot": "t", "other": "x"}}
    assert capture.markers_of(version) == ["pilot", "prod"]


# ------------------------------------------------------------------------------------- backup

def _rp(name, created, state="Succeeded"):
    return {"name": name, "properties": {"timeCreated": created, "provisioningState": state}}


@pytest.mark.parametrize("retain, keep, expected", [
    (None, None, []),
    (5, None, []),
    (3, None, []),
    (2, None, ["a"]),
    (1, "a", ["b", "c"]),
    (1, "c", ["a", "b"]),
])
def test_restore_points_to_prune(retain, keep, expected):
    points = [_rp("c", "2026-03-01T00:00:00Z"), _rp("a", "2026-01-01T00:00:00Z"), _rp("b", "2026-02-01T00:00:00Z")]
    assert [rp["name"] for rp in backup.restore_points_to_prune(points, retain, keep)] == expected


def test_restore_points_being_created_are_never_pruned():
    points = [_rp("a", "2026-01-01T00:00:00Z", "Creating"), _rp("b", "2026-02-01T00:00:00Z"),
              _rp("c", "2026-03-01T00:00:00Z")]
    assert [rp["name"] for rp in backup.restore_points_to_prune(points, 1, "c")] == ["b"]


@pytest.mark.parametrize("params, message", [
    ({"state": "present", "name": None}, None),
    ({"state": "absent", "name": None}, "Option 'name' is required"),
    ({"state": "restored", "name": None}, "Option 'name' is required"),
    ({"state": "present", "name": "ok", "retain": 0}, "retain"),
    ({"state": "present", "name": "bad name"}, "Option 'name'"),
])
def test_validate_backup_params(params, message):
    base = {"resource_group": "rg", "vm": "vm1", "collection": None, "retain": None}
    base.update(params)
    if message is None:
        backup.validate_backup_params(base)
    else:
        with pytest.raises(ValueError, match=message):
            backup.validate_backup_params(base)


def test_restored_disk_name_stays_within_80_characters():
    assert backup.restored_disk_name("vm1-osdisk", "rp1") == "vm1-osdisk-rp-rp1"
    assert len(backup.restored_disk_name("d" * 80, "before-build-1.0.1")) == 80


# ------------------------------------------------------------------------------------- sysprep

def _clone_vm(tags, power="running", generalized=False):
    statuses = [{"code": "PowerState/" + power}] + ([{"code": "OSState/generalized"}] if generalized else [])
    return {"id": CLONE_ID, "name": "vm-golden-clone", "tags": tags,
            "properties": {"instanceView": {"statuses": statuses}}}


CLONE_TAGS = {"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID}


@pytest.mark.parametrize("tags, refused_with", [
    (CLONE_TAGS, None),
    ({"goldenimage.role": "original"}, "original"),
    ({"goldenimage.role": "original", "goldenimage.clone-of": VM_ID}, "original"),
    ({}, "not made by"),
    ({"goldenimage.role": "clone"}, "not made by"),
    ({"goldenimage.clone-of": VM_ID}, "not made by"),
    ({"goldenimage.role": "clone", "goldenimage.clone-of": CLONE_ID}, "itself"),
])
def test_refusal_reason(tags, refused_with):
    reason = sysprep.refusal_reason(_clone_vm(tags))
    if refused_with is None:
        assert reason is None
    else:
        assert refused_with in reason


@pytest.mark.parametrize("power, generalized, extra_tags, remove, expected", [
    ("running", False, {}, True, ["preflight", "remove_local_accounts", "sysprep", "wait_for_stop", "deallocate",
                                  "generalize"]),
    ("running", False, {}, False, ["preflight", "sysprep", "wait_for_stop", "deallocate", "generalize"]),
    ("deallocated", False, {}, True, ["start", "preflight", "remove_local_accounts", "sysprep", "wait_for_stop",
                                      "deallocate", "generalize"]),
    ("running", False, {"goldenimage.sysprep-started": "t"}, True, ["wait_for_stop", "deallocate", "generalize"]),
    ("stopped", False, {"goldenimage.sysprep-started": "t"}, True, ["deallocate", "generalize"]),
    ("deallocated", False, {"goldenimage.sysprep-started": "t"}, True, ["generalize"]),
    ("deallocated", True, {"goldenimage.sysprep-started": "t"}, True, []),
    ("stopped", True, {}, True, []),
])
def test_plan_steps(power, generalized, extra_tags, remove, expected):
    vm = _clone_vm(dict(CLONE_TAGS, **extra_tags), power, generalized)
    assert sysprep.plan_steps(vm, remove) == expected


@pytest.mark.parametrize("keep, admin, expected", [
    (None, "avdadmin", ["avdadmin"]),
    ([], "avdadmin", ["avdadmin"]),
    (["a", "b", "a"], "avdadmin", ["a", "b"]),
    (None, None, []),
])
def test_keep_list(keep, admin, expected):
    assert sysprep.keep_list(keep, admin) == expected


@pytest.mark.parametrize("report, keep, expected", [
    ({"bitlocker": "Off", "pendingReboot": False, "appxPerUser": []}, ["avdadmin"], []),
    ({"bitlocker": "On"}, [], ["BitLocker"]),
    ({"pendingReboot": True}, [], ["reboot is pending"]),
    ({"appxPerUser": [{"user": "alice.local", "package": "P"}]}, ["avdadmin"], []),
    ({"appxPerUser": [{"user": "AvdAdmin", "package": "P"}]}, ["avdadmin"], ["AppX"]),
    ({"sysprepCount": 8, "sysprepLimit": 8}, [], ["limit 8"]),
    (None, [], ["no report"]),
])
def test_preflight_problems(report, keep, expected):
    problems = sysprep.preflight_problems(report, keep)
    assert len(problems) == len(expected)
    for problem, word in zip(problems, expected):
        assert word in problem


# the demo original as the pre-flight sees it: alice.local has a per-user AppX package, both have profiles
DEMO_PREFLIGHT = {
    "bitlocker": "Off", "pendingReboot": False, "sysprepCount": 1, "sysprepLimit": 8, "adminAccount": "avdadmin",
    "localAccounts": ["Administrator", "Guest", "avdadmin", "alice.local", "bob.local"],
    "profiles": ["avdadmin", "alice.local", "bob.local"],
    "appxPerUser": [{"user": "alice.local", "package": "SpotifyAB"}],
}


@pytest.mark.parametrize("keep, remove, admin, expected", [
    (["avdadmin"], True, None, []),  # the usual build: the others and their profiles are removed first
    (["avdadmin", "bob.local"], True, None, ["profiles that stay in the image: bob.local"]),
    (["avdadmin", "alice.local"], True, None, ["AppX", "profiles that stay in the image: alice.local"]),
    (["avdadmin"], False, None, ["AppX", "profiles that stay in the image: alice.local, bob.local"]),
    (["AVDADMIN"], True, "AvdAdmin", []),
    (["svc"], True, "svc", []),  # avdadmin removed; no profile of svc
])
def test_preflight_blockers_follow_the_account_removal(keep, remove, admin, expected):
    problems = sysprep.preflight_problems(DEMO_PREFLIGHT, keep, remove_local_accounts=remove, admin=admin)
    assert len(problems) == len(expected), problems
    for problem, words in zip(problems, expected):
        assert words in problem


def test_blocker_report_lists_every_blocker():
    report = sysprep.blocker_report("vm-clone", ["BitLocker is on", "a reboot is pending"])
    assert report.splitlines() == [
        "Pre-flight checks in VM 'vm-clone' found what would make sysprep fail; sysprep was not started:",
        "- BitLocker is on", "- a reboot is pending"]


def test_sysprep_failure_is_new_lines_in_setuperr():
    before = {"setupact": ["old"], "setuperr": []}
    assert not sysprep.sysprep_failed({"setupact": ["old", "new"], "setuperr": []}, before)
    assert sysprep.sysprep_failed({"setuperr": ["Error SYSPRP failed"]}, before)
    assert not sysprep.sysprep_failed({"setuperr": ["stale"]}, {"setuperr": ["stale"]})
    tail = sysprep.log_tail({"setupact": ["a1", "a2"], "setuperr": ["e1"]})
    assert tail.index("setuperr.log") < tail.index("setupact.log") and "e1" in tail and "a2" in tail


# ------------------------------------------------------------------------------------- guest scripts

@pytest.mark.parametrize("op", sorted(scripts.SCRIPTS))
def test_every_script_names_its_op_on_the_first_line(op):
    assert scripts.op_of(scripts.SCRIPTS[op]) == op
    assert scripts.SCRIPTS[op].splitlines()[1].startswith("param(")


INJECTION = "x'; Remove-Item C:\\ -Recurse; '"


def test_values_travel_only_as_parameters():
    body = scripts.run_command_input("remove-local-accounts", KeepAccounts=["avdadmin", INJECTION])
    assert body["script"] == scripts.REMOVE_LOCAL_ACCOUNTS.splitlines()
    assert INJECTION not in "\n".join(body["script"])
    assert body["parameters"] == [{"name": "KeepAccounts", "value": "avdadmin," + INJECTION}]
    assert body["commandId"] == "RunPowerShellScript"


def test_parse_output_reads_the_json_document():
    result = {"value": [{"code": "ComponentStatus/StdOut/succeeded", "message": '{"removed": ["a"]}'},
                        {"code": "ComponentStatus/StdErr/succeeded", "message": "warn"}]}
    assert scripts.parse_output(result) == ({"removed": ["a"]}, '{"removed": ["a"]}', "warn")
    noisy = {"value": [{"code": "ComponentStatus/StdOut/succeeded", "message": 'hello\n{"started": true}\n'}]}
    assert scripts.parse_output(noisy)[0] == {"started": True}
    assert scripts.parse_output({"value": []})[0] is None


# ------------------------------------------------------------------------------------- vm_power

@pytest.mark.parametrize("current, wanted, actions", [
    ("running", None, []),
    ("running", "running", []),
    ("starting", "running", []),
    ("running", "deallocated", ["deallocate"]),
    ("stopped", "deallocated", ["deallocate"]),
    ("deallocating", "deallocated", []),
    ("running", "stopped", ["power_off"]),
    ("deallocated", "stopped", ["start", "power_off"]),
    ("deallocated", "running", ["start"]),
    ("stopped", "running", ["start"]),
])
def test_power_actions(current, wanted, actions):
    from ansible_collections.goldenimage.avd.plugins.module_utils import _power  # pylint: disable=import-outside-toplevel
    assert _power.power_actions(current, wanted) == actions
