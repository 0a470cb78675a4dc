"""Role image_marker through playbooks/promote.yml and playbooks/rollback.yml against the simulator.

The issue's "Done when": after a build (version 1.0.1 with parent 1.0.0), promote 1.0.1 to pilot,
then pilot to prod, then roll prod back - each step correct, unchanged on a re-run, visible as a tree
from image_version_info; the host pool that follows prod is reported as needing a rollout.
"""

from __future__ import annotations

import pytest

from helpers import run_module, run_playbook
from test_marker_tag_support import HOST_POOL, TARGET, all_tags, create_version, holders, version_tags

TIME_SCALE = 600
# the demo inventory: its golden_image_* variables name the image the markers live on
INVENTORY = "playbooks/inventories/demo"


@pytest.fixture(scope="module")
def world():
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=TIME_SCALE) as sim:
        compute = sim.compute_client()
        create_version(sim, compute, "1.0.1", parent="1.0.0")
        yield sim, compute


def play(sim, playbook, check=False, **extra_vars):
    # the default lease (300 s of the ARM clock) is enough: the simulator's clock is honest
    run = run_playbook(sim, playbook, extra_vars=extra_vars, inventory=INVENTORY, check=check)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def outcome(run):
    return run.task("Record the marker outcome")["ansible_facts"]["image_marker_result"]


def test_promote_pilot_then_prod_then_roll_back(world):
    sim, compute = world

    before = all_tags(compute)
    dry = play(sim, "playbooks/promote.yml", check=True, marker="pilot", version="1.0.1")
    assert outcome(dry)["changed"] and outcome(dry)["after"] == "1.0.1"
    assert all_tags(compute) == before, "check mode wrote something"
    # a preview chained into the rollout plans against the version the marker would hold
    writes = sim.metrics()["requests"]["writes"]
    dry_roll = play(sim, "playbooks/promote.yml", check=True, marker="prod", version="1.0.1", rollout=True,
                    session_host_rollout_admin_password="Rollout-Test-Pa55!")
    assert outcome(dry_roll)["after"] == "1.0.1"
    assert "target 1.0.1" in dry_roll.task("Show the starting point")["msg"]
    assert "would deploy" in dry_roll.task("Say what the preview covers")["msg"]
    assert all_tags(compute) == before and sim.metrics()["requests"]["writes"] == writes

    first = play(sim, "playbooks/promote.yml", marker="pilot", version="1.0.1")
    assert outcome(first)["changed"] and (outcome(first)["before"], outcome(first)["after"]) == (None, "1.0.1")
    assert holders(compute, "pilot") == ["1.0.1"]
    assert not outcome(play(sim, "playbooks/promote.yml", marker="pilot", version="1.0.1"))["changed"]

    promoted = play(sim, "playbooks/promote.yml", marker="prod", source_marker="pilot")
    result = outcome(promoted)
    assert result["changed"] and (result["before"], result["after"], result["previous"]) == ("1.0.0", "1.0.1", "1.0.0")
    assert [pool["name"] for pool in result["host_pools_to_roll"]] == [HOST_POOL]
    assert result["tree"] == ["1.0.0", "└── 1.0.1 [pilot, prod]"]
    assert holders(compute, "prod") == ["1.0.1"]
    # the rollout play is imported but does nothing without rollout=true
    assert all(entry["result"].get("skipped") for entry in promoted.tasks if entry["play"].startswith("Roll host pools"))
    assert not outcome(play(sim, "playbooks/promote.yml", marker="prod", source_marker="pilot"))["changed"]

    rolled = play(sim, "playbooks/rollback.yml", marker="prod")
    result = outcome(rolled)
    assert result["changed"] and (result["before"], result["after"]) == ("1.0.1", "1.0.0")
    assert [pool["name"] for pool in result["host_pools_to_roll"]] == [HOST_POOL]
    assert result["tree"] == ["1.0.0 [prod]", "└── 1.0.1 [pilot]"]
    assert holders(compute, "prod") == ["1.0.0"]
    assert version_tags(compute, "1.0.0")["goldenimage.marker.prod.rolled-back-from"] == "1.0.1"

    again = outcome(play(sim, "playbooks/rollback.yml", marker="prod"))
    assert not again["changed"] and again["after"] == "1.0.0"
    assert any("already rolled back" in note for note in again["notes"])

    info = run_module(sim, "image_version_info", TARGET)
    assert info["markers"] == {"pilot": "1.0.1", "prod": "1.0.0"}
    assert info["tree"]["lines"] == ["1.0.0 [prod]", "└── 1.0.1 [pilot]"]


def test_promote_without_a_target_fails_before_anything(world):
    sim, compute = world
    before = all_tags(compute)
    run = run_playbook(sim, "playbooks/promote.yml", extra_vars={"marker": "prod"}, inventory=INVENTORY)
    assert run.rc != 0
    assert "needs image_marker_version" in run.task("Check that the action has a target")["msg"]
    assert all_tags(compute) == before


def test_promote_with_rollout_rolls_the_pools_that_follow(fresh_sim):
    """promote.yml with rollout=true: prod moves to 1.0.1 and hp-demo-pooled ends on 1.0.1."""
    import rollout_support as rs

    sim = fresh_sim(scenario="demo", time_scale=3000)
    compute = sim.compute_client()
    create_version(sim, compute, "1.0.1", parent="1.0.0")
    run = play(sim, "playbooks/promote.yml", marker="prod", version="1.0.1", rollout=True,
               session_host_rollout_admin_password=rs.ADMIN_PASSWORD, session_host_rollout_drain_timeout=7200)
    assert outcome(run)["changed"] and [pool["name"] for pool in outcome(run)["host_pools_to_roll"]] == [HOST_POOL]
    assert holders(compute, "prod") == ["1.0.1"]
    versions = rs.host_versions(sim)
    assert versions and set(versions.values()) == {"1.0.1"}, versions
    assert not sim.metrics().get("violations"), sim.metrics().get("violations")
