"""The golden_image role through playbooks/build_image.yml and the demo inventory, end to end against
the simulator: the new version, its guest content, the cleanup, idempotency, throttling, a failed
replication, and a crash after the clone was made."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from helpers import REPO, VENV_BIN, ansible_env, run_module, run_playbook, wire
from test_vm_clone import CLONE, ORIGINAL, RG, build_violations

GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
INVENTORY = "playbooks/inventories/demo"
PLAYBOOK = "playbooks/build_image.yml"
TIME_SCALE = 6000


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def internal(sim):
    return {key.lower(): value for key, value in sim.state()["internal"].items() if isinstance(value, dict)}


def vm_guest(sim, name):
    vm = wire(sim.compute_client().virtual_machines.get(RG, name))
    return internal(sim)[vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()]["guest"]


def version_guest(sim, version):
    ver = wire(sim.compute_client().gallery_image_versions.get(RG, GALLERY, IMAGE, version))
    return internal(sim)[ver["id"].lower()]["guest"]


def clone_leftovers(sim):
    return sorted((r["type"], r["name"]) for r in sim.state()["resources"]
                  if r.get("name", "").lower().startswith(CLONE.lower()))


def version_names(sim):
    return sorted(v.name for v in sim.compute_client().gallery_image_versions.list_by_gallery_image(
        RG, GALLERY, IMAGE))


def power_state(sim, name):
    view = wire(sim.compute_client().virtual_machines.instance_view(RG, name))
    return [s["code"] for s in view["statuses"] if s["code"].startswith("PowerState/")][0]


def build(sim, **extra_vars):
    return run_playbook(sim, PLAYBOOK, inventory=INVENTORY, extra_vars=extra_vars or None)


def assert_built(sim, original_before):
    names = version_names(sim)
    assert names == ["1.0.0", "1.0.1"]
    version = wire(sim.compute_client().gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.1",
                                                                   expand="ReplicationStatus"))
    assert version["properties"]["provisioningState"] == "Succeeded"
    summary = version["properties"]["replicationStatus"]["summary"]
    assert sorted((s["region"].replace(" ", "").lower(), s["state"]) for s in summary) == [
        ("northeurope", "Completed"), ("westeurope", "Completed")]
    assert version["tags"]["goldenimage.parent-version"] == "1.0.0"
    # what the original holds after its updates is what the image holds
    original = vm_guest(sim, ORIGINAL)
    assert original["pending_updates"] == []
    assert set(original["installed_content"]) >= {"KB5044284", "KB5044033", "KB2267602"}
    image = version_guest(sim, "1.0.1")
    assert image["installed_content"] == original["installed_content"]
    assert image["generalized"] is True
    assert [a["name"] for a in image["local_accounts"]] == ["avdadmin"]
    # the clone and everything made for it are gone
    assert clone_leftovers(sim) == []
    # the original was never sysprepped and is back in its power state
    assert original["sysprep_count"] == original_before["sysprep_count"] and not original["generalized"]
    assert build_violations(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/running"
    points = wire(sim.compute_client().restore_point_collections.get(
        RG, ORIGINAL + "-restorepoints", expand="restorePoints"))["properties"]["restorePoints"]
    assert [rp["name"] for rp in points] == ["before-1.0.1"]


def test_build_image_end_to_end_and_again(sim):
    original_before = vm_guest(sim, ORIGINAL)
    started = time.monotonic()
    run = build(sim)
    elapsed = time.monotonic() - started
    assert run.rc == 0, run.stdout[-6000:]
    assert_built(sim, original_before)
    assert run.task("Capture the clone as version 1.0.1")["changed"]
    print("build: %.1fs real, %d ARM requests" % (elapsed, sim.metrics()["requests"]["total"]))

    writes_before = sim.metrics()["requests"]["writes"]
    second = build(sim)
    assert second.rc == 0, second.stdout[-6000:]
    changed = [entry["task"] for entry in second.tasks if entry["result"].get("changed")]
    assert changed == []
    assert sim.metrics()["requests"]["writes"] == writes_before
    assert_built(sim, original_before)
    assert not second.task("Finish replication of the existing version 1.0.1").get("warnings")

    # regions changed in the inventory after the build: the existing version is left alone, and the run says so
    third = build(sim, golden_image_target_regions=[{"name": "westeurope", "replicas": 1},
                                                    {"name": "swedencentral", "replicas": 1}])
    assert third.rc == 0, third.stdout[-6000:]
    warnings = " ".join(third.task("Finish replication of the existing version 1.0.1").get("warnings") or [])
    assert "not replicated to swedencentral" in warnings, warnings
    assert sim.metrics()["requests"]["writes"] == writes_before


def test_check_mode_changes_nothing(sim):
    run = run_playbook(sim, PLAYBOOK, inventory=INVENTORY, check=True, diff=True)
    assert run.rc == 0, run.stdout[-6000:]
    assert run.task("Clone the original VM")["changed"]
    assert sim.metrics()["requests"]["writes"] == 0
    assert version_names(sim) == ["1.0.0"] and clone_leftovers(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/running"


def test_check_mode_with_a_deallocated_original_previews_without_starting_it(sim):
    # the usual state between builds: the original is kept deallocated; a preview must not need it running
    result = run_module(sim, "vm_power", {"resource_group": RG, "name": ORIGINAL, "state": "deallocated"})
    assert not result["failed"], result
    writes = sim.metrics()["requests"]["writes"]
    run = run_playbook(sim, PLAYBOOK, inventory=INVENTORY, check=True, diff=True)
    assert run.rc == 0, run.stdout[-6000:]
    assert run.task("Start the original VM for updates and customisation")["changed"]
    # windows_update cannot scan in check mode (a Run Command is an Azure action): it claims no change
    updates = run.task("Install pending Windows updates in the original VM")
    assert updates["changed"] is False and updates["scanned"] is False
    assert run.task("Clone the original VM")["changed"]
    assert sim.metrics()["requests"]["writes"] == writes
    assert version_names(sim) == ["1.0.0"] and clone_leftovers(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/deallocated"


def test_failed_replication_is_reported_and_cleaned_up(sim):
    sim.add_fault(method="PUT", path_regex="/galleries/%s/images/%s/versions/1.0.1" % (GALLERY, IMAGE),
                  lro_fail=True, code="ReplicationFailed", status=200)
    run = build(sim)
    assert run.rc != 0
    failure = run.task("Stop here when the build failed")
    assert "Replication of image version '1.0.1' failed" in failure["msg"]
    assert "The clone was deleted" in failure["msg"]
    assert clone_leftovers(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/running"
    assert build_violations(sim) == []


def test_keep_failed_clone(sim):
    # sysprep runs although the pre-flight found bob.local's profile (the role's option), and fails on it
    run = build(sim, golden_image_keep_accounts=["avdadmin", "bob.local"], golden_image_keep_failed_clone=True,
                golden_image_ignore_preflight_blockers=True)
    assert run.rc != 0
    failure = run.task("Stop here when the build failed")
    assert "Sysprep failed" in failure["msg"] and "kept for investigation" in failure["msg"]
    assert ("Microsoft.Compute/virtualMachines", CLONE) in clone_leftovers(sim)
    assert version_names(sim) == ["1.0.0"]
    assert power_state(sim, ORIGINAL) == "PowerState/running"
    # after the investigation the administrator removes the kept clone, as the message says
    removed = run_module(sim, "vm_clone", {"resource_group": RG, "name": CLONE, "state": "absent"})
    assert removed["changed"] and clone_leftovers(sim) == []


def test_crash_after_the_clone_is_made_and_rerun_under_throttling(sim):
    original_before = vm_guest(sim, ORIGINAL)
    compute = sim.compute_client()
    with tempfile.TemporaryDirectory(prefix="goldenimage-crash-") as workdir:
        env = ansible_env(sim)
        env["ANSIBLE_LOCAL_TEMP"] = str(Path(workdir) / "tmp")
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(REPO / INVENTORY), str(REPO / PLAYBOOK)]
        proc = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and proc.poll() is None:
                vms = [wire(vm) for vm in compute.virtual_machines.list(RG)]
                clone = next((vm for vm in vms if vm["name"] == CLONE), None)
                if clone is not None and clone["properties"]["provisioningState"] == "Succeeded":
                    break
                time.sleep(0.2)
            assert proc.poll() is None, "the play finished before the clone was seen"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert ("Microsoft.Compute/virtualMachines", CLONE) in clone_leftovers(sim)
    assert version_names(sim) == ["1.0.0"]

    # the re-run meets a 429 storm: azure-core retries a throttled request 3 times (retry_status),
    # honouring Retry-After, so every kind of request meets three 429s in a row, and throttling of
    # VM reads comes back at random while the build runs
    for method in ("GET", "PUT", "POST", "DELETE"):
        sim.add_fault(method=method, path_regex="/providers/Microsoft.Compute/", status=429, count=3, retry_after=1)
    sim.add_fault(method="GET", path_regex="/virtualMachines/", status=429, rate=0.1, retry_after=1)
    rerun = build(sim)
    assert rerun.rc == 0, rerun.stdout[-6000:]
    assert sim.metrics()["faults_injected"] >= 12
    assert_built(sim, original_before)
    disks = [r["name"] for r in sim.state()["resources"] if r["type"] == "Microsoft.Compute/disks"]
    assert len(disks) == len(set(d.lower() for d in disks))
    assert [r for r in sim.state()["resources"] if r["type"] == "Microsoft.Compute/snapshots"] == []
