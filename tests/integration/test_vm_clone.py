"""vm_clone and vm_power against the simulator: check -> real -> idempotent -> remove -> remove again,
asserting the simulator's state, and the source VM is never changed."""

from __future__ import annotations

import copy

import pytest

from helpers import run_module, wire

RG = "rg-avd-demo"
ORIGINAL = "vm-golden-w11"
CLONE = "vm-golden-w11-clone"
TIME_SCALE = 6000


def resources(sim, kind=None, name_prefix=None):
    out = []
    for res in sim.state()["resources"]:
        if kind and res.get("type", "").lower() != kind.lower():
            continue
        if name_prefix and not res.get("name", "").lower().startswith(name_prefix.lower()):
            continue
        out.append(res)
    return out


# Violations the build can cause (capacity and user violations belong to the rollout).
BUILD_VIOLATIONS = ("original_sysprepped", "original_generalized", "secret_in_plain_field")


def build_violations(sim):
    return [v for v in sim.metrics()["violations"] if v["kind"] in BUILD_VIOLATIONS]


def clone_parts(sim):
    return sorted((r["type"], r["name"]) for r in resources(sim, name_prefix=CLONE))


def source_vm(sim):
    vm = next(r for r in resources(sim, "Microsoft.Compute/virtualMachines") if r["name"] == ORIGINAL)
    return copy.deepcopy(vm)


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def deallocate_original(sim):
    result = run_module(sim, "vm_power", {"resource_group": RG, "name": ORIGINAL, "state": "deallocated"})
    assert not result["failed"], result
    return result


def test_vm_power_matrix(sim):
    report = run_module(sim, "vm_power", {"resource_group": RG, "name": ORIGINAL})
    assert report["changed"] is False and report["power_state"] == "running"
    check = run_module(sim, "vm_power", {"resource_group": RG, "name": ORIGINAL, "state": "deallocated"},
                       check=True, diff=True)
    assert check["changed"] and check["diff"]["after"]["power_state"] == "deallocated"
    assert wire(sim.compute_client().virtual_machines.instance_view(RG, ORIGINAL))["statuses"][-1]["code"] \
        == "PowerState/running"
    real = deallocate_original(sim)
    assert real["changed"] and real["power_state"] == "deallocated" and real["previous_power_state"] == "running"
    again = deallocate_original(sim)
    assert again["changed"] is False
    stopped = run_module(sim, "vm_power", {"resource_group": RG, "name": ORIGINAL, "state": "stopped"})
    assert stopped["changed"] and stopped["power_state"] == "stopped"
    running = run_module(sim, "vm_power", {"resource_group": RG, "name": ORIGINAL, "state": "running"})
    assert running["changed"] and running["power_state"] == "running"


def test_vm_power_remembers_and_restores(sim):
    args = {"resource_group": RG, "name": ORIGINAL}
    first = run_module(sim, "vm_power", dict(args, state="deallocated", remember=True))
    assert first["changed"] and first["recorded_power_state"] == "running"
    tags = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))["tags"]
    assert tags["goldenimage.power-state-before"] == "running" and tags["goldenimage.role"] == "original"
    # a later change (a re-run after a crash) keeps the first recorded state
    second = run_module(sim, "vm_power", dict(args, state="stopped", remember=True))
    assert second["recorded_power_state"] == "running"
    check = run_module(sim, "vm_power", dict(args, state="restored"), check=True)
    assert check["changed"] and check["power_state"] == "running"
    assert "PowerState/stopped" in [s["code"] for s in wire(sim.compute_client().virtual_machines.instance_view(
        RG, ORIGINAL))["statuses"]]
    restored = run_module(sim, "vm_power", dict(args, state="restored"))
    assert restored["changed"] and restored["power_state"] == "running" and restored["recorded_power_state"] is None
    tags = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))["tags"]
    assert "goldenimage.power-state-before" not in tags and tags["goldenimage.role"] == "original"
    again = run_module(sim, "vm_power", dict(args, state="restored"))
    assert again["changed"] is False and again["power_state"] == "running"


