"""The golden_image role from the states an administrator meets between builds: a failed replication
that is retried, a clone kept from an earlier failed run, a typo in the gallery name or the version,
and extra variables as AWX passes them (strings for booleans)."""

from __future__ import annotations

import pytest

from helpers import run_playbook, wire
from test_golden_image import (
    GALLERY,
    IMAGE,
    INVENTORY,
    PLAYBOOK,
    TIME_SCALE,
    clone_leftovers,
    power_state,
    version_guest,
    version_names,
)
from test_vm_clone import CLONE, ORIGINAL, RG


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def build(sim, check=False, **extra_vars):
    return run_playbook(sim, PLAYBOOK, inventory=INVENTORY, extra_vars=extra_vars or None, check=check, diff=check)


def restore_points(sim):
    return [r["name"] for r in sim.state()["resources"] if r["type"].endswith("restorePointCollections")]


@pytest.mark.parametrize("extra, needles", [
    ({"golden_image_gallery": "gal_avd_typo"}, ["gal_avd_typo", "golden_image_gallery", "golden_image_definition"]),
    ({"golden_image_image": "win11-typo"}, ["win11-typo", "golden_image_image"]),
    ({"golden_image_version": "1.1"}, ["golden_image_version", "1.1"]),
    # 1.0.0 exists but was not built from this original: the capture would refuse it at the very end
    ({"golden_image_version": "1.0.0"}, ["golden_image_version 1.0.0 already exists", ORIGINAL, "Nothing was changed"]),
])
def test_bad_gallery_image_or_version_fails_before_the_original_is_touched(sim, extra, needles):
    run = build(sim, **extra)
    assert run.rc != 0
    failure = next(t["result"] for t in run.tasks if t["result"].get("failed"))
    assert failure["failed"], failure
    assert all(needle in failure["msg"] for needle in needles), failure["msg"]
    # nothing was written: no restore point, no update, no clone, the original as it was
    assert sim.metrics()["requests"]["writes"] == 0
    assert restore_points(sim) == [] and clone_leftovers(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/running"


def test_keep_failed_clone_given_as_the_string_false_deletes_the_clone(sim):
    # AWX surveys and '-e' pass booleans as strings; 'false' must not keep the clone. Keeping bob.local's
    # profile is a blocker the pre-flight finds: by default the build stops before sysprep starts
    run = build(sim, golden_image_keep_accounts=["avdadmin", "bob.local"], golden_image_keep_failed_clone="false")
    assert run.rc != 0
    failure = run.task("Stop here when the build failed")
    assert "sysprep was not started" in failure["msg"] and "bob.local" in failure["msg"], failure["msg"]
    assert "The clone was deleted" in failure["msg"], failure["msg"]
    assert clone_leftovers(sim) == []
    assert version_names(sim) == ["1.0.0"]


@pytest.mark.parametrize("version", ["auto", "1.0.1"])
def test_a_failed_replication_is_retried_by_running_the_role_again(sim, version):
    sim.add_fault(method="PUT", path_regex="/galleries/%s/images/%s/versions/1.0.1" % (GALLERY, IMAGE),
                  lro_fail=True, code="ReplicationFailed", status=200, count=1)
    first = build(sim, golden_image_version=version)
    assert first.rc != 0
    assert "Replication of image version '1.0.1' failed" in first.task("Stop here when the build failed")["msg"]
    compute = sim.compute_client()
    assert wire(compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.1"))[
        "properties"]["provisioningState"] == "Failed"

    # the message says "run the role again to retry": that has to work
    again = build(sim, golden_image_version=version)
    assert again.rc == 0, again.stdout[-6000:]
    assert again.task("Delete the version whose replication failed in an earlier run, 1.0.1")["changed"]
    assert again.task("Capture the clone as version 1.0.1")["changed"]
    assert version_names(sim) == ["1.0.0", "1.0.1"]
    retried = wire(compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.1", expand="ReplicationStatus"))
    assert retried["properties"]["provisioningState"] == "Succeeded"
    assert {s["state"] for s in retried["properties"]["replicationStatus"]["summary"]} == {"Completed"}
    assert retried["tags"]["goldenimage.parent-version"] == "1.0.0"
    assert clone_leftovers(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/running"

    # and once it succeeded, the same run changes nothing
    writes = sim.metrics()["requests"]["writes"]
    third = build(sim, golden_image_version=version) if version != "auto" else None
    if third is not None:
        assert third.rc == 0, third.stdout[-6000:]
        assert [t["task"] for t in third.tasks if t["result"].get("changed")] == []
        assert sim.metrics()["requests"]["writes"] == writes


def keep_a_failed_clone(sim):
    # sysprep runs although the pre-flight found bob.local's profile, and fails on it
    failed = build(sim, golden_image_keep_accounts=["avdadmin", "bob.local"], golden_image_keep_failed_clone=True,
                   golden_image_ignore_preflight_blockers=True)
    assert failed.rc != 0
    assert "kept for investigation" in failed.task("Stop here when the build failed")["msg"]
    kept = clone_leftovers(sim)
    assert ("Microsoft.Compute/virtualMachines", CLONE) in kept
    return kept


def test_check_mode_with_a_clone_kept_from_a_failed_run_previews_without_failing(sim):
    kept = keep_a_failed_clone(sim)
    writes = sim.metrics()["requests"]["writes"]

    check = build(sim, check=True)
    assert check.rc == 0, check.stdout[-6000:]
    assert check.task("Clean up what an earlier run of this build left")["changed"]
    # the preview stops before the new clone is prepared: it cannot be sysprepped or captured before it exists
    assert check.task("Sysprep and generalize the clone").get("skipped")
    assert check.task("Capture the clone as version 1.0.1").get("skipped")
    assert sim.metrics()["requests"]["writes"] == writes
    assert clone_leftovers(sim) == kept and version_names(sim) == ["1.0.0"]


def test_a_run_after_a_kept_failed_clone_builds_from_a_new_clone(sim):
    # the administrator kept the clone, looked at it, fixed the cause and runs the role again as the message
    # says; the half-sysprepped clone (it still carries the failed sysprep) must not be reused
    keep_a_failed_clone(sim)
    old_clone = wire(sim.compute_client().virtual_machines.get(RG, CLONE))
    assert "goldenimage.sysprep-started" in old_clone["tags"]

    again = build(sim)
    assert again.rc == 0, again.stdout[-6000:]
    assert again.task("Clean up what an earlier run of this build left")["changed"]
    assert again.task("Clone the original VM")["changed"]
    assert version_names(sim) == ["1.0.0", "1.0.1"]
    image = version_guest(sim, "1.0.1")
    assert image["generalized"] is True
    assert [a["name"] for a in image["local_accounts"]] == ["avdadmin"]
    assert clone_leftovers(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/running"


def test_check_mode_with_a_marker_and_pruning_ends_with_the_build(sim):
    extra = {"golden_image_marker": "pilot", "golden_image_prune_keep": 1, "golden_image_exclude_from_latest": "true"}
    check = build(sim, check=True, **extra)
    assert check.rc == 0, check.stdout[-6000:]
    assert check.task("Put the marker on the new version 1.0.1").get("skipped")
    assert check.task("Prune old versions, keeping 1").get("skipped")
    assert "pilot" in check.task("Say what the preview leaves out")["msg"]
    assert sim.metrics()["requests"]["writes"] == 0 and version_names(sim) == ["1.0.0"]

    real = build(sim, **extra)
    assert real.rc == 0, real.stdout[-6000:]
    tags = wire(sim.compute_client().gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.1"))["tags"]
    assert "goldenimage.marker.pilot" in tags
    # once the version exists, the preview covers the marker and the pruning again (and changes nothing)
    writes = sim.metrics()["requests"]["writes"]
    again = build(sim, check=True, **extra)
    assert again.rc == 0, again.stdout[-6000:]
    assert not again.task("Put the marker on the new version 1.0.1").get("skipped")
    assert not again.task("Prune old versions, keeping 1").get("skipped")
    assert [t["task"] for t in again.tasks if t["result"].get("changed")] == []
    assert sim.metrics()["requests"]["writes"] == writes
