"""image_capture against the simulator: check -> real -> idempotent -> remove -> remove again, auto
versions, provenance, replication failures and timeouts."""

from __future__ import annotations

import pytest

from helpers import run_module, wire
from test_sysprep_generalize import make_clone
from test_vm_clone import CLONE, ORIGINAL, RG, TIME_SCALE

GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
REGIONS = [{"name": "westeurope", "replicas": 1}, {"name": "northeurope", "replicas": 1}]


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def generalized_clone(sim):
    make_clone(sim, generalize=True)


def versions(sim):
    return {v.name: wire(v) for v in sim.compute_client().gallery_image_versions.list_by_gallery_image(
        RG, GALLERY, IMAGE)}


def capture_args(**extra):
    args = {"resource_group": RG, "gallery": GALLERY, "image": IMAGE, "source_vm": CLONE,
            "target_regions": REGIONS, "poll_interval": 0.02, "timeout": 600}
    args.update(extra)
    return args


def test_capture_refuses_a_vm_that_is_not_generalized(sim):
    result = run_module(sim, "image_capture", capture_args(source_vm=ORIGINAL))
    assert result["failed"] and "not generalized" in result["msg"]
    assert set(versions(sim)) == {"1.0.0"}


def test_capture_matrix(sim):
    generalized_clone(sim)
    original_id = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))["id"]

    check = run_module(sim, "image_capture", capture_args(version="auto", notes="first build"), check=True,
                       diff=True)
    assert not check["failed"], check
    assert check["changed"] and check["version"]["name"] == "1.0.1"
    assert set(versions(sim)) == {"1.0.0"}

    real = run_module(sim, "image_capture", capture_args(version="auto", notes="first build", build_id="job-7"))
    assert not real["failed"], real
    assert real["changed"] and real["version"]["name"] == "1.0.1"
    assert {r["state"] for r in real["replication"]["regions"]} == {"Completed"}
    assert len(real["replication"]["regions"]) == 2
    version = wire(sim.compute_client().gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.1",
                                                                   expand="ReplicationStatus"))
    assert version["properties"]["provisioningState"] == "Succeeded"
    assert version["properties"]["replicationStatus"]["aggregatedState"] == "Completed"
    tags = version["tags"]
    assert tags["goldenimage.source-vm"].lower() == original_id.lower()
    assert tags["goldenimage.parent-version"] == "1.0.0"
    assert tags["goldenimage.build-id"] == "job-7" and tags["goldenimage.notes"] == "first build"
    assert tags["goldenimage.build-time"].startswith("2026-")
    assert "goldenimage.marker.prod" not in tags
    assert version["properties"]["storageProfile"]["source"]["virtualMachineId"].lower().endswith(
        "/virtualmachines/" + CLONE)

    # auto finds the version captured from this clone again: no 1.0.2
    again = run_module(sim, "image_capture", capture_args(version="auto"))
    assert not again["failed"] and again["changed"] is False and again["version"]["name"] == "1.0.1"
    pinned = run_module(sim, "image_capture", capture_args(version="1.0.1"))
    assert not pinned["failed"] and pinned["changed"] is False
    assert not again.get("warnings") and not pinned.get("warnings"), (again, pinned)
    # other target regions for the existing version are not applied, and the task says so instead of staying silent
    regions = [{"name": "westeurope", "replicas": 2}, {"name": "francecentral", "replicas": 1}]
    other_regions = run_module(sim, "image_capture", capture_args(version="1.0.1", target_regions=regions))
    assert not other_regions["failed"] and other_regions["changed"] is False
    warning = " ".join(other_regions.get("warnings") or [])
    assert "not replicated to francecentral" in warning and "also replicated to northeurope" in warning, warning
    assert "westeurope 2 instead of 1" in warning, warning
    assert sorted(r["name"].replace(" ", "").lower() for r in other_regions["version"]["target_regions"]) == [
        "northeurope", "westeurope"]
    assert set(versions(sim)) == {"1.0.0", "1.0.1"}

    other_source = run_module(sim, "image_capture", capture_args(version="1.0.0"))
    assert other_source["failed"] and "captured from" in other_source["msg"]

    marked = run_module(sim, "image_capture", {"resource_group": RG, "gallery": GALLERY, "image": IMAGE,
                                               "version": "1.0.0", "state": "absent"})
    assert marked["failed"] and "prod" in marked["msg"]

    # the same generalized VM into a new image definition, created on the way
    missing = run_module(sim, "image_capture", capture_args(image="win11-finance", version="1.0.0"))
    assert missing["failed"] and "definition" in missing["msg"]
    created = run_module(sim, "image_capture", capture_args(
        image="win11-finance", version="1.0.0",
        definition={"publisher": "contoso", "offer": "avd-finance", "sku": "win11-24h2"}))
    assert not created["failed"], created
    assert created["definition_created"] and created["version"]["name"] == "1.0.0"
    definition = wire(sim.compute_client().gallery_images.get(RG, GALLERY, "win11-finance"))
    assert definition["properties"]["identifier"] == {"publisher": "contoso", "offer": "avd-finance",
                                                      "sku": "win11-24h2"}
    assert definition["properties"]["hyperVGeneration"] == "V2"

    remove_args = {"resource_group": RG, "gallery": GALLERY, "image": IMAGE, "version": "1.0.1", "state": "absent",
                   "timeout": 600}
    remove_check = run_module(sim, "image_capture", remove_args, check=True)
    assert remove_check["changed"] and "1.0.1" in versions(sim)
    removed = run_module(sim, "image_capture", remove_args)
    assert not removed["failed"] and removed["changed"]
    assert set(versions(sim)) == {"1.0.0"}
    removed_again = run_module(sim, "image_capture", remove_args)
    assert not removed_again["failed"] and removed_again["changed"] is False


def test_failed_replication_is_reported_clearly(sim):
    generalized_clone(sim)
    sim.add_fault(method="PUT", path_regex="/galleries/%s/images/%s/versions/1.0.1" % (GALLERY, IMAGE),
                  lro_fail=True, code="ReplicationFailed", status=200)
    result = run_module(sim, "image_capture", capture_args(version="1.0.1"))
    assert result["failed"]
    assert "Replication of image version '1.0.1' failed" in result["msg"]
    assert "left in place" in result["msg"]
    assert result["replication"]["provisioning_state"] == "Failed" or any(
        r["state"] == "Failed" for r in result["replication"]["regions"])


def test_timeout_leaves_the_version_and_a_rerun_resumes(sim):
    generalized_clone(sim)
    first = run_module(sim, "image_capture", capture_args(version="1.0.1", timeout=0))
    assert first["failed"] and "run the same task again" in first["msg"]
    assert "1.0.1" in versions(sim)
    resumed = run_module(sim, "image_capture", capture_args(version="1.0.1"))
    assert not resumed["failed"], resumed
    assert resumed["changed"] is False
    assert {r["state"] for r in resumed["replication"]["regions"]} == {"Completed"}
