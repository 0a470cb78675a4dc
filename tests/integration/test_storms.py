"""Fault storms for the whole run: the golden-image build and a rollout ride out throttling (429 with
Retry-After on 30 % of ARM requests) and transient 5xx (500 and 503 on about 20 %) with nothing lost and
the end state of an undisturbed run; a permanent failure of one operation stops them within the
configured retry bound, with Azure's error and what to do. A failed operation that Azure reports as
transient is started again.

The figures (requests, faults injected = retries, failures) are printed: ``pytest -s`` shows them.

A client's own back-off (a 500 names no wait) is real time, which the simulator's time scale cannot
compress, so these runs shorten ``api_retry_backoff`` (ANSIBLE_AZURE_API_RETRY_BACKOFF); the waits a
response names (429 and 503 here) are simulated seconds, compressed like every wait of the simulator.
"""

from __future__ import annotations

import time

import rollout_support as rs
from helpers import run_module, run_playbook
from test_golden_image import INVENTORY, PLAYBOOK, assert_built, clone_leftovers, power_state, vm_guest
from test_rollout import lowest_capacity, rollout_vars
from test_vm_clone import ORIGINAL, RG

ARM = "^/subscriptions/"
FAST_BACKOFF = {"ANSIBLE_AZURE_API_RETRY_BACKOFF": "0.01"}
# a permanent failure: few retries, so the run stops soon (the bound is what the test checks)
BOUNDED = {"ANSIBLE_AZURE_API_RETRY_BACKOFF": "0.01", "ANSIBLE_AZURE_API_RETRIES": "3"}


def storm(sim):
    """30 % of ARM requests throttled (Retry-After: the 10 s Azure-like default), then 10 % 500 (no
    wait named) and 10 % 503 (Retry-After 5 s) of the rest; seeded, so a run is repeatable."""
    sim.add_fault(path_regex=ARM, status=429, rate=0.3)
    sim.add_fault(path_regex=ARM, status=500, rate=0.1)
    sim.add_fault(path_regex=ARM, status=503, rate=0.1, retry_after=5)


def figures(label, before, after, started):
    delta = rs.requests_delta(before, after)
    faults = {key: after["faults_by_status"].get(key, 0) - before["faults_by_status"].get(key, 0)
              for key in after["faults_by_status"]}
    injected = after["faults_injected"] - before["faults_injected"]
    print("\n%s: %d ARM requests, %d faults injected and retried %s, %.0f s real, %.0f s simulated" % (
        label, delta["total"], injected, faults, time.monotonic() - started, after["sim_time_s"] - before["sim_time_s"]))
    return delta, faults, injected


def test_build_rides_out_a_storm_with_nothing_lost(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=6000)
    original_before = vm_guest(sim, ORIGINAL)
    storm(sim)
    before, started = sim.metrics(), time.monotonic()
    run = run_playbook(sim, PLAYBOOK, inventory=INVENTORY, extra_env=FAST_BACKOFF)
    sim.clear_faults()
    delta, faults, injected = figures("build under storm", before, sim.metrics(), started)
    assert run.rc == 0, run.stdout[-6000:]
    # the storm happened, every kind of fault included, and was ridden out
    assert injected >= 0.3 * delta["total"] and faults["429"] and faults["500"] and faults["503"]
    # the end state of an undisturbed run: the version, its content, no clone or disk, snapshot,
    # NIC left, the original untouched and running, no violation
    assert_built(sim, original_before)
    assert [r for r in sim.state()["resources"] if r["type"] == "Microsoft.Compute/snapshots"] == []
    disks = [r["name"].lower() for r in sim.state()["resources"] if r["type"] == "Microsoft.Compute/disks"]
    assert len(disks) == len(set(disks))
    assert sim.metrics()["violations"] == []


def test_rollout_rides_out_a_storm_with_nothing_lost(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=3000)
    rs.create_version(sim, "1.0.1")
    rs.move_marker(sim, "1.0.1")
    storm(sim)
    before, started = sim.metrics(), time.monotonic()
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=rollout_vars(sim, session_host_rollout_surge="100%"),
                       extra_env=FAST_BACKOFF)
    sim.clear_faults()
    after = sim.metrics()
    delta, faults, injected = figures("rollout under storm", before, after, started)
    assert run.rc == 0, run.stdout[-6000:]
    assert injected >= 0.3 * delta["total"] and faults["429"] and faults["500"] and faults["503"]
    # the end state of an undisturbed rollout: every host on 1.0.1, the old ones gone with their
    # disks and NICs, users never noticed, capacity never below the start, lease released
    versions = rs.host_versions(sim)
    assert len(versions) == 3 and set(versions.values()) == {"1.0.1"}, versions
    assert not set(versions) & set(rs.DEMO_HOSTS)
    leftovers = [(r["type"], r["name"]) for r in sim.state()["resources"]
                 if any(r.get("name", "").lower().startswith(host) for host in rs.DEMO_HOSTS)]
    assert leftovers == []
    users_before, users = before["users"], after["users"]
    assert users["logon_failures"] - users_before["logon_failures"] == 0
    assert users["forced_logoffs"] - users_before["forced_logoffs"] == 0
    assert after["violations"] == []
    assert lowest_capacity(after, before["sim_time_s"]) >= 3
    tags = rs.pool_tags(sim)
    assert "goldenimage.rollout-lock" not in tags and "goldenimage.min-available-hosts" not in tags
    result = run.task("Record the outcome")["ansible_facts"]["session_host_rollout_result"]
    assert result["complete"] and int(result["hosts_after"]) == 3


