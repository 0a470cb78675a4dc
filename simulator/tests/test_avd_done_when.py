"""Issue 4, "Done when": with the demo scenario, a script using only the SDK drains one session
host, watches its sessions fall to zero in simulated time while logons land on the other two,
deletes it (and its VM) without violations, and reads user-impact metrics with zero logon
failures and zero forced log-offs."""

from avd_helpers import DOMAIN, POOL, RG, sessions_by_host
from avdsim.testing import SimServer

DRAINED = "avd-demo-1." + DOMAIN
OTHERS = ("avd-demo-0." + DOMAIN, "avd-demo-2." + DOMAIN)
MAX_POLLS = 60  # x 5 simulated minutes: far beyond the longest demo session (90 minutes)


def test_drain_delete_without_hurting_anyone():
    with SimServer(scenario="demo", time_scale=600) as sim:
        desktop, compute = sim.desktop_client(), sim.compute_client()
        start = sim.metrics()["users"]
        assert start["sessions_active"] >= 10

        desktop.session_hosts.update(RG, POOL, DRAINED, session_host={"allowNewSession": False})
        counts = [sessions_by_host(desktop)]
        attempts_before = sim.metrics()["users"]["logon_attempts"]
        for _ in range(MAX_POLLS):
            if counts[-1].get(DRAINED, 0) == 0:
                break
            sim.advance(300)
            counts.append(sessions_by_host(desktop))
        drained = [c.get(DRAINED, 0) for c in counts]
        assert drained[-1] == 0, drained
        assert all(b <= a for a, b in zip(drained, drained[1:])), drained  # nobody new landed there
        users = sim.metrics()["users"]
        assert users["logon_attempts"] > attempts_before  # people kept logging on ...
        assert sum(counts[-1].get(h, 0) for h in OTHERS) == users["sessions_active"]  # ... elsewhere

        assert desktop.session_hosts.get(RG, POOL, DRAINED).sessions == 0
        desktop.session_hosts.delete(RG, POOL, DRAINED)
        compute.virtual_machines.begin_delete(RG, "avd-demo-1").result()
        assert sorted(h.name.split("/")[1] for h in desktop.session_hosts.list(RG, POOL)) == sorted(OTHERS)

        metrics = sim.metrics()
        users = metrics["users"]
        assert metrics["violations"] == []
        assert users["logon_failures"] == 0
        assert users["forced_logoffs"] == 0 and users["forced_logoffs_without_warning"] == 0
        assert users["min_available_hosts"] == 2
        assert users["sessions_ended_naturally"] > 0
        timeline = users["capacity_timeline"]
        assert timeline[0][1] == 3 and timeline[-1][1] == 2
        assert all(t2 >= t1 for (t1, _a, _f), (t2, _b, _g) in zip(timeline, timeline[1:]))
