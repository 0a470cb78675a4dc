"""Provenance against the simulator: the parent of a version is the version the original produced before the
build (recorded on the original, the clone and the restore points), never the highest one; and
playbooks/revert_original.yml puts the original back to a restore point (check mode, keep and tag the replaced
disks, delete them when asked, a second run changes nothing)."""

from __future__ import annotations

import pytest

from helpers import run_playbook, wire
from test_vm_clone import CLONE, ORIGINAL, RG, TIME_SCALE, build_violations

GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
COLLECTION = ORIGINAL + "-restorepoints"
PLAYBOOK = "playbooks/revert_original.yml"
INVENTORY = "playbooks/inventories/demo"


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def play(*tasks):
    return [{"name": "provenance", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]


def task(title, module, **args):
    return {"name": title, "goldenimage.avd." + module: dict(resource_group=RG, **args)}


def build_tasks(tag, versions, changes=None):
    """Back up the original (restore point before-<tag>), clone, sysprep, capture ``versions``, delete the clone."""
    captures = [task("capture %s" % version, "image_capture", gallery=GALLERY, image=IMAGE, version=version,
                     source_vm=CLONE, poll_interval=0.02, timeout=600, **({"changes": changes} if changes else {}))
                for version in versions]
    return [task("deallocate", "vm_power", name=ORIGINAL, state="deallocated"),
            task("backup", "vm_backup", vm=ORIGINAL, name="before-%s" % tag),
            task("clone", "vm_clone", source_vm=ORIGINAL, name=CLONE),
            task("sysprep", "sysprep_generalize", name=CLONE, poll_interval=0.02),
            *captures,
            task("delete the clone", "vm_clone", source_vm=ORIGINAL, name=CLONE, state="absent")]


def run_ok(sim, tasks):
    run = run_playbook(sim, play(*tasks))
    assert run.rc == 0, run.stdout[-4000:]
    return run


def version_tags(sim):
    return {v.name: dict(v.tags or {}) for v in sim.compute_client().gallery_image_versions.list_by_gallery_image(
        RG, GALLERY, IMAGE)}


def original_tags(sim):
    return dict(sim.compute_client().virtual_machines.get(RG, ORIGINAL).tags or {})


def collection_tags(sim):
    return dict(sim.compute_client().restore_point_collections.get(RG, COLLECTION).tags or {})


def test_versions_of_one_clone_are_siblings_and_the_parent_follows_a_revert(sim):
    # three versions captured from one clone: siblings of 1.0.0 (the version the original produced), not a chain
    run = run_ok(sim, build_tasks("1.0.1", ["1.0.1", "1.0.2", "1.0.3"]))
    assert run.task("clone")["clone"]["tags"]["goldenimage.parent-version"] == "1.0.0"
    tags = version_tags(sim)
    assert {v: tags[v].get("goldenimage.parent-version") for v in ("1.0.1", "1.0.2", "1.0.3")} == {
        "1.0.1": "1.0.0", "1.0.2": "1.0.0", "1.0.3": "1.0.0"}
    assert original_tags(sim)["goldenimage.last-version"] == "1.0.3"
    assert run.task("capture 1.0.3")["original"] == {
        "id": tags["1.0.3"]["goldenimage.source-vm"], "last_version": "1.0.3", "recorded": True}
    # the restore point remembers what the original had produced when it was made
    assert collection_tags(sim)["goldenimage.version-at.before-1.0.1"] == "1.0.0"

    # 1.0.1-1.0.3 were bad: revert the original to the state before them, then build again; the new version is a
    # sibling of theirs (the restored state produced 1.0.0), not a child of the highest version
    changes = {"updates": ["KB5044284", "KB5044033"], "accounts_removed": ["alice.local", "bob.local"],
               "restore_point": COLLECTION + "/before-1.0.4"}
    run = run_ok(sim, [task("revert", "vm_backup", vm=ORIGINAL, name="before-1.0.1", state="restored"),
                       *build_tasks("1.0.4", ["1.0.4"], changes),
                       task("tree", "image_version_info", gallery=GALLERY, image=IMAGE, replication_status=False)])
    reverted = run.task("revert")
    assert reverted["changed"] and reverted["last_version"] == "1.0.0", reverted
    assert run.task("clone")["clone"]["tags"]["goldenimage.parent-version"] == "1.0.0"
    tags = version_tags(sim)
    assert tags["1.0.4"]["goldenimage.parent-version"] == "1.0.0"
    assert tags["1.0.4"]["goldenimage.updates"] == "2:KB5044284,KB5044033"
    assert tags["1.0.4"]["goldenimage.accounts-removed"] == "2:alice.local,bob.local"
    assert tags["1.0.4"]["goldenimage.restore-point"] == COLLECTION + "/before-1.0.4"
    assert collection_tags(sim)["goldenimage.version-at.before-1.0.4"] == "1.0.0"
    assert original_tags(sim)["goldenimage.last-version"] == "1.0.4"
    tree = run.task("tree")["tree"]
    assert tree["children"]["1.0.0"] == ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]
    assert not tree["children"].get("1.0.3")
    by_name = {v["name"]: v for v in run.task("tree")["versions"]}
    assert by_name["1.0.4"]["provenance"]["updates"] == "2:KB5044284,KB5044033"
    assert build_violations(sim) == []


