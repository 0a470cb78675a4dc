"""sysprep_generalize against the simulator: refusal of originals and non-clones, check -> real ->
idempotent, a failed sysprep reported with the log tail, and account names that try to inject code."""

from __future__ import annotations

import pytest

import rollout_support as rs
from helpers import run_module, run_playbook, wire
from test_vm_clone import CLONE, ORIGINAL, RG, TIME_SCALE, build_violations

INJECTION = "x'; Remove-Item C:\\ -Recurse; '"


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def guest_of_vm(sim, name):
    compute = sim.compute_client()
    vm = wire(compute.virtual_machines.get(RG, name))
    disk_id = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
    internal = {key.lower(): value for key, value in sim.state()["internal"].items()}
    return internal[disk_id]["guest"]


def statuses(sim, name):
    view = wire(sim.compute_client().virtual_machines.instance_view(RG, name))
    return [s["code"] for s in view["statuses"]]


def make_clone(sim, generalize=False):
    """Deallocate the original and clone it (and generalize the clone) in one ansible-playbook run."""
    tasks = [
        {"name": "deallocate", "goldenimage.avd.vm_power": {"resource_group": RG, "name": ORIGINAL,
                                                            "state": "deallocated"}},
        {"name": "clone", "goldenimage.avd.vm_clone": {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE}},
    ]
    if generalize:
        tasks.append({"name": "generalize", "goldenimage.avd.sysprep_generalize": {
            "resource_group": RG, "name": CLONE, "poll_interval": 0.02}})
    run = run_playbook(sim, [{"name": "prepare", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    assert run.rc == 0, run.stdout[-4000:]


def test_refuses_the_original_before_touching_it(sim):
    before = guest_of_vm(sim, ORIGINAL)
    writes = sim.metrics()["requests"]["writes"]
    for check in (True, False):
        result = run_module(sim, "sysprep_generalize", {"resource_group": RG, "name": ORIGINAL}, check=check)
        assert result["failed"]
        assert "original" in result["msg"] and "never sysprepped" in result["msg"]
    assert sim.metrics()["requests"]["writes"] == writes
    assert sim.metrics()["requests"]["by_operation"].get(
        "POST /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/"
        "virtualMachines/{vmName}/runCommand", 0) == 0
    assert guest_of_vm(sim, ORIGINAL) == before
    assert "PowerState/running" in statuses(sim, ORIGINAL)
    assert build_violations(sim) == []


def test_sysprep_matrix(sim):
    make_clone(sim)
    args = {"resource_group": RG, "name": CLONE, "poll_interval": 0.02, "timeout": 600}
    count_before = guest_of_vm(sim, CLONE)["sysprep_count"]
    original_count = guest_of_vm(sim, ORIGINAL)["sysprep_count"]

    check = run_module(sim, "sysprep_generalize", args, check=True, diff=True)
    assert not check["failed"], check
    assert check["changed"] and check["keep_accounts"] == ["avdadmin"]
    assert check["steps"] == ["preflight", "remove_local_accounts", "sysprep", "wait_for_stop", "deallocate",
                              "generalize"]
    assert "OSState/generalized" not in statuses(sim, CLONE)
    assert guest_of_vm(sim, CLONE)["sysprep_count"] == count_before

    real = run_module(sim, "sysprep_generalize", args, diff=True)
    assert not real["failed"], real
    assert real["changed"] and real["generalized"] and real["power_state"] == "deallocated"
    assert sorted(real["removed_accounts"]) == ["alice.local", "bob.local"]
    assert real["diff"]["before"]["generalized"] is False and real["diff"]["after"]["generalized"] is True
    codes = statuses(sim, CLONE)
    assert "OSState/generalized" in codes and "PowerState/deallocated" in codes
    guest = guest_of_vm(sim, CLONE)
    assert guest["generalized"] and guest["sysprep_count"] == count_before + 1
    assert [a["name"] for a in guest["local_accounts"]] == ["avdadmin"]

    again = run_module(sim, "sysprep_generalize", args)
    assert not again["failed"] and again["changed"] is False and again["steps"] == []

    original = guest_of_vm(sim, ORIGINAL)
    assert original["sysprep_count"] == original_count and not original["generalized"]
    assert {a["name"] for a in original["local_accounts"]} >= {"alice.local", "bob.local", "avdadmin"}
    assert build_violations(sim) == []


def test_account_names_are_data_not_code(sim):
    """An account name that would inject PowerShell reaches the guest as a parameter value only."""
    make_clone(sim)
    result = run_module(sim, "sysprep_generalize", {
        "resource_group": RG, "name": CLONE, "poll_interval": 0.02, "timeout": 600,
        "keep_accounts": ["avdadmin", INJECTION]})
    assert not result["failed"], result
    assert result["keep_accounts"] == ["avdadmin", INJECTION]
    guest = guest_of_vm(sim, CLONE)
    assert guest["generalized"]
    assert [a["name"] for a in guest["local_accounts"]] == ["avdadmin"]
    # the original and its content are intact
    original = guest_of_vm(sim, ORIGINAL)
    assert original["installed_content"] == guest["installed_content"]


def test_refuses_a_vm_that_vm_clone_did_not_make(sim):
    compute = sim.compute_client()
    compute.virtual_machines.begin_update(RG, ORIGINAL, {"tags": {"purpose": "hand-made"}}).result()
    result = run_module(sim, "sysprep_generalize", {"resource_group": RG, "name": ORIGINAL})
    assert result["failed"] and "not made by goldenimage.avd.vm_clone" in result["msg"]
    assert not guest_of_vm(sim, ORIGINAL)["generalized"]
    assert build_violations(sim) == []


def test_refuses_an_original_whose_tags_were_copied_from_a_clone(sim):
    # tags are easy to copy onto the wrong VM (portal, policy, a script); the OS disk tells the truth
    compute = sim.compute_client()
    other = wire(compute.virtual_machines.get(RG, "avd-demo-0"))["id"]
    compute.virtual_machines.begin_update(RG, ORIGINAL, {"tags": {
        "goldenimage.role": "clone", "goldenimage.clone-of": other}}).result()
    before = guest_of_vm(sim, ORIGINAL)
    writes = sim.metrics()["requests"]["writes"]
    for check in (True, False):
        result = run_module(sim, "sysprep_generalize", {"resource_group": RG, "name": ORIGINAL}, check=check)
        assert result["failed"], result
        assert "OS disk" in result["msg"] and "not made by goldenimage.avd.vm_clone" in result["msg"], result["msg"]
    assert sim.metrics()["requests"]["writes"] == writes
    assert guest_of_vm(sim, ORIGINAL) == before and not before["generalized"]
    assert "PowerState/running" in statuses(sim, ORIGINAL)
    assert build_violations(sim) == []


def test_preflight_stops_before_sysprep(sim):
    """Keeping an account with per-user AppX packages would make sysprep fail: stopped before it runs."""
    make_clone(sim)
    result = run_module(sim, "sysprep_generalize", {
        "resource_group": RG, "name": CLONE, "poll_interval": 0.02, "timeout": 600,
        "keep_accounts": ["avdadmin", "alice.local"]})
    assert result["failed"]
    assert "Pre-flight" in result["msg"] and "SpotifyAB" in result["msg"]
    assert result["steps_done"] == []
    assert "sysprep-started" not in str(wire(sim.compute_client().virtual_machines.get(RG, CLONE)).get("tags"))
    assert not guest_of_vm(sim, CLONE)["generalized"]


def test_failed_sysprep_is_reported_with_the_log_tail(sim):
    """ignore_preflight_blockers runs sysprep although the pre-flight found a blocker; its failure is reported."""
    make_clone(sim)
    result = run_module(sim, "sysprep_generalize", {
        "resource_group": RG, "name": CLONE, "poll_interval": 0.02, "timeout": 600,
        "keep_accounts": ["avdadmin", "bob.local"], "ignore_preflight_blockers": True})
    # bob.local keeps his profile: sysprep fails in the guest and the VM keeps running
    assert result["failed"]
    assert "Sysprep failed" in result["msg"]
    assert "setuperr.log" in result["msg"] and "bob.local" in result["msg"]
    assert "bob.local" in result["sysprep_log_tail"]
    assert result["steps_done"] == ["preflight", "remove_local_accounts", "sysprep"]
    codes = statuses(sim, CLONE)
    assert "OSState/generalized" not in codes and "PowerState/running" in codes


def test_profiles_and_appx_of_accounts_that_stay_stop_before_sysprep(sim):
    """Accounts that stay with profiles or per-user AppX packages make sysprep fail: the task stops after the
    pre-flight (no sysprep Run Command, no 10 minutes lost). ignore_preflight_blockers: the test above."""
    make_clone(sim)
    args = {"resource_group": RG, "name": CLONE, "poll_interval": 0.02, "timeout": 900}
    guest = guest_of_vm(sim, CLONE)
    before = sim.metrics()
    results = rs.run_steps(sim, [
        ("no removal", "sysprep_generalize", dict(args, remove_local_accounts=False), {}),
        ("keep bob", "sysprep_generalize", dict(args, keep_accounts=["avdadmin", "bob.local"]), {}),
    ])
    after = sim.metrics()
    no_removal, keep_bob = results["no removal"], results["keep bob"]
    assert no_removal["failed"] and keep_bob["failed"]
    assert "sysprep was not started" in no_removal["msg"] and "SpotifyAB" in no_removal["msg"]
    assert "user profiles that stay in the image: alice.local, bob.local" in no_removal["msg"]
    blockers = [line for line in keep_bob["msg"].splitlines() if line.startswith("- ")]
    assert len(blockers) == 1 and blockers[0].startswith(
        "- user profiles that stay in the image: bob.local (remove these local accounts and their profiles")
    assert keep_bob["preflight_blockers"] and keep_bob["steps_done"] == []
    assert "ignore_preflight_blockers" in keep_bob["azure_error"]["hint"]
    # one Run Command each (the pre-flight), nothing written, the guest as it was, minutes not lost
    assert run_command_count(after) - run_command_count(before) == 2
    assert after["requests"]["writes"] - before["requests"]["writes"] == 2
    assert guest_of_vm(sim, CLONE) == guest
    assert after["sim_time_s"] - before["sim_time_s"] < 300
    clone_tags = wire(sim.compute_client().virtual_machines.get(RG, CLONE)).get("tags") or {}
    assert "goldenimage.sysprep-started" not in clone_tags


def run_command_count(metrics):
    return sum(n for op, n in metrics["requests"]["by_operation"].items()
               if op.startswith("POST") and op.endswith("/runCommand"))