def test_clone_refuses_a_running_source_before_making_anything(sim):
    result = run_module(sim, "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE})
    assert result["failed"]
    assert "running" in result["msg"] and "allow_running_source" in result["msg"]
    assert clone_parts(sim) == []


def test_clone_bad_input_fails_before_anything_changes(sim):
    result = run_module(sim, "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": "bad name!"})
    assert result["failed"] and "Option 'name'" in result["msg"]
    result = run_module(sim, "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE,
                                          "subnet_id": "/subscriptions/x/resourceGroups/rg/providers/"
                                                       "Microsoft.Network/virtualNetworks/v"})
    assert result["failed"] and "subnet_id" in result["msg"]
    # Azure's tag limits, with the clone's own two tags counted
    result = run_module(sim, "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE,
                                          "tags": {"k%d" % n: "v" for n in range(49)}})
    assert result["failed"] and "(and the collection adds 2); Azure allows at most 50 tags" in result["msg"], result
    assert clone_parts(sim) == []
    assert sim.metrics()["requests"]["writes"] == 0


def test_clone_matrix(sim):
    deallocate_original(sim)
    before_source = source_vm(sim)
    args = {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE}

    check = run_module(sim, "vm_clone", args, check=True, diff=True)
    assert not check["failed"], check
    assert check["changed"]
    assert {c["kind"] for c in check["created"]} == {"snapshot", "disk", "vm"}
    assert clone_parts(sim) == []

    real = run_module(sim, "vm_clone", args, diff=True)
    assert not real["failed"], real
    assert real["changed"]
    parts = clone_parts(sim)
    assert ("Microsoft.Compute/virtualMachines", CLONE) in parts
    assert ("Microsoft.Compute/disks", CLONE + "-osdisk") in parts
    assert ("Microsoft.Compute/snapshots", CLONE + "-snap-os") in parts
    assert any(kind == "Microsoft.Network/networkInterfaces" for kind, _name in parts)

    compute = sim.compute_client()
    clone = wire(compute.virtual_machines.get(RG, CLONE, expand="instanceView"))
    source_id = before_source["id"]
    assert clone["tags"]["goldenimage.role"] == "clone"
    assert clone["tags"]["goldenimage.clone-of"].lower() == source_id.lower()
    assert clone["properties"]["hardwareProfile"]["vmSize"] == before_source["properties"]["hardwareProfile"]["vmSize"]
    assert clone["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"
    assert clone["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower().endswith(
        "/disks/%s-osdisk" % CLONE)
    assert "osProfile" not in clone["properties"]
    for disk_or_snapshot in resources(sim, "Microsoft.Compute/disks", CLONE) + \
            resources(sim, "Microsoft.Compute/snapshots", CLONE):
        assert disk_or_snapshot["tags"]["goldenimage.clone-of"].lower() == source_id.lower()
    nic_config = clone["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]
    ip_config = nic_config["properties"]["ipConfigurations"][0]["properties"]
    assert ip_config["subnet"]["id"].endswith("/virtualNetworks/vnet-avd/subnets/snet-hosts")
    assert "publicIPAddressConfiguration" not in ip_config

    # the guest travelled: the clone's OS disk carries the original's guest model
    internal = sim.state()["internal"]
    guests = {key.lower(): value.get("guest") for key, value in internal.items() if isinstance(value, dict)}
    original_disk = before_source["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
    clone_disk = clone["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
    assert guests[clone_disk]["installed_content"] == guests[original_disk]["installed_content"]

    again = run_module(sim, "vm_clone", args, diff=True)
    assert not again["failed"], again
    assert again["changed"] is False and again["created"] == []
    assert clone_parts(sim) == parts

    remove_check = run_module(sim, "vm_clone", {"resource_group": RG, "name": CLONE, "state": "absent"}, check=True)
    assert remove_check["changed"] and clone_parts(sim) == parts

    removed = run_module(sim, "vm_clone", {"resource_group": RG, "name": CLONE, "state": "absent"}, diff=True)
    assert not removed["failed"], removed
    assert removed["changed"]
    assert clone_parts(sim) == []

    removed_again = run_module(sim, "vm_clone", {"resource_group": RG, "name": CLONE, "state": "absent"})
    assert removed_again["changed"] is False and not removed_again["failed"]

    after_source = source_vm(sim)
    assert after_source["properties"]["storageProfile"] == before_source["properties"]["storageProfile"]
    assert after_source.get("tags") == before_source.get("tags")
    assert build_violations(sim) == []


def test_absent_refuses_a_vm_that_is_not_a_clone(sim):
    result = run_module(sim, "vm_clone", {"resource_group": RG, "name": ORIGINAL, "state": "absent"})
    assert result["failed"] and "not a clone" in result["msg"]
    assert any(r["name"] == ORIGINAL for r in resources(sim, "Microsoft.Compute/virtualMachines"))


def test_absent_refuses_an_original_whose_tags_were_copied_from_a_clone(sim):
    # the golden_image role deletes leftover clones by name at every build; tags alone must not doom a VM
    compute = sim.compute_client()
    other = wire(compute.virtual_machines.get(RG, "avd-demo-0"))["id"]
    compute.virtual_machines.begin_update(RG, ORIGINAL, {"tags": {
        "goldenimage.role": "clone", "goldenimage.clone-of": other}}).result()
    writes = sim.metrics()["requests"]["writes"]
    for check in (True, False):
        result = run_module(sim, "vm_clone", {"resource_group": RG, "name": ORIGINAL, "state": "absent"}, check=check)
        assert result["failed"] and "OS disk" in result["msg"] and "copied tags" in result["msg"], result
    assert sim.metrics()["requests"]["writes"] == writes
    assert wire(compute.virtual_machines.get(RG, ORIGINAL))["properties"]["provisioningState"] == "Succeeded"


def test_rerun_after_a_crash_reuses_what_exists(sim):
    """A run that made the snapshot and stopped: the next run reuses it and makes no duplicate."""
    deallocate_original(sim)
    compute = sim.compute_client()
    original = wire(compute.virtual_machines.get(RG, ORIGINAL))
    os_disk_id = original["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    tags = {"goldenimage.role": "clone", "goldenimage.clone-of": original["id"]}
    compute.snapshots.begin_create_or_update(RG, CLONE + "-snap-os", {
        "location": "westeurope", "tags": tags,
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": os_disk_id}}}).result()
    snapshot_id = wire(compute.snapshots.get(RG, CLONE + "-snap-os"))["id"]

    result = run_module(sim, "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE})
    assert not result["failed"], result
    assert {"kind": "snapshot", "name": CLONE + "-snap-os"} not in result["created"]
    assert len(resources(sim, "Microsoft.Compute/snapshots", CLONE)) == 1
    assert wire(compute.snapshots.get(RG, CLONE + "-snap-os"))["id"] == snapshot_id
    disk = wire(compute.disks.get(RG, CLONE + "-osdisk"))
    assert disk["properties"]["creationData"]["sourceResourceId"].lower() == snapshot_id.lower()


def attach_data_disk(sim):
    """An empty 64 GB data disk at LUN 0 (ReadOnly caching) on the original VM; returns its id."""
    compute = sim.compute_client()
    compute.disks.begin_create_or_update(RG, ORIGINAL + "-data0", {
        "location": "westeurope", "sku": {"name": "Premium_LRS"},
        "properties": {"diskSizeGB": 64, "creationData": {"createOption": "Empty"}}}).result()
    data_id = wire(compute.disks.get(RG, ORIGINAL + "-data0"))["id"]
    compute.virtual_machines.begin_update(RG, ORIGINAL, {"properties": {"storageProfile": {"dataDisks": [
        {"lun": 0, "createOption": "Attach", "caching": "ReadOnly", "managedDisk": {"id": data_id}}]}}}).result()
    return data_id


def test_clone_with_a_data_disk(sim):
    compute = sim.compute_client()
    attach_data_disk(sim)
    deallocate_original(sim)

    made = run_module(sim, "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE})
    assert not made["failed"], made
    assert {"kind": "snapshot", "name": CLONE + "-snap-data-0"} in made["created"]
    data = wire(compute.virtual_machines.get(RG, CLONE))["properties"]["storageProfile"]["dataDisks"]
    assert [(d["lun"], d["name"], d["caching"]) for d in data] == [(0, CLONE + "-datadisk-0", "ReadOnly")]
    disk = wire(compute.disks.get(RG, CLONE + "-datadisk-0"))
    assert disk["properties"]["creationData"]["sourceResourceId"].lower().endswith("/snapshots/%s-snap-data-0" % CLONE)

    removed = run_module(sim, "vm_clone", {"resource_group": RG, "name": CLONE, "state": "absent"})
    assert not removed["failed"] and removed["changed"]
    assert clone_parts(sim) == []
    assert wire(compute.disks.get(RG, ORIGINAL + "-data0"))["managedBy"].lower().endswith(
        "/virtualmachines/" + ORIGINAL)
