"""hostpool_rollout_lock: take, renew, refuse, release (resume data kept), take over, remove."""

from __future__ import annotations

import rollout_support as rs


def lock_args(owner, **overrides):
    args = {"resource_group": rs.RG, "host_pool": rs.POOL, "owner": owner, "lease_seconds": 30 * 86400,
            "settle_seconds": 0.5}
    args.update(overrides)
    return args


def test_lease_life_cycle(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=600)
    results = rs.run_steps(sim, [
        ("check", "hostpool_rollout_lock", lock_args("run-a", hosts=3, in_service=3, floor=3), {"check_mode": True}),
        ("take", "hostpool_rollout_lock", lock_args("run-a", hosts=3, in_service=3, floor=3, target="1.0.1"),
         {"diff": True}),
        ("refused", "hostpool_rollout_lock", lock_args("run-b", hosts=5, in_service=5, floor=5, target="1.0.1"), {}),
        ("renew", "hostpool_rollout_lock", lock_args("run-a", floor=3, target="1.0.1"), {}),
    ])
    checked, taken, refused, renewed = (results[k] for k in ("check", "take", "refused", "renew"))
    assert checked["changed"] and not checked["failed"], checked.get("msg")
    assert checked["lock"]["present"] and checked["lock"]["owner"] == "run-a"  # what the real run then takes
    assert taken["changed"] and taken["lock"]["owner"] == "run-a" and not taken["lock"]["expired"]
    assert taken["diff"]["before"]["lock"]["present"] is False
    assert refused["failed"] and "being rolled out by run-a" in refused["msg"]
    assert renewed["lock"]["owner"] == "run-a" and renewed["lock"]["hosts"] == 3
    tags = rs.pool_tags(sim)
    assert tags["goldenimage.min-available-hosts"] == "3"
    assert tags["goldenimage.rollout-lock"].startswith("owner=run-a;expires=")
    assert "hosts=3;in_service=3;floor=3;target=1.0.1" in tags["goldenimage.rollout-lock"]
    assert tags["goldenimage.follow-marker"] == "prod"  # the binding written by someone else stays

    results = rs.run_steps(sim, [
        # release: the lease expires now, the numbers stay for whoever resumes; the floor tag goes
        ("release", "hostpool_rollout_lock", lock_args("run-a", state="released"), {}),
        # another run takes over the expired lease and keeps the first run's pool size
        ("take over", "hostpool_rollout_lock", lock_args("run-b", hosts=5, in_service=5, floor=2, target="1.0.1"), {}),
    ])
    released, taken_over = results["release"], results["take over"]
    assert released["changed"] and released["lock"]["expired"]
    assert taken_over["changed"] and taken_over["lock"]["owner"] == "run-b"
    assert taken_over["lock"]["hosts"] == 3 and taken_over["lock"]["in_service"] == 3
    assert taken_over["lock"]["floor"] == 2

    results = rs.run_steps(sim, [
        ("remove", "hostpool_rollout_lock", lock_args("run-b", state="absent"), {}),
        ("remove again", "hostpool_rollout_lock", lock_args("run-b", state="absent"), {}),
    ])
    assert results["remove"]["changed"] and results["remove"]["lock"] == {"present": False, "expired": True}
    assert not results["remove again"]["changed"] and not results["remove again"]["failed"]
    tags = rs.pool_tags(sim)
    assert "goldenimage.rollout-lock" not in tags and "goldenimage.min-available-hosts" not in tags
    assert sim.metrics()["violations"] == []


def test_check_mode_and_diff_are_honest(fresh_sim):
    """changed only when the lease is taken, renewed or released; check mode predicts it with a diff and writes
    nothing; a second run with the same values changes nothing."""
    sim = fresh_sim(scenario="demo", time_scale=600)
    take = lock_args("run-a", hosts=3, in_service=3, floor=3, target="1.0.1")
    before = sim.metrics()["requests"]["writes"]
    checks = rs.run_steps(sim, [
        ("take?", "hostpool_rollout_lock", take, {"check_mode": True, "diff": True}),
        ("release?", "hostpool_rollout_lock", lock_args("run-a", state="released"), {"check_mode": True, "diff": True}),
        ("remove?", "hostpool_rollout_lock", lock_args("run-a", state="absent"), {"check_mode": True}),
    ])
    assert sim.metrics()["requests"]["writes"] == before
    would_take = checks["take?"]
    assert would_take["changed"] and not would_take["failed"], would_take.get("msg")
    assert would_take["diff"]["before"]["lock"] == {"present": False, "expired": True}
    assert would_take["diff"]["after"]["lock"]["owner"] == "run-a" and not would_take["diff"]["after"]["lock"]["expired"]
    assert would_take["lock"] == would_take["diff"]["after"]["lock"]
    assert not checks["release?"]["changed"] and not checks["remove?"]["changed"]  # nothing to release

    results = rs.run_steps(sim, [
        ("take", "hostpool_rollout_lock", take, {"diff": True}),
        ("take again?", "hostpool_rollout_lock", take, {"check_mode": True, "diff": True}),
        ("take again", "hostpool_rollout_lock", take, {"diff": True}),
        ("new floor?", "hostpool_rollout_lock", dict(take, floor=2), {"check_mode": True, "diff": True}),
        ("renew?", "hostpool_rollout_lock", dict(take, renew_below_seconds=31 * 86400), {"check_mode": True}),
        ("other run?", "hostpool_rollout_lock", lock_args("run-b", floor=3), {"check_mode": True}),
        ("release?", "hostpool_rollout_lock", lock_args("run-a", state="released"), {"check_mode": True, "diff": True}),
    ])
    taken = results["take"]
    assert taken["changed"] and taken["lock"]["owner"] == "run-a"
    tags = rs.pool_tags(sim)
    for name in ("take again?", "take again"):
        assert results[name]["changed"] is False and not results[name]["failed"], results[name].get("msg")
        assert results[name]["diff"]["before"] == results[name]["diff"]["after"]
    assert rs.pool_tags(sim) == tags  # the second take wrote nothing
    assert results["new floor?"]["changed"] and results["new floor?"]["diff"]["after"]["lock"]["floor"] == 2
    assert results["renew?"]["changed"]
    assert results["other run?"]["failed"] and "being rolled out by run-a" in results["other run?"]["msg"]
    would_release = results["release?"]
    assert would_release["changed"] and would_release["diff"]["after"]["lock"]["expired"]
    assert would_release["diff"]["before"]["lock"]["expired"] is False
    assert rs.pool_tags(sim) == tags  # check mode wrote nothing

    results = rs.run_steps(sim, [
        ("release", "hostpool_rollout_lock", lock_args("run-a", state="released"), {}),
        ("release again", "hostpool_rollout_lock", lock_args("run-a", state="released"), {}),
        ("remove", "hostpool_rollout_lock", lock_args("run-a", state="absent"), {}),
        ("remove again?", "hostpool_rollout_lock", lock_args("run-a", state="absent"), {"check_mode": True}),
    ])
    assert results["release"]["changed"] and not results["release again"]["changed"]
    assert results["remove"]["changed"] and not results["remove again?"]["changed"]
    assert "goldenimage.rollout-lock" not in rs.pool_tags(sim)
    assert sim.metrics()["violations"] == []
