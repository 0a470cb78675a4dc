"""hostpool_info against the demo world: what it reports, and how few requests it costs."""

from __future__ import annotations

import rollout_support as rs
from helpers import run_module


def test_demo_pool_is_read_in_four_requests_and_one_per_host(sim):
    before = sim.metrics()
    result = run_module(sim, "hostpool_info", {"resource_group": rs.RG, "host_pool": rs.POOL})
    delta = rs.requests_delta(before, sim.metrics())
    assert not result["failed"] and not result["changed"], result.get("msg")
    # pool, session hosts, VMs of the resource group, image versions, and one instance view per
    # host (its power state: Azure refuses $expand=instanceView on a VM list)
    assert delta["total"] == 4 + len(rs.DEMO_HOSTS), delta
    views = [op for op in delta["by_operation"] if op.endswith("/virtualMachines/{vmName}")]
    assert [delta["by_operation"][op] for op in views] == [len(rs.DEMO_HOSTS)], delta
    assert delta["writes"] == 0
    assert delta["errors_by_code"] == {}, delta

    pool = result["host_pool"]
    assert pool["host_pool_type"] == "Pooled" and pool["max_session_limit"] == 8
    assert pool["follow_marker"] == "prod" and pool["follow_image"].lower() == rs.definition_id(sim).lower()
    assert pool["lock"] == {"present": False, "expired": True}
    assert result["target"]["source"] == "marker" and result["target"]["version"] == "1.0.0"

    hosts = {h["name"]: h for h in result["session_hosts"]}
    assert sorted(hosts) == rs.DEMO_HOSTS
    real = rs.session_hosts(sim)
    for name, host in hosts.items():
        assert host["image_version"] == "1.0.0" and host["outdated"] is False
        assert host["power_state"] == "running" and host["status"] == "Available"
        assert host["allow_new_session"] is True and host["vm_found"] is True
        assert host["session_host_name"] == "%s.contoso.com" % name
        assert host["vm_id"].lower().endswith("/virtualmachines/%s" % name)
        # the session count is the one the service reports (users come and go in simulated time)
        assert abs(host["sessions"] - real[name].sessions) <= 2
    assert result["summary"]["hosts"] == 3 and result["summary"]["outdated"] == 0


def test_plans_missing_pool_and_bad_input(sim):
    target = rs.version_id(sim, "9.9.9")
    base = {"resource_group": rs.RG, "host_pool": rs.POOL}
    results = rs.run_steps(sim, [
        ("explicit", "hostpool_info", dict(base, image_version_id=target, plan={"surge": "25%"}), {}),
        ("up to date", "hostpool_info", dict(base, plan={}), {"check_mode": True}),
        ("missing", "hostpool_info", dict(base, host_pool="hp-nope"), {}),
        ("bad", "hostpool_info", dict(base, plan={"surge": 0, "max_unavailable": 0}), {}),
    ])
    result = results["explicit"]
    assert not result["failed"], result.get("msg")
    assert result["target"] == {"source": "image_version_id", "image_version_id": target, "version": "9.9.9"}
    assert all(h["outdated"] for h in result["session_hosts"])
    plan = result["plan"]
    assert plan["status"] == "in_progress"
    assert plan["deploy"] == ["avd-demo-3"] and plan["retire"] == []
    assert plan["capacity_floor"] == 3 and plan["surge"] == 1 and plan["desired_hosts"] == 3
    assert plan["rollout_id"] == "hp-demo-pooled-9.9.9"

    up_to_date = results["up to date"]
    assert up_to_date["plan"]["status"] == "complete" and up_to_date["plan"]["deploy"] == []

    missing = results["missing"]
    assert not missing["failed"] and missing["exists"] is False and missing["session_hosts"] == []

    bad = results["bad"]
    assert bad["failed"] and "surge and max_unavailable cannot both be 0" in bad["msg"]