def os_disk_id(sim):
    vm = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))
    return vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]


def disk(sim, disk_id):
    found = [d for d in sim.compute_client().disks.list_by_resource_group(RG) if d.id.lower() == disk_id.lower()]
    return wire(found[0]) if found else None


def pending_updates(sim):
    internal = {k.lower(): v for k, v in sim.state()["internal"].items()}
    return [u["kb"] for u in internal[os_disk_id(sim).lower()]["guest"]["pending_updates"]]


def power(sim):
    view = wire(sim.compute_client().virtual_machines.instance_view(RG, ORIGINAL))
    return [s["code"].split("/", 1)[1] for s in view["statuses"] if s["code"].startswith("PowerState/")][0]


def writes(sim):
    requests = sim.metrics()["requests"]
    return requests["writes"] + requests["deletes"]


def test_revert_original_playbook(sim):
    # a backup, then a "bad" update of the original
    setup = run_ok(sim, [task("backup", "vm_backup", vm=ORIGINAL, name="before-bad"),
                         task("bad update", "windows_update", name=ORIGINAL)])
    assert setup.task("bad update")["installed"]
    assert pending_updates(sim) == [] and power(sim) == "running"
    updated_disk = os_disk_id(sim)

    # check mode: an honest preview (the newest restore point, the disk it swaps) and nothing written
    before = writes(sim)
    check = run_playbook(sim, PLAYBOOK, inventory=INVENTORY, check=True)
    assert check.rc == 0, check.stdout[-4000:]
    assert writes(sim) == before
    preview = check.task("Preview the revert of the original VM")
    assert preview["restore_point"]["name"] == "before-bad"
    assert [d.lower() for d in preview["replaced_disk_ids"]] == [updated_disk.lower()]
    assert "before-bad" in check.task("Say what the revert does")["msg"]
    assert os_disk_id(sim) == updated_disk and power(sim) == "running"

    # the revert: the disks of the restore point, the updated disk kept and tagged, the VM running again
    real = run_playbook(sim, PLAYBOOK, inventory=INVENTORY)
    assert real.rc == 0, real.stdout[-4000:]
    restored = os_disk_id(sim)
    assert real.task("Swap in the disks of restore point before-bad")["changed"], real.tasks
    assert restored.lower() != updated_disk.lower() and restored.lower().endswith("-rp-before-bad")
    assert pending_updates(sim) == ["KB5044284", "KB5044033", "KB2267602"]
    kept = disk(sim, updated_disk)
    assert kept["properties"]["diskState"] == "Unattached"
    assert kept["tags"]["goldenimage.replaced-disk-of"].lower() == original_vm_id(sim).lower()
    assert kept["tags"]["goldenimage.replaced-by"] == COLLECTION + "/before-bad"
    assert power(sim) == "running"
    assert "goldenimage.power-state-before" not in original_tags(sim)

    # a second run changes nothing
    before = writes(sim)
    again = run_playbook(sim, PLAYBOOK, inventory=INVENTORY)
    assert again.rc == 0, again.stdout[-4000:]
    assert sum(host["changed"] for host in again.stats.values()) == 0, again.stats
    assert writes(sim) == before

    # asked to, a later run deletes the replaced disk (and only that)
    deleted = run_playbook(sim, PLAYBOOK, inventory=INVENTORY, extra_vars={"revert_delete_replaced_disks": True})
    assert deleted.rc == 0, deleted.stdout[-4000:]
    assert [d.lower() for d in deleted.task("Delete the disks earlier reverts replaced")["deleted_disk_ids"]] == [
        updated_disk.lower()]
    assert disk(sim, updated_disk) is None and os_disk_id(sim) == restored
    assert build_violations(sim) == []


def original_vm_id(sim):
    return sim.compute_client().virtual_machines.get(RG, ORIGINAL).id
