"""lifecycle.yml's approval gate and stage selection never prompt where nobody can answer.

Without a terminal (CI, cron, AWX) an approval that was asked for fails closed after the pilot
stage; inside an AWX job it is refused before any request; stages can be run on their own.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from avdsim.testing import SimServer

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def sim():
    with SimServer(scenario="demo") as server:
        yield server


def lifecycle(sim, *extra_vars, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AZURE_"))}
    env.update(sim.env)
    env.update({"PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
                "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
                "ANSIBLE_NOCOLOR": "1"})
    args = [str(VENV_BIN / "ansible-playbook"), "-i", str(REPO / "playbooks" / "inventories" / "demo"),
            str(REPO / "playbooks" / "lifecycle.yml")]
    for ev in extra_vars:
        args += ["-e", ev]
    # stdin is not a terminal here, as in any unattended job.
    return subprocess.run(args, check=False, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=600)


def markers(sim):
    versions = sim.compute_client().gallery_image_versions.list_by_gallery_image(
        "rg-avd-demo", "gal_avd_demo", "win11-avd")
    return {tag.split(".")[2]: v.name for v in versions for tag in (v.tags or {})
            if tag.startswith("goldenimage.marker.") and tag.count(".") == 2}


def test_approval_without_a_terminal_stops_before_prod(sim, tmp_path):
    proc = lifecycle(sim, '{"lifecycle_stages": ["pilot", "prod"], "lifecycle_version": "1.0.0", '
                          '"lifecycle_approval": true}', cwd=tmp_path)
    assert proc.returncode != 0
    assert "Promotion to prod not approved" in proc.stdout
    assert "run again with lifecycle_stages [prod]" in proc.stdout
    # The pilot stage ran; prod did not move (it stays on the scenario's 1.0.0, never re-tagged).
    assert markers(sim) == {"pilot": "1.0.0", "prod": "1.0.0"}
    writes_before = sim.metrics()["requests"]["writes"]

    # The documented way on: run the prod stage on its own, without the gate.
    proc = lifecycle(sim, '{"lifecycle_stages": ["prod"]}', cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert markers(sim) == {"pilot": "1.0.0", "prod": "1.0.0"}
    # prod already was on the pilot version: nothing was written.
    assert sim.metrics()["requests"]["writes"] == writes_before
    assert sim.metrics()["violations"] == []


def test_approval_inside_an_awx_job_is_refused_before_any_request(sim, tmp_path):
    before = sim.metrics()["requests"]["total"]
    proc = lifecycle(sim, '{"lifecycle_approval": true, "awx_job_id": 42}', cwd=tmp_path)
    assert proc.returncode != 0
    assert "workflow with an approval" in proc.stdout
    assert sim.metrics()["requests"]["total"] == before


@pytest.mark.parametrize("bad,complaint", [
    ('{"lifecycle_stages": ["deploy"]}', "lifecycle_stages"),
    ('{"lifecycle_stages": ["pilot"]}', "needs lifecycle_version"),
    # As a job-template survey passes it: one string.
    ("lifecycle_stages=pilot,prod", "needs lifecycle_version"),
    ('{"lifecycle_pilot_marker": "prod"}', "must differ"),
])
def test_bad_inputs_fail_before_any_request(sim, tmp_path, bad, complaint):
    before = sim.metrics()["requests"]["total"]
    proc = lifecycle(sim, bad, cwd=tmp_path)
    assert proc.returncode != 0
    assert complaint in proc.stdout
    assert sim.metrics()["requests"]["total"] == before


def test_host_pools_from_the_inventory_are_bound_before_the_stages(sim, tmp_path):
    binding = ('{"lifecycle_stages": ["pilot"], "lifecycle_version": "1.0.0", "lifecycle_rollout": false, '
               '"lifecycle_host_pools": [{"name": "hp-demo-pooled", "resource_group": "rg-avd-demo", '
               '"marker": "pilot"}]}')
    proc = lifecycle(sim, binding, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    pool = sim.desktop_client().host_pools.get("rg-avd-demo", "hp-demo-pooled")
    assert pool.tags["goldenimage.follow-marker"] == "pilot"
    assert pool.tags["goldenimage.follow-image"].lower().endswith("/galleries/gal_avd_demo/images/win11-avd")
    # The pilot stage saw the newly bound pool as one to roll (rollout was switched off).
    assert "host pools following pilot (need a rollout): hp-demo-pooled" in proc.stdout
    writes = sim.metrics()["requests"]["writes"]
    proc = lifecycle(sim, binding, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert sim.metrics()["requests"]["writes"] == writes
