"""hostpool_drain: drain / undrain / remove with users on the hosts, and the deadline paths."""

from __future__ import annotations

import pytest

import rollout_support as rs
from helpers import run_module

TIME_SCALE = 3000
STICKY = "hp-sticky"
MESSAGE = {"title": "Maintenance", "body": "This desktop is being updated; please sign out when you can.",
           "repeat_interval": 900}


def drain_args(hosts, pool=rs.POOL, **overrides):
    args = {"resource_group": rs.RG, "host_pool": pool, "session_hosts": hosts, "poll_interval": 0.02}
    args.update(overrides)
    return args


def test_drain_check_real_idempotent_undrain(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    before = sim.metrics()
    results = rs.run_steps(sim, [
        ("check", "hostpool_drain", drain_args(["avd-demo-0"], state="drained"), {"check_mode": True, "diff": True}),
        ("drain", "hostpool_drain", drain_args(["avd-demo-0"], state="drained", user_message=MESSAGE), {}),
        ("again", "hostpool_drain", drain_args(["avd-demo-0.contoso.com"], state="drained"), {}),
    ])
    after = sim.metrics()
    checked, drained, again = results["check"], results["drain"], results["again"]
    assert checked["changed"] and not checked["failed"], checked.get("msg")
    assert checked["diff"]["after"]["avd-demo-0"]["allow_new_session"] is False
    # check mode changed nothing: the real run still found the host taking new sessions
    assert drained["changed"] and not drained["failed"], drained.get("msg")
    row = drained["session_hosts"][0]
    assert row["allow_new_session_at_start"] is True and row["drained"]
    # every user found on the host is messaged, except one who signed out between the session list
    # and the message (the simulated clock runs fast); the simulator's own count must agree
    assert 0 < row["messages_sent"] <= row["sessions_at_start"]
    assert row["messages_sent"] >= row["sessions_at_start"] - 1
    assert after["users"]["messages_sent"] - before["users"]["messages_sent"] == row["messages_sent"]
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    assert not again["changed"] and not again["failed"], again.get("msg")
    assert rs.session_hosts(sim)["avd-demo-0"].allow_new_session is False

    results = rs.run_steps(sim, [
        ("undrain", "hostpool_drain", drain_args(["avd-demo-0"], state="undrained"), {}),
        ("undrain again", "hostpool_drain", drain_args(["avd-demo-0"], state="undrained"), {}),
        ("missing", "hostpool_drain", drain_args(["avd-demo-9"], state="drained"), {}),
    ])
    assert results["undrain"]["changed"] and not results["undrain again"]["changed"]
    assert rs.session_hosts(sim)["avd-demo-0"].allow_new_session
    assert results["missing"]["failed"] and "avd-demo-9" in results["missing"]["msg"]


def test_remove_waits_for_users_then_deletes_the_vm(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    os_disk = rs.vms(sim)["avd-demo-0"].storage_profile.os_disk.managed_disk.id
    before = sim.metrics()
    result = run_module(sim, "hostpool_drain", drain_args(
        ["avd-demo-0"], state="removed", user_message=MESSAGE, drain_timeout=7200, vm_action="delete"))
    after = sim.metrics()
    assert result["changed"] and not result["failed"], result.get("msg")
    row = result["session_hosts"][0]
    assert row["state"] == "removed" and row["removed"] and row["vm_action"] == "deleted"
    assert row["sessions_at_start"] > 0 and row["ended_by_themselves"] == row["sessions_at_start"]
    assert row["logged_off"] == 0 and result["users_left"] == 0
    assert "avd-demo-0" not in rs.session_hosts(sim) and "avd-demo-0" not in rs.vms(sim)
    assert not [d for d in sim.compute_client().disks.list_by_resource_group(rs.RG) if d.id.lower() == os_disk.lower()]
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    assert after["users"]["logon_failures"] == before["users"]["logon_failures"]
    assert after["violations"] == []
    # the wait read the whole pool's sessions once per poll, never host by host
    ops = rs.requests_delta(before, after)["by_operation"]
    per_pool = sum(n for op, n in ops.items() if op.startswith("GET") and op.endswith("/hostPools/{hostPoolName}/userSessions"))
    per_host = sum(n for op, n in ops.items() if op.startswith("GET") and op.endswith("/userSessions") and "sessionHosts/" in op)
    assert per_pool >= 1 and per_host == 0, ops

    again = run_module(sim, "hostpool_drain", drain_args(["avd-demo-0"], state="removed", vm_action="delete"))
    assert not again["changed"] and not again["failed"], again.get("msg")
    assert again["session_hosts"][0]["state"] == "removed" and again["session_hosts"][0]["vm_action"] == "already gone"


def test_remove_with_deallocate_keeps_the_vm(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    result = run_module(sim, "hostpool_drain", drain_args(
        ["avd-demo-1"], state="removed", drain_timeout=7200, vm_action="deallocate"))
    assert result["changed"] and not result["failed"], result.get("msg")
    assert result["session_hosts"][0]["vm_action"] == "deallocated"
    assert "avd-demo-1" not in rs.session_hosts(sim)
    vm = sim.compute_client().virtual_machines.get(rs.RG, "avd-demo-1", expand="instanceView")
    assert "PowerState/deallocated" in [s.code for s in vm.instance_view.statuses]
    assert sim.metrics()["users"]["forced_logoffs"] == 0 and sim.metrics()["violations"] == []


@pytest.fixture
def sticky_sim(fresh_sim, tmp_path):
    """Three hosts whose users never leave by themselves (sessions of about three days)."""
    scenario, _names = rs.big_pool_scenario(
        hosts=3, users_per_host=3, pool=STICKY,
        session_minutes={"distribution": "fixed", "minutes": 4000, "min_minutes": 10, "max_minutes": 5000})
    return fresh_sim(scenario=rs.write_scenario(tmp_path, scenario), time_scale=TIME_SCALE)


def test_deadline_with_fail_logs_nobody_off(sticky_sim):
    sim = sticky_sim
    before = sim.metrics()
    result = run_module(sim, "hostpool_drain", drain_args(
        ["avd-big-0"], pool=STICKY, state="removed", user_message=MESSAGE, drain_timeout=1800,
        on_timeout="fail", vm_action="delete"))
    after = sim.metrics()
    assert result["failed"] and "nobody was logged off" in result["msg"], result.get("msg")
    row = result["session_hosts"][0]
    assert row["sessions_left"] > 0 and row["logged_off"] == 0 and not row["removed"]
    host = rs.session_hosts(sim, pool=STICKY)["avd-big-0"]
    assert host.allow_new_session is False and host.sessions > 0
    assert "avd-big-0" in rs.vms(sim)
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    assert after["users"]["messages_sent"] > before["users"]["messages_sent"]
    assert after["violations"] == []


def test_deadline_with_continue_reports_and_moves_on(sticky_sim):
    sim = sticky_sim
    result = run_module(sim, "hostpool_drain", drain_args(
        ["avd-big-0"], pool=STICKY, state="removed", drain_timeout=1800, on_timeout="continue"))
    assert not result["failed"] and result["timed_out"] and result["users_left"] > 0, result.get("msg")
    assert result["session_hosts"][0]["state"] == "drained_with_users"
    assert rs.session_hosts(sim, pool=STICKY)["avd-big-0"].allow_new_session is False
    assert sim.metrics()["users"]["forced_logoffs"] == 0


def test_deadline_with_logoff_warns_then_signs_users_off(sticky_sim):
    sim = sticky_sim
    before = sim.metrics()
    result = run_module(sim, "hostpool_drain", drain_args(
        ["avd-big-1"], pool=STICKY, state="removed", user_message=MESSAGE, drain_timeout=1800,
        on_timeout="logoff", logoff_grace=600, vm_action="delete"))
    after = sim.metrics()
    assert result["changed"] and not result["failed"], result.get("msg")
    row = result["session_hosts"][0]
    assert row["logged_off"] > 0 and row["logged_off"] == row["sessions_at_start"] - row["ended_by_themselves"]
    assert row["removed"] and row["vm_action"] == "deleted"
    users = after["users"]
    assert users["forced_logoffs"] - before["users"]["forced_logoffs"] == row["logged_off"]
    # every one of them had the final warning more than the simulator's 5 minutes before
    assert users["forced_logoffs_without_warning"] == before["users"]["forced_logoffs_without_warning"]
    # first message plus the final warning at least
    assert row["messages_sent"] >= 2 * row["sessions_at_start"]
    assert "avd-big-1" not in rs.vms(sim)
    assert after["violations"] == []
