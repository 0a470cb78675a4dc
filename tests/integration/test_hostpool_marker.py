"""hostpool_marker against the simulator: check -> real -> idempotent -> remove -> remove again, and refusals."""

from __future__ import annotations

import pytest

from helpers import run_module
from test_marker_tag_support import GALLERY, HOST_POOL, IMAGE, RG, image_id, run_many

TIME_SCALE = 600
FOLLOW_IMAGE = "goldenimage.follow-image"
FOLLOW_MARKER = "goldenimage.follow-marker"


@pytest.fixture(scope="module")
def world():
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=TIME_SCALE) as sim:
        yield sim, sim.desktop_client()


def pool_tags(desktop, name=HOST_POOL):
    return dict(desktop.host_pools.get(RG, name).tags or {})


def bind(sim, check=False, diff=False, **args):
    return run_module(sim, "hostpool_marker", dict({"resource_group": RG, "host_pool": HOST_POOL}, **args),
                      check=check, diff=diff)


def test_bind_matrix(world):
    sim, desktop = world
    original = pool_tags(desktop)
    assert original[FOLLOW_MARKER] == "prod"

    result = bind(sim, check=True, diff=True, gallery=GALLERY, image=IMAGE, marker="pilot")
    assert result["changed"] and not result["failed"], result
    assert result["diff"]["before"]["binding"]["marker"] == "prod"
    assert result["diff"]["after"]["binding"]["marker"] == "pilot"
    assert pool_tags(desktop) == original, "check mode wrote something"

    result = bind(sim, gallery=GALLERY, image=IMAGE, marker="pilot")
    assert result["changed"] and not result["failed"], result
    assert result["binding"] == {"image_id": image_id(sim), "marker": "pilot"}
    assert result["previous_binding"]["marker"] == "prod"
    assert result["host_pool_type"] == "Pooled"
    assert result["version"] is None and any("holds marker 'pilot'" in warning for warning in result.get("warnings", []))
    tags = pool_tags(desktop)
    assert tags[FOLLOW_MARKER] == "pilot" and tags[FOLLOW_IMAGE].lower() == image_id(sim).lower()
    others = {key: value for key, value in original.items() if not key.startswith("goldenimage.follow-")}
    assert {key: value for key, value in tags.items() if not key.startswith("goldenimage.follow-")} == others

    result = bind(sim, image_id=image_id(sim), marker="pilot")
    assert not result["changed"] and not result["failed"], result

    result = bind(sim, check=True, state="absent")
    assert result["changed"] and result["binding"] is None
    assert pool_tags(desktop)[FOLLOW_MARKER] == "pilot"

    result = bind(sim, state="absent")
    assert result["changed"] and not result["failed"], result
    assert FOLLOW_MARKER not in pool_tags(desktop) and FOLLOW_IMAGE not in pool_tags(desktop)

    result = bind(sim, state="absent")
    assert not result["changed"] and not result["failed"], result

    result = bind(sim, gallery=GALLERY, image=IMAGE, marker="prod")
    assert result["changed"] and result["version"] == "1.0.0"
    assert result["version_id"].lower() == (image_id(sim) + "/versions/1.0.0").lower()
    assert pool_tags(desktop)[FOLLOW_MARKER] == "prod"


def test_refusals_write_nothing(world):
    sim, desktop = world
    from azure.mgmt.desktopvirtualization.models import HostPool

    desktop.host_pools.create_or_update(RG, "hp-personal", HostPool(
        location="westeurope", host_pool_type="Personal", load_balancer_type="Persistent",
        preferred_app_group_type="Desktop", personal_desktop_assignment_type="Automatic"))
    before = {name: pool_tags(desktop, name) for name in (HOST_POOL, "hp-personal")}
    cases = [
        ({"host_pool": "hp-personal", "gallery": GALLERY, "image": IMAGE, "marker": "prod"}, "Personal"),
        ({"gallery": GALLERY, "image": "no-such-image", "marker": "prod"}, "does not exist"),
        ({"gallery": GALLERY, "image": IMAGE, "marker": "Prod!"}, "marker"),
        ({"gallery": GALLERY, "image": IMAGE}, "marker"),
        ({"marker": "prod"}, "image_id, or gallery and image"),
        ({"image_id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
          "marker": "prod"}, "not a gallery image definition id"),
        ({"host_pool": "hp-missing", "gallery": GALLERY, "image": IMAGE, "marker": "prod"}, "does not exist"),
    ]
    results = run_many(sim, "hostpool_marker", [dict({"resource_group": RG, "host_pool": HOST_POOL}, **args)
                                                for args, _message in cases])
    for (args, message), result in zip(cases, results):
        assert result["failed"], (args, result)
        assert message in result["msg"], (args, result["msg"])
    assert {name: pool_tags(desktop, name) for name in (HOST_POOL, "hp-personal")} == before
    desktop.host_pools.delete(RG, "hp-personal")
