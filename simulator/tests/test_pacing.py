"""Honest simulated time through the real SDKs: an operation lasts its Azure duration whatever
the time scale and however slow the client, a client's own time counts once, a client that
polls moves the clock one poll interval per read, users on a drained host are waited for."""

import os
import tempfile
import time

import yaml

from avd_helpers import DOMAIN, POOL, sessions_by_host
from avdsim.testing import SimServer
from compute_helpers import ORIGINAL, RG, raw

VM_URL = ("{endpoint}/subscriptions/{sub}/resourceGroups/" + RG
          + "/providers/Microsoft.Compute/virtualMachines/" + ORIGINAL)


def _elapsed(sim, since):
    return sim.clock()["sim_time_s"] - since


def _power(compute):
    view = compute.virtual_machines.instance_view(RG, ORIGINAL)
    return [s.code for s in view.statuses if s.code.startswith("PowerState/")][0]


def test_an_operation_lasts_its_azure_duration_whatever_the_time_scale():
    measured = {}
    for scale in (600, 6000):
        with SimServer(scenario="demo", time_scale=scale) as sim:
            compute = sim.compute_client()
            t0 = sim.clock()["sim_time_s"]
            real0 = time.monotonic()
            compute.virtual_machines.begin_deallocate(RG, ORIGINAL).result()
            compute.virtual_machines.begin_start(RG, ORIGINAL).result()
            real = time.monotonic() - real0
            measured[scale] = _elapsed(sim, t0)
            # vm_deallocate 60 s + vm_start 60 s, plus the client's own real seconds once
            assert 120 <= measured[scale] <= 120 + real + 1, (scale, measured[scale], real)
            assert sim.clock()["waits_kept"]["appointments"] >= 8  # 15 s hints: 4 per minute


def test_the_clients_own_time_counts_once():
    with SimServer(scenario="demo", time_scale=6000) as sim:
        desktop = sim.desktop_client()
        t0 = sim.clock()["sim_time_s"]
        real0 = time.monotonic()
        desktop.host_pools.update(RG, POOL, {"tags": {"step": "1"}})  # synchronous writes
        time.sleep(1.0)  # the controller thinks (a loaded CPU, starting the next task)
        desktop.host_pools.update(RG, POOL, {"tags": {"step": "2"}})
        real = time.monotonic() - real0
        # 1x: the second of thinking is a second (it used to be 6000 simulated seconds)
        assert 1.0 <= _elapsed(sim, t0) <= real + 0.5


def test_a_client_that_polls_moves_the_clock_one_poll_interval_per_read():
    with SimServer(scenario="demo", time_scale=6000) as sim:
        compute = sim.compute_client()
        url = VM_URL.format(endpoint=sim.arm_endpoint, sub=sim.subscription_id)
        started = raw(compute, "POST", url + "/deallocate?api-version=2026-04-01")
        assert started.status_code == 202
        t0 = sim.clock()["sim_time_s"]
        polls = 0
        while True:  # poll the VM itself (like sysprep_generalize), not the operation
            polls += 1
            view = raw(compute, "GET", url + "/instanceView?api-version=2026-04-01").json()
            codes = [s["code"] for s in view["statuses"]]
            if "PowerState/deallocated" in codes:
                break
            assert polls < 20, codes
        # the 60 s deallocation is seen at the fifth read: four kept poll intervals of 15 s
        assert polls == 5
        assert 60 <= _elapsed(sim, t0) <= 61
        assert sim.clock()["waits_kept"]["polls"] == 4
        # nothing pending any more: reading again is not waiting, the clock runs at 1x
        t1 = sim.clock()["sim_time_s"]
        for _ in range(5):
            raw(compute, "GET", url + "/instanceView?api-version=2026-04-01")
        assert _elapsed(sim, t1) < 2


def test_users_on_a_drained_host_are_waited_for_one_poll_at_a_time():
    drained = "avd-demo-1." + DOMAIN
    with SimServer(scenario="demo", time_scale=6000) as sim:
        desktop = sim.desktop_client()
        desktop.session_hosts.update(RG, POOL, drained, session_host={"allowNewSession": False})
        counts = [sessions_by_host(desktop).get(drained, 0)]
        assert counts[0] > 0
        t0 = sim.clock()["sim_time_s"]
        while counts[-1]:
            counts.append(sessions_by_host(desktop).get(drained, 0))
            assert len(counts) < 500, counts[-20:]  # sessions last at most 90 minutes
        waited = _elapsed(sim, t0)
        polls = len(counts) - 1
        # every read while users were left kept a 15 s poll interval (plus real seconds at 1x)
        assert 15 * polls - 1 <= waited <= 15 * polls + 10, (waited, polls)
        assert all(b <= a for a, b in zip(counts, counts[1:])), counts
        users = sim.metrics()["users"]
        assert users["forced_logoffs"] == 0 and users["sessions_ended_naturally"] >= counts[0]
        t1 = sim.clock()["sim_time_s"]
        sessions_by_host(desktop)
        sessions_by_host(desktop)
        assert _elapsed(sim, t1) < 2  # the host is empty: nobody is waited for


def test_a_throttled_client_keeps_the_wait_it_was_given():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scenario.yaml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump({"extends": "demo",
                            "throttling": {"read": {"bucket": 2, "refill_per_s": 0.05}}}, f)
        with SimServer(scenario=path, time_scale=6000) as sim:
            compute = sim.compute_client()
            url = VM_URL.format(endpoint=sim.arm_endpoint, sub=sim.subscription_id)
            t0 = sim.clock()["sim_time_s"]
            real0 = time.monotonic()
            for _ in range(3):  # the third read is throttled (20 s to a token), then retried
                assert raw(compute, "GET", url + "?api-version=2026-04-01").status_code == 200
            assert time.monotonic() - real0 < 5  # the 20 s wait was asked for in 20/6000 s
            metrics = sim.metrics()
            assert metrics["throttled"] == 1
            assert metrics["clock"]["waits_kept"]["appointments"] == 1
            assert 20 <= _elapsed(sim, t0) <= 21


def test_at_clock_rate_0_only_waits_move_the_clock():
    with SimServer(scenario="demo", time_scale=6000, clock_rate=0) as sim:
        assert sim.info["clock_rate"] == 0
        compute = sim.compute_client()
        t0 = sim.clock()["sim_time_s"]
        time.sleep(0.5)  # the client thinks: no simulated time passes
        assert _elapsed(sim, t0) == 0
        compute.virtual_machines.begin_deallocate(RG, ORIGINAL).result()
        assert _elapsed(sim, t0) == 60  # exactly the operation's Azure duration
        assert _power(compute) == "PowerState/deallocated"
        sim.advance(30)
        assert _elapsed(sim, t0) == 90
