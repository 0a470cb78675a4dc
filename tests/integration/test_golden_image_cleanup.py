"""golden_image_cleanup: what a killed build left, found from Azure (the clones of the original by their tags,
whatever their name; the power state before the build in the original's tag), removed and put back. Check mode
-> real -> idempotent, in one ansible-playbook process."""

from __future__ import annotations

from helpers import wire
from rollout_support import run_steps
from test_golden_image import TIME_SCALE, clone_leftovers, power_state
from test_vm_clone import CLONE, ORIGINAL, RG


def test_leftovers_of_a_killed_build_are_found_by_their_tags_and_cleaned_up(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    base = {"resource_group": RG, "original_vm": ORIGINAL, "clone_name": CLONE, "poll_interval": 0.05}
    steps = [
        # what a build killed after its capture leaves: the original deallocated (it was running, as its tag
        # says) and its clone; and a clone of an earlier run under another name
        ("deallocate", "vm_power", {"resource_group": RG, "name": ORIGINAL, "state": "deallocated",
                                    "remember": True}, None),
        ("clone", "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE}, None),
        ("old clone", "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE + "-old"}, None),
        # a resumed capture keeps its own clone only, and the build puts the power back at its end
        ("resume", "golden_image_cleanup", dict(base, phase="start", build_action="resume"), {"check_mode": True}),
        ("preview", "golden_image_cleanup", dict(base, phase="start", build_action="finish"),
         {"check_mode": True, "diff": True}),
        ("real", "golden_image_cleanup", dict(base, phase="start", build_action="finish"), None),
        ("again", "golden_image_cleanup", dict(base, phase="end", build_action="finish"), None),
        ("bad", "golden_image_cleanup", dict(base, phase="start", build_action="finish", clone_name=ORIGINAL), None),
    ]
    results = run_steps(sim, steps)
    for name in ("deallocate", "clone", "old clone"):
        assert not results[name]["failed"], results[name]

    resume = results["resume"]
    assert resume["changed"] and resume["kept"] == [CLONE] and not resume["power_restored"]
    assert {(d["kind"], d["name"]) for d in resume["deleted"]} >= {("vm", CLONE + "-old")}
    assert not [d for d in resume["deleted"] if d["name"] == CLONE]

    preview = results["preview"]
    assert preview["changed"] and preview["power_restored"] and preview["power_state"] == "running"
    deleted = {(d["kind"], d["name"]) for d in preview["deleted"]}
    assert {("vm", CLONE), ("vm", CLONE + "-old"), ("disk", CLONE + "-osdisk"),
            ("snapshot", CLONE + "-old-snap-os")} <= deleted
    assert preview["diff"]["before"]["recorded_power_state"] == "running"
    assert preview["diff"]["after"]["clones"] == []

    real = results["real"]
    assert real["changed"] and {(d["kind"], d["name"]) for d in real["deleted"]} == deleted
    assert real["power_state"] == "running" and real["recorded_power_state"] is None
    assert not results["again"]["changed"] and results["again"]["deleted"] == []
    assert results["bad"]["failed"] and "clone_name" in results["bad"]["msg"]

    # nothing of either clone is left (VMs, NICs, disks, snapshots), the original runs again without the tag
    assert clone_leftovers(sim) == []
    assert power_state(sim, ORIGINAL) == "PowerState/running"
    original = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))
    assert "goldenimage.power-state-before" not in (original.get("tags") or {})
    assert sim.metrics()["violations"] == []
