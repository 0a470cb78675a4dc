"""playbooks/lifecycle.yml in check mode (ansible-playbook --check, an AWX job of type "Check"):
a preview writes nothing to Azure, fails on nothing a real run would do, and says what it covers."""

from __future__ import annotations

import pytest

import rollout_support as rs
from helpers import run_playbook

INVENTORY = "playbooks/inventories/demo"
PLAYBOOK = "playbooks/lifecycle.yml"


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=3000)


def preview(sim, **extra_vars):
    before = sim.metrics()
    run = run_playbook(sim, PLAYBOOK, inventory=INVENTORY, check=True, diff=True, extra_vars={
        "session_host_rollout_admin_password": rs.ADMIN_PASSWORD, **extra_vars})
    assert run.rc == 0, run.stdout[-6000:]
    delta = rs.requests_delta(before, sim.metrics())
    assert delta["writes"] == 0 and delta["deletes"] == 0, delta
    return run


def markers(sim):
    versions = sim.compute_client().gallery_image_versions.list_by_gallery_image(rs.RG, rs.GALLERY, rs.IMAGE)
    return {v.name: sorted(k for k, val in (v.tags or {}).items() if k.startswith("goldenimage.marker."))
            for v in versions}


def test_full_lifecycle_preview_ends_with_the_build(sim):
    before = markers(sim)
    run = preview(sim)
    assert run.task("Build a new version from the original VM")
    assert run.task("Clone the original VM")["changed"]
    # the version the build would make does not exist: the marker and rollout stages are not previewed
    note = run.task("Say where the preview ends")["msg"]
    assert "version 1.0.1 does not exist yet" in note and "lifecycle_stages [pilot, prod]" in note
    assert run.task("Put the pilot marker on the new version").get("skipped")
    assert run.task("Move the prod marker to the version that holds the pilot marker").get("skipped")
    assert markers(sim) == before and set(rs.host_versions(sim).values()) == {"1.0.0"}
    # the summary still reads the real state
    assert run.task("Show the version tree and the host pools")["msg"][0] == "version tree:"


def test_marker_and_rollout_preview_of_an_existing_version(sim):
    rs.create_version(sim, "1.0.1")
    before = markers(sim)
    run = preview(sim, lifecycle_stages=["pilot", "prod"], lifecycle_version="1.0.1")
    promotions = run.results("Move the marker (promote)")
    assert len(promotions) == 2 and all(r["changed"] for r in promotions), promotions
    # pilot would move to 1.0.1; prod is previewed against the version pilot would hold, not today's holder
    assert [r["after"] for r in promotions] == ["1.0.1", "1.0.1"]
    # the prod pool is previewed against 1.0.1 (the marker did not really move)
    assert "target 1.0.1" in run.task("Show the starting point")["msg"]
    assert "would deploy avd-demo-3, avd-demo-4, avd-demo-5" in run.task("Say what the preview covers")["msg"]
    assert run.task("Report a paused rollout").get("skipped")
    assert markers(sim) == before
    assert set(rs.host_versions(sim).values()) == {"1.0.0"}
