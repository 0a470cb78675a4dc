"""image_version_info against the simulator: versions, markers, parents, replication, the tree, filters,
following host pools, an empty and a missing definition; it never writes.
"""

from __future__ import annotations

import pytest

from helpers import run_module
from test_marker_tag_support import (
    HOST_POOL,
    RG,
    TARGET,
    all_tags,
    create_definition,
    create_version,
    end_of_life_soon,
    image_id,
    run_many,
)

TIME_SCALE = 600


@pytest.fixture(scope="module")
def world():
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=TIME_SCALE) as sim:
        compute = sim.compute_client()
        create_version(sim, compute, "1.0.1", parent="1.0.0",
                       tags={"goldenimage.build-id": "build-7", "goldenimage.source-vm": "/x/vm-clone"})
        create_version(sim, compute, "1.0.2", parent="1.0.1", tags={"goldenimage.marker.pilot": "2026-11-02T08:00:00Z",
                                                                    "goldenimage.marker.pilot.previous": "1.0.1"})
        create_version(sim, compute, "1.0.10", parent="1.0.1", end_of_life=end_of_life_soon(sim))
        sim.advance(7200)  # the end of life of 1.0.10 passes on the ARM clock
        create_definition(compute, "empty-def")
        yield sim, compute


def info(sim, check=False, **args):
    return run_module(sim, "image_version_info", dict(TARGET, **args), check=check)


def test_versions_markers_and_tree(world):
    sim, compute = world
    before = all_tags(compute)
    result = info(sim)
    assert not result["changed"] and not result["failed"], result
    assert result["exists"] is True
    assert result["image_id"] == image_id(sim)
    assert [item["name"] for item in result["versions"]] == ["1.0.0", "1.0.1", "1.0.2", "1.0.10"]
    assert result["markers"] == {"prod": "1.0.0", "pilot": "1.0.2"}
    assert result["tree"]["lines"] == [
        "1.0.0 [prod]",
        "└── 1.0.1",
        "    ├── 1.0.2 [pilot]",
        "    └── 1.0.10",
    ]
    by_name = {item["name"]: item for item in result["versions"]}
    assert by_name["1.0.1"]["children"] == ["1.0.2", "1.0.10"]
    assert by_name["1.0.1"]["provenance"] == {"parent_version": "1.0.0", "build_id": "build-7",
                                              "source_vm": "/x/vm-clone"}
    assert by_name["1.0.2"]["marker_details"]["pilot"]["previous"] == "1.0.1"
    demo = by_name["1.0.0"]
    assert demo["replication_state"] == "Completed"
    regions = {entry["region"].replace(" ", "").lower() for entry in demo["replication_regions"]}
    assert regions >= {"westeurope", "northeurope"}
    assert all(entry["state"] == "Completed" for entry in demo["replication_regions"])
    assert demo["published_date"]
    assert demo["eligible"] is True
    assert by_name["1.0.10"]["end_of_life_passed"] is True
    assert by_name["1.0.10"]["eligible"] is False
    assert result["lock"] is None
    assert all_tags(compute) == before


def test_filters(world):
    sim, _compute = world
    by_version, by_marker, no_marker, no_version, bad = run_many(sim, "image_version_info", [
        dict(TARGET, version="1.0.2"), dict(TARGET, marker="prod"), dict(TARGET, marker="nothing"),
        dict(TARGET, version="9.9.9"), dict(TARGET, marker="Bad.Marker")])
    assert [item["name"] for item in by_version["versions"]] == ["1.0.2"]
    assert [item["name"] for item in by_marker["versions"]] == ["1.0.0"]
    assert no_marker["versions"] == [] and not no_marker["failed"]
    assert no_version["versions"] == [] and not no_version["failed"]
    assert bad["failed"] and "marker" in bad["msg"]
    # the map and the tree always cover every version
    assert by_version["markers"] == {"prod": "1.0.0", "pilot": "1.0.2"}
    assert len(by_marker["tree"]["lines"]) == 4


def test_following_host_pools(world):
    sim, _compute = world
    result = info(sim, following_host_pools=True, replication_status=False)
    assert not result["failed"], result
    pools = {item["name"]: item for item in result["following_host_pools"]}
    assert pools[HOST_POOL]["marker"] == "prod"
    assert pools[HOST_POOL]["version"] == "1.0.0"
    assert pools[HOST_POOL]["resource_group"].lower() == RG
    assert pools[HOST_POOL]["host_pool_type"] == "Pooled"
    assert result["versions"][0]["replication_state"] is None  # not read without replication_status
    scoped = info(sim, following_host_pools=True, host_pools_resource_group="rg-elsewhere")
    assert not scoped["failed"] and scoped["following_host_pools"] == []


def test_empty_and_missing_definitions(world):
    """A missing image definition, a misspelt gallery and a missing resource group are reported (an info
    module does not fail on a missing resource) and told apart; an unknown subscription fails."""
    sim, _compute = world
    empty, missing, no_gallery, no_group, other_subscription = run_many(sim, "image_version_info", [
        dict(TARGET, image="empty-def", following_host_pools=True),
        dict(TARGET, image="no-such-def"),
        {"resource_group": RG, "gallery": "nogallery", "image": "win11-avd"},
        {"resource_group": "rg-no-such-group", "gallery": "nogallery", "image": "win11-avd"},
        dict(TARGET, subscription_id="11111111-2222-3333-4444-555555555555"),
    ], check=True)
    assert not empty["failed"] and empty["exists"] is True
    assert (empty["gallery_exists"], empty["missing"]) == (True, None)
    assert (empty["versions"], empty["markers"], empty["tree"]["lines"], empty["following_host_pools"]) == \
        ([], {}, [], [])
    assert not missing["failed"] and missing["exists"] is False
    assert (missing["gallery_exists"], missing["missing"]) == (True, "image")
    assert (missing["versions"], missing["markers"]) == ([], {})
    assert not no_gallery["failed"] and no_gallery["exists"] is False
    assert (no_gallery["gallery_exists"], no_gallery["missing"]) == (False, "gallery")
    assert not no_group["failed"] and (no_group["gallery_exists"], no_group["missing"]) == (False, "resource_group")
    assert other_subscription["failed"] is True
    assert "SubscriptionNotFound" in other_subscription["msg"]
    assert "check subscription_id" in other_subscription["msg"]
    assert other_subscription["azure_error"]["code"] == "SubscriptionNotFound"
