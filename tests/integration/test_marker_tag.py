"""marker_tag against the simulator: check -> real -> idempotent -> move -> remove -> remove again,
promotion and rollback, refusals that write nothing, and two concurrent ansible runs moving one marker.
"""

from __future__ import annotations

import concurrent.futures

import pytest

from helpers import run_module
from test_marker_tag_support import (
    FAST,
    LOCK_TAG,
    TARGET,
    all_tags,
    create_version,
    end_of_life_soon,
    holders,
    run_many,
    three_versions,
    version_tags,
)

TIME_SCALE = 600


@pytest.fixture(scope="module")
def world():
    """A private demo simulator with versions 1.0.1 (parent 1.0.0) and 1.0.2 (parent 1.0.1)."""
    with three_versions(TIME_SCALE) as pair:
        yield pair


def set_markers(compute, placement, previous=None):
    """Put the world into a known marker state directly through the SDK: {marker: version or None},
    with {marker: previous holder} recorded on the holders given in ``previous``."""
    for item in compute.gallery_image_versions.list_by_gallery_image(TARGET["resource_group"], TARGET["gallery"],
                                                                     TARGET["image"]):
        tags = {key: value for key, value in (item.tags or {}).items()
                if not any(key.lower().startswith("goldenimage.marker.%s" % marker) for marker in placement)}
        for marker, version in placement.items():
            if version == item.name:
                tags["goldenimage.marker.%s" % marker] = "2026-11-01T00:00:00Z"
                if (previous or {}).get(marker):
                    tags["goldenimage.marker.%s.previous" % marker] = previous[marker]
        if tags != dict(item.tags or {}):
            compute.gallery_image_versions.begin_update(TARGET["resource_group"], TARGET["gallery"], TARGET["image"],
                                                        item.name, {"tags": tags}).result(timeout=60)


def writes_since(sim, counted):
    now = sim.metrics()["requests"]
    return (now["writes"] + now["deletes"]) - (counted["writes"] + counted["deletes"])


def marker(sim, name, check=False, diff=False, **args):
    return run_module(sim, "marker_tag", dict(TARGET, marker=name, **FAST, **args), check=check, diff=diff)


def test_put_move_remove_matrix(world):
    sim, compute = world
    set_markers(compute, {"pilot": None})
    before = all_tags(compute)

    counted = sim.metrics()["requests"]
    result = marker(sim, "pilot", check=True, diff=True, version="1.0.1")
    assert result["changed"] and not result["failed"], result
    assert writes_since(sim, counted) == 0, "check mode sent a write request"
    assert (result["before"], result["after"]) == (None, "1.0.1")
    assert result["diff"]["after"]["version"] == "1.0.1"
    assert all_tags(compute) == before, "check mode wrote something"

    result = marker(sim, "pilot", version="1.0.1")
    assert result["changed"] and not result["failed"], result
    assert holders(compute, "pilot") == ["1.0.1"]
    tags = version_tags(compute, "1.0.1")
    assert tags["goldenimage.marker.pilot"].startswith("2026-")  # ARM clock of the simulator, not ours
    assert "goldenimage.marker.pilot.previous" not in tags
    assert LOCK_TAG not in all_tags(compute)[None], "lease not released"

    written = all_tags(compute)
    counted = sim.metrics()["requests"]
    result = marker(sim, "pilot", version="1.0.1")
    assert not result["changed"] and not result["failed"], result
    assert writes_since(sim, counted) == 0, "an idempotent run sent a write request"
    assert all_tags(compute) == written, "an idempotent run wrote something (not even the lease may be written)"

    counted = sim.metrics()["requests"]
    result = marker(sim, "pilot", diff=True, version="1.0.2")
    assert result["changed"], result
    # the whole move: take the lease, claim on 1.0.2, clean 1.0.1, release the lease
    assert writes_since(sim, counted) == 4
    assert result["diff"] == {"before": {"marker": "pilot", "version": "1.0.1"},
                              "after": {"marker": "pilot", "version": "1.0.2", "previous": "1.0.1"}}
    assert holders(compute, "pilot") == ["1.0.2"]
    assert version_tags(compute, "1.0.2")["goldenimage.marker.pilot.previous"] == "1.0.1"
    assert not [key for key in version_tags(compute, "1.0.1") if key.startswith("goldenimage.marker.pilot")]
    assert result["version_id"].endswith("/versions/1.0.2")

    snapshot = all_tags(compute)
    result = marker(sim, "pilot", check=True, state="absent")
    assert result["changed"] and result["after"] is None
    assert all_tags(compute) == snapshot

    result = marker(sim, "pilot", state="absent")
    assert result["changed"] and not result["failed"], result
    assert holders(compute, "pilot") == []

    result = marker(sim, "pilot", state="absent")
    assert not result["changed"] and not result["failed"], result


