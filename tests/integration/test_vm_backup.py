"""vm_backup against the simulator: check -> real -> idempotent -> remove -> remove again, retention,
and the restore preconditions."""

from __future__ import annotations

import pytest

from helpers import run_module, wire
from test_vm_clone import ORIGINAL, RG, TIME_SCALE, attach_data_disk, deallocate_original

COLLECTION = ORIGINAL + "-restorepoints"


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def restore_points(sim):
    collection = wire(sim.compute_client().restore_point_collections.get(RG, COLLECTION, expand="restorePoints"))
    return sorted(rp["name"] for rp in collection["properties"].get("restorePoints") or [])


def vm_guest(sim):
    vm = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))
    disk_id = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
    return {k.lower(): v for k, v in sim.state()["internal"].items()}[disk_id]["guest"]


def collection_exists(sim):
    return any(r["name"] == COLLECTION for r in sim.state()["resources"])


def test_backup_matrix(sim):
    args = {"resource_group": RG, "vm": ORIGINAL, "name": "before-1.0.1"}
    check = run_module(sim, "vm_backup", args, check=True, diff=True)
    assert not check["failed"], check
    assert check["changed"] and check["collection"]["created"]
    assert not collection_exists(sim)

    real = run_module(sim, "vm_backup", args, diff=True)
    assert not real["failed"], real
    assert real["changed"] and real["restore_point"]["name"] == "before-1.0.1"
    assert real["restore_point"]["provisioning_state"] == "Succeeded"
    assert real["restore_point"]["disks"][0]["lun"] is None
    assert restore_points(sim) == ["before-1.0.1"]
    rp = wire(sim.compute_client().restore_points.get(RG, COLLECTION, "before-1.0.1"))
    source = rp["properties"]["sourceMetadata"]["storageProfile"]["osDisk"]
    assert source["diskRestorePoint"]["id"]
    vm = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))
    assert source["managedDisk"]["id"].lower() == vm["properties"]["storageProfile"]["osDisk"]["managedDisk"][
        "id"].lower()

    again = run_module(sim, "vm_backup", args)
    assert not again["failed"] and again["changed"] is False
    assert restore_points(sim) == ["before-1.0.1"]

    absent = dict(args, state="absent")
    remove_check = run_module(sim, "vm_backup", absent, check=True)
    assert remove_check["changed"] and restore_points(sim) == ["before-1.0.1"]
    removed = run_module(sim, "vm_backup", absent)
    assert not removed["failed"] and removed["changed"]
    assert restore_points(sim) == []
    removed_again = run_module(sim, "vm_backup", absent)
    assert not removed_again["failed"] and removed_again["changed"] is False


def test_retain_prunes_the_oldest(sim):
    for name in ("b1", "b2", "b3"):
        result = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": name})
        assert not result["failed"], result
        sim.advance(3600)
    check = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b4", "retain": 2},
                       check=True)
    assert check["changed"] and check["pruned"] == ["b1", "b2"]
    assert restore_points(sim) == ["b1", "b2", "b3"]
    real = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b4", "retain": 2})
    assert not real["failed"], real
    assert real["pruned"] == ["b1", "b2"]
    assert restore_points(sim) == ["b3", "b4"]
    again = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b4", "retain": 2})
    assert again["changed"] is False and again["pruned"] == []


def test_restore_needs_a_deallocated_vm_and_an_existing_restore_point(sim):
    missing = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "nope",
                                            "state": "restored"})
    assert missing["failed"] and "not found" in missing["msg"]
    made = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1"})
    assert not made["failed"], made
    running = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1",
                                            "state": "restored"})
    assert running["failed"] and "must be deallocated" in running["msg"]
    deallocate_original(sim)
    check = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1",
                                          "state": "restored"}, check=True)
    assert not check["failed"], check
    assert check["changed"] and len(check["restored_disks"]) == 1
    assert check["restored_disks"][0].endswith("-rp-b1")


