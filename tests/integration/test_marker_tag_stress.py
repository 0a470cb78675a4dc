"""Marker uniqueness across many moves, driven in-process through the domain layer (_markers) with the
real SDK clients against the simulator: sequential moves of two markers, then several writers at once.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import random
from email.utils import parsedate_to_datetime

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils import _errors as errors
from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_plans as marker_plans
from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_store as marker_store
from ansible_collections.goldenimage.avd.plugins.module_utils import _markers as markers
from ansible_collections.goldenimage.avd.plugins.module_utils._module import to_wire
from test_marker_tag_support import GALLERY, IMAGE, LOCK_TAG, RG, all_tags, create_version, holders

TIME_SCALE = 600
VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3")


class ArmClock:
    """server_now() as AzureModule computes it: the Date header of the latest ARM response."""

    def __init__(self):
        self.latest = None

    def hook(self, pipeline_response):
        value = pipeline_response.http_response.headers.get("Date")
        if value:
            self.latest = parsedate_to_datetime(value).astimezone(datetime.timezone.utc)

    def now(self):
        return self.latest or datetime.datetime.now(datetime.timezone.utc)


def new_store(sim):
    clock = ArmClock()
    compute = sim.compute_client(raw_response_hook=clock.hook)
    return marker_store.MarkerStore(compute, RG, GALLERY, IMAGE, to_wire=to_wire, server_now=clock.now,
                                    timeout=120, poll_interval=0.2, lease_seconds=86400)


@pytest.fixture(scope="module")
def world():
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=TIME_SCALE) as sim:
        compute = sim.compute_client()
        for name in VERSIONS[1:]:
            create_version(sim, compute, name)
        yield sim, compute


def test_many_sequential_moves_keep_each_marker_unique(world):
    sim, compute = world
    rng = random.Random(6)
    store = new_store(sim)
    expected = {"prod": "1.0.0", "pilot": None}
    for step in range(30):
        name = rng.choice(("prod", "pilot"))
        target = rng.choice(VERSIONS)
        outcome = markers.change_marker(store, name, version=target)
        assert outcome["after"] == target
        assert outcome["changed"] == (expected[name] != target), (step, name, target, outcome)
        if outcome["changed"]:
            assert outcome["previous"] == expected[name]
        expected[name] = target
        for marker_name, version in expected.items():
            assert holders(compute, marker_name) == ([version] if version else []), (step, marker_name)
    assert LOCK_TAG not in all_tags(compute)[None]


def test_many_concurrent_writers_keep_each_marker_unique(world):
    sim, compute = world
    writers = 4

    def work(seed):
        rng = random.Random(seed)
        store = new_store(sim)
        done = []
        for _move in range(5):
            target = rng.choice(VERSIONS)
            done.append((target, markers.change_marker(store, "prod", version=target)))
        return done

    with concurrent.futures.ThreadPoolExecutor(max_workers=writers) as pool:
        outcomes = [item for batch in pool.map(work, range(writers)) for item in batch]
    assert all(result["after"] == target for target, result in outcomes)
    final = holders(compute, "prod")
    assert len(final) == 1, final
    assert LOCK_TAG not in all_tags(compute)[None]
    # every change recorded the real previous holder: following the chain of the changed moves in
    # the order they were applied gives a consistent history (each "previous" was a holder once)
    held = {target for target, _result in outcomes} | {"1.0.0"}
    for _target, result in outcomes:
        if result["changed"]:
            assert result["previous"] in held


def test_stale_claim_is_repaired_by_the_next_move(world):
    """A second claim written behind the module's back (a crashed writer) is cleaned: newest claim wins."""
    sim, compute = world
    store = new_store(sim)
    markers.change_marker(store, "prod", version="1.0.1")
    tags = dict(compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.3").tags or {})
    tags["goldenimage.marker.prod"] = "2020-01-01T00:00:00Z"  # an old claim left over
    compute.gallery_image_versions.begin_update(RG, GALLERY, IMAGE, "1.0.3", {"tags": tags}).result(timeout=60)
    assert holders(compute, "prod") == ["1.0.1", "1.0.3"]
    assert marker_plans.resolve_marker(store.versions(), "prod") == "1.0.1"
    outcome = markers.change_marker(store, "prod", version="1.0.1")
    assert outcome["changed"] and outcome["plan"]["stale_claims"] == ["1.0.3"]
    assert holders(compute, "prod") == ["1.0.1"]


def test_an_expired_lease_of_a_crashed_run_is_taken_over(world):
    sim, compute = world
    store = new_store(sim)
    tags = dict(compute.gallery_images.get(RG, GALLERY, IMAGE).tags or {})
    tags[LOCK_TAG] = "owner=crashed;expires=2020-01-01T00:00:00Z"
    compute.gallery_images.begin_update(RG, GALLERY, IMAGE, {"tags": tags}).result(timeout=60)
    outcome = markers.change_marker(store, "prod", version="1.0.2")
    assert outcome["changed"] and holders(compute, "prod") == ["1.0.2"]
    assert LOCK_TAG not in all_tags(compute)[None]


def test_a_live_lease_blocks_until_timeout(world):
    sim, compute = world
    store = new_store(sim)
    markers.change_marker(store, "prod", version="1.0.0")
    store.timeout = 1.0
    tags = dict(compute.gallery_images.get(RG, GALLERY, IMAGE).tags or {})
    tags[LOCK_TAG] = "owner=other;expires=2099-01-01T00:00:00Z"
    compute.gallery_images.begin_update(RG, GALLERY, IMAGE, {"tags": tags}).result(timeout=60)
    before = all_tags(compute)
    with pytest.raises(errors.ConflictError, match="Another run holds the marker lease"):
        markers.change_marker(store, "prod", version="1.0.3")
    assert all_tags(compute) == before
    tags.pop(LOCK_TAG)
    compute.gallery_images.begin_update(RG, GALLERY, IMAGE, {"tags": tags}).result(timeout=60)


def test_old_holder_busy_with_another_update_is_waited_for():
    """Azure refuses (409) a tag change while a version replicates to a new region: the move waits for
    that operation, then removes the marker without undoing the other change."""
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=200) as sim:
        compute = sim.compute_client()
        create_version(sim, compute, "1.0.1")
        store = new_store(sim)
        markers.change_marker(store, "prod", version="1.0.1")
        update = compute.gallery_image_versions.begin_update(RG, GALLERY, IMAGE, "1.0.1", {"properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]}}})
        assert compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.1").provisioning_state == "Updating"
        refused_before = sim.metrics()["errors_by_code"].get("OperationNotAllowed", 0)
        outcome = markers.change_marker(store, "prod", version="1.0.0")
        assert outcome["changed"] and holders(compute, "prod") == ["1.0.0"]
        assert sim.metrics()["errors_by_code"].get("OperationNotAllowed", 0) > refused_before, \
            "the 409 path was not exercised"
        update.result(timeout=120)
        moved_off = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.1")
        assert len(moved_off.publishing_profile.target_regions) == 2
        assert not [key for key in (moved_off.tags or {}) if key.startswith("goldenimage.marker.prod")]
        assert moved_off.tags["goldenimage.parent-version"] == "1.0.0"
