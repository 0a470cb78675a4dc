"""Users of the demo host pool, seen through the real SDK: sessions, drain mode, messages,
log-offs and the ``users`` metrics."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from avd_helpers import DOMAIN, POOL, RG, sessions_by_host
from spec_validation import validate
from avdsim.testing import SimServer

USER_KEYS = {"logon_attempts", "logon_failures", "sessions_active", "sessions_ended_naturally",
             "forced_logoffs", "forced_logoffs_without_warning", "messages_sent",
             "min_available_hosts", "capacity_timeline"}


@pytest.fixture
def sim():
    # Slow clock: the tests move simulated time themselves with advance().
    with SimServer(scenario="demo", time_scale=5) as server:
        yield server


def host(i):
    return "avd-demo-%d.%s" % (i, DOMAIN)


def test_demo_users_and_metrics_shape(sim):
    desktop = sim.desktop_client()
    users = sim.metrics()["users"]
    assert set(users) == USER_KEYS
    assert 10 <= users["sessions_active"] <= 12
    assert users["min_available_hosts"] == 3
    assert users["capacity_timeline"][0][1] == 3
    sessions = list(desktop.user_sessions.list_by_host_pool(RG, POOL))
    assert len(sessions) == users["sessions_active"]
    for session in sessions[:3]:
        validate("avd", "UserSession", session.serialize(keep_readonly=True))
        pool, host_name, session_id = session.name.split("/")
        assert pool == POOL and host_name.endswith("." + DOMAIN) and int(session_id) >= 2
        assert session.type == "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions"
        assert session.user_principal_name.endswith("@" + DOMAIN)
        assert session.session_state in ("Active", "Disconnected")
        got = desktop.user_sessions.get(RG, POOL, host_name, session_id)
        assert got.user_principal_name == session.user_principal_name
    per_host = sessions_by_host(desktop)
    assert sorted(per_host.values())[-1] - sorted(per_host.values())[0] <= 1  # breadth-first
    for h in desktop.session_hosts.list(RG, POOL):
        assert h.sessions == per_host.get(h.name.split("/")[1], 0)


def test_filter_and_per_host_listing(sim):
    desktop = sim.desktop_client()
    sessions = list(desktop.user_sessions.list_by_host_pool(RG, POOL))
    upn = sessions[0].user_principal_name
    only = list(desktop.user_sessions.list_by_host_pool(RG, POOL, filter="userPrincipalName eq '%s'" % upn))
    assert [s.user_principal_name for s in only] == [upn]
    active = list(desktop.user_sessions.list_by_host_pool(RG, POOL, filter="sessionState eq 'Active'"))
    assert all(s.session_state == "Active" for s in active)
    with pytest.raises(HttpResponseError) as err:
        list(desktop.user_sessions.list_by_host_pool(RG, POOL, filter="createTime gt '2020'"))
    assert err.value.status_code == 400
    on_first = list(desktop.user_sessions.list(RG, POOL, host(0)))
    assert all(s.name.split("/")[1] == host(0) for s in on_first)
    pages = list(desktop.user_sessions.list_by_host_pool(RG, POOL, page_size=3).by_page())
    assert sum(len(list(p)) for p in pages) == len(sessions)


def test_sessions_end_naturally_and_are_replaced(sim):
    before = sim.metrics()["users"]
    sim.advance(3 * 3600)
    after = sim.metrics()["users"]
    assert after["sessions_ended_naturally"] - before["sessions_ended_naturally"] >= 12
    assert after["logon_attempts"] > before["logon_attempts"]
    assert after["logon_failures"] == 0 and after["forced_logoffs"] == 0
    assert 8 <= after["sessions_active"] <= 12


def test_drain_steers_logons_away(sim):
    desktop = sim.desktop_client()
    desktop.session_hosts.update(RG, POOL, host(0), session_host={"allowNewSession": False})
    assert desktop.session_hosts.get(RG, POOL, host(0)).allow_new_session is False
    seen = [sessions_by_host(desktop).get(host(0), 0)]
    for _ in range(12):
        sim.advance(600)
        seen.append(sessions_by_host(desktop).get(host(0), 0))
    assert all(later <= earlier for earlier, later in zip(seen, seen[1:]))  # never a new logon
    assert seen[-1] == 0
    users = sim.metrics()["users"]
    assert users["min_available_hosts"] == 2 and users["logon_failures"] == 0
    assert sum(sessions_by_host(desktop).values()) >= 8


def test_load_balancer_depth_first(sim):
    desktop = sim.desktop_client()
    desktop.host_pools.update(RG, POOL, {"properties": {"loadBalancerType": "DepthFirst"}})
    for session in list(desktop.user_sessions.list_by_host_pool(RG, POOL)):
        _pool, host_name, session_id = session.name.split("/")
        desktop.user_sessions.delete(RG, POOL, host_name, session_id, force=True)
    assert sessions_by_host(desktop) == {}
    sim.advance(8 * 60)  # users come back, well before the first session can end (10 min)
    counts = sessions_by_host(desktop)
    total = sum(counts.values())
    assert total >= 6
    assert counts.get(host(0), 0) == min(total, 8)  # fill one host up to the limit first
    assert sim.metrics()["users"]["forced_logoffs"] >= 10


def long_sessions(sim, host_name, minutes):
    """Ids of sessions on a host that will last at least ``minutes`` more (from /_sim/state)."""
    state = sim.state()
    pool = next(p for pid, p in state["avd"].items() if pid.lower().endswith("/" + POOL))
    now = pool["users"]["now_s"]
    seat = next(v for k, v in pool["users"]["hosts"].items() if k.lower() == host_name.lower())
    return [s["id"] for s in seat["sessions"]
            if s["ends_s"] - now > minutes * 60 and s["state"] == "Active"]


def test_forced_logoff_accounting(sim):
    desktop = sim.desktop_client()
    on = host(1)
    candidates = long_sessions(sim, on, 10)
    if len(candidates) < 2:
        on = host(2)
        candidates = long_sessions(sim, on, 10)
    assert len(candidates) >= 2
    warned_id, unwarned_id = candidates[:2]
    desktop.user_sessions.send_message(RG, POOL, on, warned_id,
                                       send_message={"messageTitle": "Maintenance",
                                                     "messageBody": "Please sign out within 5 minutes."})
    sim.advance(6 * 60)
    before = sim.metrics()["users"]
    for session_id in (warned_id, unwarned_id):
        desktop.user_sessions.delete(RG, POOL, on, session_id, force=True)
    after = sim.metrics()["users"]
    assert after["messages_sent"] >= 1
    assert after["forced_logoffs"] == before["forced_logoffs"] + 2
    assert after["forced_logoffs_without_warning"] == before["forced_logoffs_without_warning"] + 1
    with pytest.raises(ResourceNotFoundError) as err:
        desktop.user_sessions.get(RG, POOL, on, warned_id)
    assert "User session ID not found" in err.value.message


def test_disconnect(sim):
    desktop = sim.desktop_client()
    session = next(s for s in desktop.user_sessions.list(RG, POOL, host(2)) if s.session_state == "Active")
    session_id = session.name.split("/")[2]
    desktop.user_sessions.disconnect(RG, POOL, host(2), session_id)
    assert desktop.user_sessions.get(RG, POOL, host(2), session_id).session_state == "Disconnected"


def test_session_host_with_users_is_not_deleted_without_force(sim):
    desktop = sim.desktop_client()
    with pytest.raises(HttpResponseError) as err:
        desktop.session_hosts.delete(RG, POOL, host(2))
    assert err.value.status_code == 400 and "force" in err.value.message
    with pytest.raises(HttpResponseError) as err:
        desktop.host_pools.delete(RG, POOL)
    assert err.value.status_code == 400
    assert sim.metrics()["violations"] == []


def test_same_scenario_same_user_history():
    histories = []
    for _ in range(2):
        with SimServer(scenario="demo", time_scale=1) as server:
            server.advance(4 * 3600)
            users = server.metrics()["users"]
            sessions = sorted((s["name"], s["properties"]["userPrincipalName"]) for s in
                              [x.serialize(keep_readonly=True) for x in
                               server.desktop_client().user_sessions.list_by_host_pool(RG, POOL)])
            # times relative to the scenario load (which happens a few real ms after start)
            start = users["capacity_timeline"][0][0]
            times = [t - start for t, _a, _f in users["capacity_timeline"]]
            capacity = [(a, f) for _t, a, f in users["capacity_timeline"]]
            histories.append((times, capacity, users["logon_attempts"], sessions))
    (times_a, *rest_a), (times_b, *rest_b) = histories
    assert rest_a == rest_b
    assert len(times_a) == len(times_b) and all(abs(a - b) < 0.01 for a, b in zip(times_a, times_b))