def test_build_stops_within_the_bound_on_a_permanent_failure(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=6000)
    # every snapshot PUT fails: the clone cannot be made
    sim.add_fault(method="PUT", path_regex=r"/providers/Microsoft\.Compute/snapshots/", status=503, rate=1.0,
                  retry_after=5)
    before, started = sim.metrics(), time.monotonic()
    run = run_playbook(sim, PLAYBOOK, inventory=INVENTORY, extra_env=BOUNDED)
    sim.clear_faults()
    _delta, faults, _injected = figures("build, snapshots failing", before, sim.metrics(), started)
    assert run.rc != 0
    failed = [entry for entry in run.tasks if entry["result"].get("failed") and "HTTP 503" in
              str(entry["result"].get("msg"))]
    assert failed, run.stdout[-6000:]
    msg = failed[0]["result"]["msg"]
    assert "Could not create snapshot" in msg and "(ServiceUnavailable, HTTP 503)" in msg
    assert "api_retries=3" in msg and "run again later, or raise api_retries/api_retry_timeout" in msg
    assert failed[0]["result"]["azure_error"]["retries"]["by_status"]["503"] >= 3
    # each snapshot PUT was tried once and retried 3 times, no more
    assert faults["503"] % 4 == 0 and faults["503"] >= 4
    # nothing is left of the clone, the original is back in its power state
    assert not [name for _kind, name in clone_leftovers(sim)]
    assert power_state(sim, ORIGINAL) == "PowerState/running"
    assert sim.metrics()["violations"] == []


def test_rollout_stops_within_the_bound_on_a_permanent_failure(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=3000)
    rs.create_version(sim, "1.0.1")
    rs.move_marker(sim, "1.0.1")
    # no new session-host VM can be created
    sim.add_fault(method="PUT", path_regex=r"/providers/Microsoft\.Compute/virtualMachines/avd-demo-[3-9]$",
                  status=503, rate=1.0, retry_after=5)
    before, started = sim.metrics(), time.monotonic()
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=rollout_vars(sim), extra_env=BOUNDED)
    sim.clear_faults()
    after = sim.metrics()
    _delta, faults, _injected = figures("rollout, VM creation failing", before, after, started)
    assert run.rc != 0
    assert "HTTP 503" in run.stdout and "api_retries" in run.stdout, run.stdout[-6000:]
    assert faults["503"] >= 4
    # stopped in batch 1 without damage: the old hosts serve on, users never noticed
    assert set(rs.host_versions(sim).values()) == {"1.0.0"}
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    assert after["users"]["logon_failures"] == before["users"]["logon_failures"]
    assert after["violations"] == []


def test_transient_operation_failure_is_restarted_and_a_permanent_one_reported(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=6000)
    args = {"resource_group": RG, "name": ORIGINAL, "state": "deallocated", "poll_interval": 0.02}
    # Azure accepts the deallocation, then the operation ends Failed with InternalExecutionError twice
    sim.add_fault(method="POST", path_regex="/virtualMachines/%s/deallocate$" % ORIGINAL, lro_fail=True, count=2,
                  code="InternalExecutionError")
    result = run_module(sim, "vm_power", args)
    assert not result["failed"] and result["changed"], result
    assert power_state(sim, ORIGINAL) == "PowerState/deallocated"
    assert sim.metrics()["faults_by_status"]["lro_fail"] == 2
    # a failure that is not transient is not repeated, and says what Azure said, not "HTTP 200"
    sim.add_fault(method="POST", path_regex="/virtualMachines/%s/start$" % ORIGINAL, lro_fail=True, count=1,
                  code="OSProvisioningTimedOut", message="The guest did not report ready in time.")
    result = run_module(sim, "vm_power", dict(args, state="running"))
    assert result["failed"]
    assert result["msg"].startswith("Could not start VM '%s': Azure accepted the request, then the operation "
                                    "ended Failed: The guest did not report ready in time. (OSProvisioningTimedOut)"
                                    % ORIGINAL), result["msg"]
    assert "HTTP 200" not in result["msg"] and result["azure_error"]["operation_status"] == "Failed"
    assert sim.metrics()["faults_by_status"]["lro_fail"] == 3
