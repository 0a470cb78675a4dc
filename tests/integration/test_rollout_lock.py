"""hostpool_rollout_lock: take, renew, refuse, release (resume data kept), remove."""

from __future__ import annotations

import rollout_support as rs
from helpers import run_module


def lock_args(owner, **overrides):
    args = {"resource_group": rs.RG, "host_pool": rs.POOL, "owner": owner, "lease_seconds": 30 * 86400,
            "settle_seconds": 0.5}
    args.update(overrides)
    return args


def test_lease_life_cycle(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=600)

    checked = run_module(sim, "hostpool_rollout_lock", lock_args("run-a", hosts=3, in_service=3, floor=3), check=True)
    assert checked["changed"] and not checked["failed"], checked.get("msg")
    assert "goldenimage.rollout-lock" not in rs.pool_tags(sim)

    taken = run_module(sim, "hostpool_rollout_lock",
                       lock_args("run-a", hosts=3, in_service=3, floor=3, target="1.0.1"), diff=True)
    assert taken["changed"] and taken["lock"]["owner"] == "run-a" and not taken["lock"]["expired"]
    tags = rs.pool_tags(sim)
    assert tags["goldenimage.min-available-hosts"] == "3"
    assert tags["goldenimage.rollout-lock"].startswith("owner=run-a;expires=")
    assert "hosts=3;in_service=3;floor=3;target=1.0.1" in tags["goldenimage.rollout-lock"]
    # the binding tags written by someone else stay
    assert tags["goldenimage.follow-marker"] == "prod"

    refused = run_module(sim, "hostpool_rollout_lock", lock_args("run-b", hosts=5, in_service=5, floor=5))
    assert refused["failed"] and "being rolled out by run-a" in refused["msg"]
    assert rs.pool_tags(sim)["goldenimage.rollout-lock"].startswith("owner=run-a;")

    # release: the lease expires now, the numbers stay for whoever resumes; the floor tag goes
    released = run_module(sim, "hostpool_rollout_lock", lock_args("run-a", state="released"))
    assert released["changed"] and released["lock"]["expired"]
    assert "goldenimage.min-available-hosts" not in rs.pool_tags(sim)

    # another run takes over the expired lease and keeps the first run's pool size
    taken_over = run_module(sim, "hostpool_rollout_lock", lock_args("run-b", hosts=5, in_service=5, floor=2, target="1.0.1"))
    assert taken_over["changed"] and taken_over["lock"]["owner"] == "run-b"
    assert taken_over["lock"]["hosts"] == 3 and taken_over["lock"]["in_service"] == 3
    assert taken_over["lock"]["floor"] == 2

    removed = run_module(sim, "hostpool_rollout_lock", lock_args("run-b", state="absent"))
    assert removed["changed"] and removed["lock"] == {"present": False, "expired": True}
    tags = rs.pool_tags(sim)
    assert "goldenimage.rollout-lock" not in tags and "goldenimage.min-available-hosts" not in tags
    again = run_module(sim, "hostpool_rollout_lock", lock_args("run-b", state="absent"))
    assert not again["changed"] and not again["failed"]
    assert sim.metrics()["violations"] == []