def test_rollback_forward_and_explicit_rollback(world):
    """Promotion, rollback and their re-runs through the role are in test_image_marker.py; here the
    module's own options: rollback to the recorded previous holder, a forward move clearing the
    rollback record, and a rollback to an explicit version."""
    sim, compute = world
    set_markers(compute, {"pilot": None, "prod": "1.0.1"}, previous={"prod": "1.0.0"})

    rolled = marker(sim, "prod", rollback=True, diff=True)
    assert rolled["changed"] and (rolled["before"], rolled["after"]) == ("1.0.1", "1.0.0"), rolled
    assert rolled["diff"]["after"] == {"marker": "prod", "version": "1.0.0", "previous": "1.0.1"}
    tags = version_tags(compute, "1.0.0")
    assert tags["goldenimage.marker.prod.previous"] == "1.0.1"
    assert tags["goldenimage.marker.prod.rolled-back-from"] == "1.0.1"
    assert holders(compute, "prod") == ["1.0.0"]

    forward = marker(sim, "prod", version="1.0.2")
    assert forward["changed"] and forward["previous"] == "1.0.0"
    assert "goldenimage.marker.prod.rolled-back-from" not in version_tags(compute, "1.0.2")
    assert not [key for key in version_tags(compute, "1.0.0") if key.startswith("goldenimage.marker.prod")]

    explicit = marker(sim, "prod", rollback=True, version="1.0.1")
    assert explicit["changed"] and explicit["after"] == "1.0.1"
    assert version_tags(compute, "1.0.1")["goldenimage.marker.prod.rolled-back-from"] == "1.0.2"
    assert holders(compute, "prod") == ["1.0.1"]
    set_markers(compute, {"pilot": None, "prod": "1.0.0"})


def test_refusals_write_nothing(world):
    sim, compute = world
    set_markers(compute, {"pilot": None, "prod": "1.0.0", "canary": None})
    create_version(sim, compute, "0.9.0", parent=None, end_of_life=end_of_life_soon(sim))
    sim.advance(7200)  # the end of life passes on the ARM clock
    create_version(sim, compute, "1.0.3", parent="1.0.2", exclude_from_latest=True)
    sim.add_fault(method="PUT", path_regex=r"/versions/1\.0\.8$", lro_fail=True, code="ReplicationFailed")
    with pytest.raises(Exception, match="ReplicationFailed|failed"):
        create_version(sim, compute, "1.0.8", parent="1.0.2")
    before = all_tags(compute)
    cases = [
        ({"version": "0.9.0"}, "past its end of life"),
        ({"version": "1.0.3"}, "excluded from use"),
        ({"version": "1.0.8"}, "provisioning failed"),
        ({"version": "7.7.7"}, "7.7.7 does not exist"),
        ({"version": "1.0"}, "version"),
        ({"source_marker": "canary"}, "no version of this image definition holds marker 'canary'"),
        ({"rollback": True}, "nothing to roll back"),
        ({}, "needs one of"),
        ({"marker": "Prod", "version": "1.0.1"}, "marker"),
        ({"marker": "pro.d", "version": "1.0.1"}, "marker"),
        ({"marker": "x" * 40, "version": "1.0.1"}, "marker"),
        # prod on 1.0.0 was set by hand: no previous holder is recorded
        ({"marker": "prod", "rollback": True}, "no previous holder is recorded"),
        ({"image": "no-such-image", "version": "1.0.1"}, "does not exist"),
        ({"state": "absent", "rollback": True}, "state=present only"),
    ]
    results = run_many(sim, "marker_tag", [dict(TARGET, **dict({"marker": "pilot"}, **FAST, **args))
                                           for args, _message in cases])
    for (args, message), result in zip(cases, results):
        assert result["failed"], (args, result)
        assert message in result["msg"], (args, result["msg"])
    assert all_tags(compute) == before, "a refused run wrote something"

    # the one rule an option lifts
    allowed = marker(sim, "pilot", version="1.0.3", allow_excluded=True)
    assert allowed["changed"] and holders(compute, "pilot") == ["1.0.3"]
    marker(sim, "pilot", state="absent")
    for name in ("0.9.0", "1.0.3", "1.0.8"):
        compute.gallery_image_versions.begin_delete(TARGET["resource_group"], TARGET["gallery"], TARGET["image"],
                                                    name).result(timeout=60)


def test_replicating_version_is_refused():
    """A version still being captured and replicated is refused (a slow clock keeps it replicating)."""
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=20) as sim:
        compute = sim.compute_client()
        create_version(sim, compute, "1.0.9", parent="1.0.0", regions=("westeurope", "northeurope"), wait=False)
        before = all_tags(compute)
        result = marker(sim, "pilot", version="1.0.9")
        assert result["failed"], result
        assert "still being provisioned or replicated" in result["msg"], result["msg"]
        assert all_tags(compute) == before


@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_runs_never_leave_two_holders(world, round_):
    """Two ansible-playbook processes move prod at the same moment, to different versions."""
    sim, compute = world
    set_markers(compute, {"prod": "1.0.0"})
    targets = ("1.0.1", "1.0.2") if round_ % 2 == 0 else ("1.0.2", "1.0.1")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda version: marker(sim, "prod", version=version), targets))
    for result in results:
        assert not result["failed"], result
        assert result["changed"], result
    final = holders(compute, "prod")
    assert len(final) == 1, "marker prod on %s" % final
    winner = final[0]
    loser = targets[0] if winner == targets[1] else targets[1]
    # the lease serialised the runs: the last one moved prod away from the first one's version
    assert version_tags(compute, winner)["goldenimage.marker.prod.previous"] == loser
    assert LOCK_TAG not in all_tags(compute)[None]


def test_two_concurrent_runs_to_the_same_version(world):
    sim, compute = world
    set_markers(compute, {"prod": "1.0.0"})
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _index: marker(sim, "prod", version="1.0.2"), range(2)))
    assert not any(result["failed"] for result in results), results
    assert sorted(result["changed"] for result in results) == [False, True], results
    assert holders(compute, "prod") == ["1.0.2"]
    assert version_tags(compute, "1.0.2")["goldenimage.marker.prod.previous"] == "1.0.0"
