"""image_version_prune against the simulator: never a marked version, never one session hosts use;
check mode deletes nothing; a second run changes nothing.
"""

from __future__ import annotations

import pytest

from helpers import run_module
from test_marker_tag_support import FAST, GALLERY, IMAGE, LOCK_TAG, RG, TARGET, all_tags, create_version, run_many

TIME_SCALE = 600


@pytest.fixture(scope="module")
def world():
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=TIME_SCALE) as sim:
        compute = sim.compute_client()
        parent = "1.0.0"
        for name in ("1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5"):
            create_version(sim, compute, name, parent=parent,
                           tags={"goldenimage.marker.pilot": "2026-11-02T08:00:00Z"} if name == "1.0.2" else None)
            parent = name
        yield sim, compute


def names(compute):
    return sorted((item.name for item in compute.gallery_image_versions.list_by_gallery_image(RG, GALLERY, IMAGE)),
                  key=lambda name: tuple(int(part) for part in name.split(".")))


def prune(sim, check=False, diff=False, **args):
    return run_module(sim, "image_version_prune", dict(TARGET, **FAST, **args), check=check, diff=diff)


def test_prune_keeps_newest_marked_and_used_versions(world):
    sim, compute = world
    # move prod away from 1.0.0: it stays in use by the demo session hosts, which must protect it alone
    tags = dict(compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.0").tags or {})
    tags = {key: value for key, value in tags.items() if not key.startswith("goldenimage.marker.prod")}
    compute.gallery_image_versions.begin_update(RG, GALLERY, IMAGE, "1.0.0", {"tags": tags}).result(timeout=60)
    before = names(compute)
    assert before == ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5"]

    result = prune(sim, check=True, diff=True, keep=1)
    assert result["changed"] and not result["failed"], result
    assert result["deleted"] == ["1.0.1", "1.0.3", "1.0.4"]
    assert result["diff"]["after"]["versions"] == ["1.0.0", "1.0.2", "1.0.5"]
    assert names(compute) == before, "check mode deleted something"
    assert any("avd-demo-0" in reason for reason in result["kept"]["1.0.0"]), result["kept"]
    assert any("pilot" in reason for reason in result["kept"]["1.0.2"])
    assert any("newest 1" in reason for reason in result["kept"]["1.0.5"])

    result = prune(sim, keep=1)
    assert result["changed"] and result["deleted"] == ["1.0.1", "1.0.3", "1.0.4"], result
    assert names(compute) == ["1.0.0", "1.0.2", "1.0.5"]
    assert LOCK_TAG not in all_tags(compute)[None]

    result = prune(sim, keep=1)
    assert not result["changed"] and result["deleted"] == [], result
    assert names(compute) == ["1.0.0", "1.0.2", "1.0.5"]


def test_bad_keep_is_refused_before_anything(world):
    sim, compute = world
    before = names(compute)
    for result in run_many(sim, "image_version_prune", [dict(TARGET, keep=keep, **FAST) for keep in (0, -3)]):
        assert result["failed"] and "keep" in result["msg"], result
    assert names(compute) == before