def test_bad_input_fails_before_anything_changes(sim):
    result = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "state": "absent"})
    assert result["failed"] and "Option 'name' is required" in result["msg"]
    result = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "x", "retain": 0})
    assert result["failed"] and "retain" in result["msg"]
    assert sim.metrics()["requests"]["writes"] == 0


def test_restore_reverts_the_disks_to_the_restore_point(sim):
    made = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1"})
    assert not made["failed"], made
    updated = run_module(sim, "windows_update", {"resource_group": RG, "name": ORIGINAL})
    assert not updated["failed"] and updated["changed"], updated
    assert vm_guest(sim)["pending_updates"] == []
    deallocate_original(sim)
    old_disk = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))["properties"]["storageProfile"][
        "osDisk"]["managedDisk"]["id"]

    restored = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1",
                                             "state": "restored"}, diff=True)
    assert not restored["failed"], restored
    assert restored["changed"] and restored["replaced_disk_ids"] == [old_disk]
    vm = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))
    new_disk_id = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    assert new_disk_id.lower().endswith("-rp-b1")
    new_disk = wire(sim.compute_client().disks.get(RG, new_disk_id.rsplit("/", 1)[1]))
    assert new_disk["tags"]["goldenimage.restored-from"] == COLLECTION + "/b1"
    # the guest is back to the state of the backup: the updates are pending again
    assert [u["kb"] for u in vm_guest(sim)["pending_updates"]] == ["KB5044284", "KB5044033", "KB2267602"]
    # the replaced disk is kept, detached
    assert wire(sim.compute_client().disks.get(RG, old_disk.rsplit("/", 1)[1]))["properties"]["diskState"] \
        == "Unattached"

    again = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1", "state": "restored"})
    assert not again["failed"] and again["changed"] is False
    started = run_module(sim, "vm_power", {"resource_group": RG, "name": ORIGINAL, "state": "running"})
    assert not started["failed"] and started["power_state"] == "running"


def test_restore_swaps_the_data_disks_too(sim):
    compute = sim.compute_client()
    data_id = attach_data_disk(sim)

    made = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1"})
    assert not made["failed"], made
    assert sorted(str(d["lun"]) for d in made["restore_point"]["disks"]) == ["0", "None"]
    deallocate_original(sim)
    before = wire(compute.virtual_machines.get(RG, ORIGINAL))["properties"]["storageProfile"]
    old_os = before["osDisk"]["managedDisk"]["id"]

    restored = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1",
                                             "state": "restored"})
    assert not restored["failed"], restored
    assert restored["changed"]
    assert sorted(i.lower() for i in restored["replaced_disk_ids"]) == sorted([old_os.lower(), data_id.lower()])
    after = wire(compute.virtual_machines.get(RG, ORIGINAL))["properties"]["storageProfile"]
    assert after["osDisk"]["managedDisk"]["id"].lower().endswith("-rp-b1")
    # the data disk keeps its LUN and caching; the disk behind it is the one made from the restore point
    assert [(d["lun"], d["caching"]) for d in after["dataDisks"]] == [(0, "ReadOnly")]
    new_data = after["dataDisks"][0]["managedDisk"]["id"]
    assert new_data.lower() != data_id.lower() and new_data.lower().endswith("-rp-b1")
    disk = wire(compute.disks.get(RG, new_data.rsplit("/", 1)[1]))
    assert disk["properties"]["creationData"]["createOption"] == "Restore"
    assert disk["tags"]["goldenimage.restored-from"] == COLLECTION + "/b1"
    # both replaced disks are kept, detached
    for old in (old_os, data_id):
        assert wire(compute.disks.get(RG, old.rsplit("/", 1)[1]))["properties"]["diskState"] == "Unattached"

    again = run_module(sim, "vm_backup", {"resource_group": RG, "vm": ORIGINAL, "name": "b1", "state": "restored"})
    assert not again["failed"] and again["changed"] is False, again
