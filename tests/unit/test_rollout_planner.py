# -*- coding: utf-8 -*-
"""Table-driven tests of the rolling-redeploy planner (plugins/module_utils/_rollout.py)."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _rollout as rollout
except ImportError:  # running from the repository without build/collections
    _PATH = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "module_utils" / "_rollout.py"
    _SPEC = importlib.util.spec_from_file_location("_rollout", _PATH)
    rollout = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(rollout)

DEF = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/win11"
OLD = DEF + "/versions/1.0.0"
NEW = DEF + "/versions/1.0.1"
POOLED = {"name": "hp", "host_pool_type": "Pooled"}


def host(name, version=OLD, status="Available", drain=False, sessions=0, rollout_tag=None):
    return {"name": "hp/%s.contoso.local" % name, "image_version_id": version, "status": status,
            "allow_new_session": not drain, "sessions": sessions, "rollout": rollout_tag}


def pool(n, version=OLD, prefix="avd", **kw):
    return [host("%s-%d" % (prefix, i), version, **kw) for i in range(n)]


# --------------------------------------------------------------------------- parse_count

@pytest.mark.parametrize("value,total,round_up,expected", [
    (1, 3, True, 1),
    ("2", 3, True, 2),
    ("25%", 20, True, 5),
    ("25%", 3, True, 1),      # surge rounds up
    ("25%", 3, False, 0),     # max_unavailable rounds down
    ("10%", 20, False, 2),
    ("0%", 20, True, 0),
    ("100%", 4, False, 4),
    (" 50 % ", 5, True, 3),
    (0, 3, False, 0),
    (None, 3, True, None),
])
def test_parse_count(value, total, round_up, expected):
    assert rollout.parse_count(value, total, "surge", round_up) == expected


@pytest.mark.parametrize("value", [-1, "abc", "150%", "-5%", True, "1.5"])
def test_parse_count_rejects(value):
    with pytest.raises(rollout.PlanError, match="surge"):
        rollout.parse_count(value, 10, "surge", True)


# --------------------------------------------------------------------------- naming

@pytest.mark.parametrize("count,prefix,taken,expected", [
    (1, "avd-demo", ["avd-demo-0", "avd-demo-1", "avd-demo-2"], ["avd-demo-3"]),
    (2, "avd-demo", ["hp/avd-demo-0.contoso.local", "AVD-DEMO-7"], ["avd-demo-8", "avd-demo-9"]),
    (2, "avd", ["avd-01", "avd-02"], ["avd-03", "avd-04"]),           # keeps zero padding
    (1, "avd", ["avd-09"], ["avd-10"]),
    (1, "avd", [], ["avd-0"]),
    (1, "avd", ["avd-x", "avdx-4"], ["avd-0"]),                      # other prefixes ignored
    (3, "sh", ["sh-0", "other-9"], ["sh-1", "sh-2", "sh-3"]),
    (0, "sh", ["sh-0"], []),
])
def test_next_host_names(count, prefix, taken, expected):
    assert rollout.next_host_names(count, prefix, taken) == expected


def test_next_host_names_deterministic_and_unique():
    taken = ["avd-%d" % i for i in range(0, 40, 3)]
    first = rollout.next_host_names(5, "avd", taken)
    assert first == rollout.next_host_names(5, "avd", taken)
    assert not set(first) & set(taken)
    assert len(set(first)) == 5


@pytest.mark.parametrize("prefix,message", [
    ("a-very-long-name", "longer than 15"),
    ("bad_name", "name_prefix"),
    ("ends-", "name_prefix"),
    ("", "name_prefix"),
])
def test_next_host_names_rejects(prefix, message):
    with pytest.raises(rollout.PlanError, match=message):
        rollout.next_host_names(1, prefix, [])


@pytest.mark.parametrize("names,expected", [
    (["avd-demo-0", "avd-demo-1", "x-5"], "avd-demo"),
    (["hp/avd-demo-0.contoso.local"], "avd-demo"),
    (["nohyphen"], None),
    ([], None),
])
def test_name_prefix_of(names, expected):
    assert rollout.name_prefix_of(names) == expected


# --------------------------------------------------------------------------- policy

@pytest.mark.parametrize("desired,serving,surge,unavail,floor,expected", [
    (3, 3, 1, 0, None, {"surge": 1, "max_unavailable": 0, "capacity_floor": 3}),
    (20, 20, "25%", 0, None, {"surge": 5, "max_unavailable": 0, "capacity_floor": 20}),
    (20, 18, "25%", "10%", None, {"surge": 5, "max_unavailable": 2, "capacity_floor": 16}),
    (3, 3, 0, 1, None, {"surge": 0, "max_unavailable": 1, "capacity_floor": 2}),
    (3, 3, 1, 0, 2, {"surge": 1, "max_unavailable": 0, "capacity_floor": 2}),
    (4, 4, 1, 0, "50%", {"surge": 1, "max_unavailable": 0, "capacity_floor": 2}),
    (3, 1, 1, 5, None, {"surge": 1, "max_unavailable": 5, "capacity_floor": 0}),  # never negative
    # blank answers of an AWX survey: the defaults
    (3, 3, "", " ", "", {"surge": 1, "max_unavailable": 0, "capacity_floor": 3}),
    (3, 3, "2", "0", " ", {"surge": 2, "max_unavailable": 0, "capacity_floor": 3}),
])
def test_resolve_policy(desired, serving, surge, unavail, floor, expected):
    assert rollout.resolve_policy(desired, serving, surge, unavail, floor) == expected


@pytest.mark.parametrize("desired,serving,surge,unavail,floor,message", [
    (3, 3, 0, 0, None, "cannot both be 0"),
    (3, 3, 1, 0, 5, "cannot be held"),
    (3, 3, 0, 1, 3, "surge 0 leaves no host"),
    (3, 3, "x", 0, None, "surge"),
])
def test_resolve_policy_rejects(desired, serving, surge, unavail, floor, message):
    with pytest.raises(rollout.PlanError, match=message):
        rollout.resolve_policy(desired, serving, surge, unavail, floor)


# --------------------------------------------------------------------------- plan_step

CASES = [
    # id, hosts, kwargs, expected subset
    ("up-to-date pool does nothing", pool(3, NEW), {},
     {"status": "complete", "deploy": [], "retire": [], "outdated": []}),
    ("demo first step: surge one new host, drain nothing", pool(3, sessions=4), {},
     {"status": "in_progress", "deploy": ["avd-3"], "retire": [], "capacity_floor": 3, "desired_hosts": 3}),
    ("after the new host is Available: retire the emptiest old host",
     pool(3, sessions=4)[:2] + [host("avd-2", sessions=1), host("avd-3", NEW, rollout_tag="r1")],
     {"desired_hosts": 3, "in_service_at_start": 3, "rollout_id": "r1"},
     {"status": "in_progress", "deploy": [], "retire": ["avd-2"], "in_service": 4}),
    ("old host drained but not yet empty: keep retiring it, no new drain",
     pool(2, sessions=4) + [host("avd-2", drain=True, sessions=2), host("avd-3", NEW)],
     {"desired_hosts": 3, "in_service_at_start": 3},
     {"status": "in_progress", "deploy": [], "retire": ["avd-2"], "in_service": 3}),
    ("after removal: next surge host continues numbering",
     pool(2) + [host("avd-3", NEW)], {"desired_hosts": 3, "in_service_at_start": 3},
     {"deploy": ["avd-4"], "retire": []}),
    ("last outdated host replaced and removed: complete",
     [host("avd-3", NEW), host("avd-4", NEW), host("avd-5", NEW)], {"desired_hosts": 3},
     {"status": "complete"}),
    ("new host failed to register (pending VM): redeploy it, drain nothing",
     pool(3, sessions=3), {"rollout_id": "r1", "pending_vms": [{"name": "avd-3", "image_version_id": NEW}],
                           "taken_names": ["avd-0", "avd-1", "avd-2", "avd-3"]},
     {"status": "in_progress", "deploy": ["avd-3"], "retire": [], "waiting_for": ["avd-3"]}),
    ("deallocated VM of this version a rollback removed: not re-registered, a new name instead",
     pool(3, sessions=3), {"rollout_id": "r1", "taken_names": ["avd-0", "avd-1", "avd-2", "avd-3"],
                           "pending_vms": [{"name": "avd-3", "image_version_id": NEW, "power_state": "deallocated"}]},
     {"status": "in_progress", "deploy": ["avd-4"], "waiting_for": []}),
    ("new host registered but Unavailable: wait for it, drain nothing",
     pool(3) + [host("avd-3", NEW, status="Unavailable", rollout_tag="r1")],
     {"rollout_id": "r1", "desired_hosts": 3, "in_service_at_start": 3},
     {"status": "in_progress", "deploy": ["avd-3"], "retire": [], "waiting_for": ["avd-3"]}),
    ("new host Unavailable and not ours: blocked, nothing drained",
     pool(3) + [host("avd-3", NEW, status="Unavailable")], {"desired_hosts": 3, "in_service_at_start": 3},
     {"status": "blocked", "deploy": [], "retire": []}),
    ("unavailable old hosts are retired at once, they serve nobody",
     [host("avd-0", status="Unavailable"), host("avd-1", status="Shutdown"), host("avd-2", sessions=5)], {},
     {"deploy": ["avd-3"], "retire": ["avd-0", "avd-1"], "in_service": 1, "capacity_floor": 1}),
    ("already drained old host at start is retired without capacity cost",
     [host("avd-0", drain=True, sessions=1), host("avd-1"), host("avd-2")], {},
     {"deploy": ["avd-3"], "retire": ["avd-0"], "capacity_floor": 2}),
    ("fewer hosts than batch size: one host pool with surge 25%",
     pool(1, sessions=2), {"surge": "25%"},
     {"deploy": ["avd-1"], "retire": [], "batches_remaining": 1}),
    ("20 hosts surge 25%: five new hosts, four batches",
     pool(20), {"surge": "25%"},
     {"deploy": ["avd-%d" % i for i in range(20, 25)], "retire": [], "batches_remaining": 4}),
    ("20 hosts after surge: retire five, emptiest first",
     [host("avd-%d" % i, sessions=(i % 7) + 1) for i in range(20)] + pool(0)
     + [host("avd-%d" % i, NEW) for i in range(20, 25)],
     {"surge": "25%", "desired_hosts": 20, "in_service_at_start": 20},
     {"deploy": [], "retire": ["avd-0", "avd-14", "avd-7", "avd-1", "avd-15"]}),
    ("20 hosts last batch deploys only what is still needed",
     [host("avd-%d" % i) for i in range(17, 20)] + [host("avd-%d" % i, NEW) for i in range(20, 37)],
     {"surge": "25%", "desired_hosts": 20, "in_service_at_start": 20},
     {"deploy": ["avd-37", "avd-38", "avd-39"]}),
    ("surge 0, max_unavailable 1: drain first, deploy later",
     pool(3), {"surge": 0, "max_unavailable": 1},
     {"deploy": [], "retire": ["avd-0"], "capacity_floor": 2}),
    ("surge 0 after removal: refill to desired count",
     pool(2), {"surge": 0, "max_unavailable": 1, "desired_hosts": 3, "in_service_at_start": 3},
     {"deploy": ["avd-2"], "retire": []}),
    ("explicit floor lower than in-service count: deploy and retire together",
     pool(4), {"surge": 1, "min_available_hosts": 3},
     {"deploy": ["avd-4"], "retire": ["avd-0"]}),
    ("explicit name prefix",
     pool(2), {"name_prefix": "avd-new"}, {"deploy": ["avd-new-0"]}),
    ("names skip VMs of the resource group that are not session hosts",
     pool(2), {"taken_names": ["avd-2", "avd-5"]}, {"deploy": ["avd-6"]}),
    ("rollback: hosts on the newer version are outdated against the older target",
     pool(2, NEW), {"target": OLD}, {"deploy": ["avd-2"], "outdated": ["avd-0", "avd-1"]}),
    ("host with unknown image (marketplace) is outdated",
     [dict(host("avd-0"), image_version_id=None)] + pool(1, NEW, prefix="x"), {},
     {"outdated": ["avd-0"]}),
    ("version given as definition + exactVersion",
     [{"name": "avd-0", "image_definition_id": DEF.upper(), "image_version": "1.0.1", "status": "Available",
       "allow_new_session": True}], {},
     {"status": "complete"}),
    ("empty pool: nothing to do", [], {}, {"status": "complete"}),
    ("hosts above desired count all current: complete",
     pool(4, NEW), {"desired_hosts": 3}, {"status": "complete"}),
    ("floor blocks: current host drained by an admin",
     pool(2) + [host("avd-3", NEW, drain=True)],
     {"desired_hosts": 2, "in_service_at_start": 2, "surge": 1},
     {"status": "blocked", "retire": []}),
]


@pytest.mark.parametrize("case_id,hosts,kwargs,expected", CASES, ids=[c[0] for c in CASES])
def test_plan_step(case_id, hosts, kwargs, expected):
    kwargs = dict(kwargs)
    target = kwargs.pop("target", NEW)
    plan = rollout.plan_step(POOLED, hosts, target, **kwargs)
    subset = {key: plan.get(key) for key in expected}
    assert subset == expected, plan["reason"] if "reason" in plan else plan


FULL = dict(POOLED, max_session_limit=8)

SEAT_CASES = [
    # id, hosts, kwargs, expected subset
    ("surge 0, room for the users of the drained host: drain it",
     pool(4, sessions=5), {"surge": 0, "max_unavailable": 1},
     {"status": "in_progress", "retire": ["avd-0"], "sessions": 20}),
    ("surge 0, 26 users, 3 hosts left would seat 24: blocked, nothing drained",
     pool(4, sessions=6)[:2] + pool(4, sessions=7)[2:], {"surge": 0, "max_unavailable": 1},
     {"status": "blocked", "deploy": [], "retire": []}),
    ("surge 1 in the same pool: deploy first, drain nothing yet",
     pool(4, sessions=6)[:2] + pool(4, sessions=7)[2:], {"surge": 1, "max_unavailable": 1},
     {"status": "in_progress", "deploy": ["avd-4"], "retire": []}),
    ("new host Available: its seats let one old host go",
     pool(4, sessions=6)[:2] + pool(4, sessions=7)[2:] + [host("avd-4", NEW)],
     {"surge": 1, "desired_hosts": 4, "in_service_at_start": 4},
     {"status": "in_progress", "retire": ["avd-0"]}),
    ("users of an admin-drained host need seats too",
     [host("avd-0", drain=True, sessions=8)] + pool(4, sessions=6)[1:],
     {"surge": 0, "max_unavailable": 1, "min_available_hosts": 2},
     {"retire": ["avd-0"]}),
    ("drained-host users count: no in-service host may go",
     [host("avd-0", drain=True, sessions=8), host("avd-1", sessions=6), host("avd-2", sessions=6),
      host("avd-3", NEW, sessions=2)],
     {"surge": 0, "max_unavailable": 1, "min_available_hosts": 1, "desired_hosts": 4, "in_service_at_start": 3},
     {"retire": ["avd-0"]}),
    ("out-of-service hosts still go at once when seats are short",
     [host("avd-0", status="Shutdown")] + pool(4, sessions=8)[1:], {"surge": 0, "max_unavailable": 1},
     {"retire": ["avd-0"]}),
]


@pytest.mark.parametrize("case_id,hosts,kwargs,expected", SEAT_CASES, ids=[c[0] for c in SEAT_CASES])
def test_plan_step_keeps_a_seat_for_every_user(case_id, hosts, kwargs, expected):
    plan = rollout.plan_step(FULL, hosts, NEW, **kwargs)
    subset = {key: plan.get(key) for key in expected}
    assert subset == expected, plan["reason"] if "reason" in plan else plan
    if plan["status"] == "blocked":
        assert "seats" in plan["reason"] and "maxSessionLimit 8" in plan["reason"], plan["reason"]


def test_personal_pool_is_refused():
    plan = rollout.plan_step({"name": "hp", "hostPoolType": "Personal"}, pool(3), NEW)
    assert plan["status"] == "refused"
    assert plan["deploy"] == [] and plan["retire"] == []
    assert "Personal" in plan["reason"]


def test_unknown_target_is_an_error():
    with pytest.raises(rollout.PlanError, match="target image version"):
        rollout.plan_step(POOLED, pool(3), None)


def test_no_prefix_available():
    with pytest.raises(rollout.PlanError, match="name_prefix"):
        rollout.plan_step(POOLED, [host("desktop")], NEW)


def _simulate(hosts, plan_kwargs, max_steps=50):
    """Run the planner to completion with a model that executes each plan step instantly.

    Returns the number of steps and the lowest in-service count ever seen.
    """
    hosts = [dict(h) for h in hosts]
    desired = len(hosts)
    start_serving = sum(1 for h in hosts if rollout.in_service(h))
    lowest = start_serving
    highest_total = len(hosts)
    for step in range(1, max_steps + 1):
        plan = rollout.plan_step(POOLED, hosts, NEW, desired_hosts=desired, in_service_at_start=start_serving,
                                 **plan_kwargs)
        if plan["status"] == "complete":
            return step, lowest, highest_total, hosts
        assert plan["status"] == "in_progress", plan["reason"]
        for name in plan["deploy"]:
            hosts.append(host(name, NEW))
        highest_total = max(highest_total, len(hosts))
        # drain, then (users left) remove: capacity is lowest while retired hosts are drained
        for h in hosts:
            if rollout.short_name(h["name"]) in plan["retire"]:
                h["allow_new_session"] = False
        lowest = min(lowest, sum(1 for h in hosts if rollout.in_service(h)))
        hosts = [h for h in hosts if rollout.short_name(h["name"]) not in plan["retire"]]
    raise AssertionError("rollout did not complete in %d steps" % max_steps)


@pytest.mark.parametrize("size,kwargs,floor", [
    (3, {}, 3),
    (3, {"surge": 0, "max_unavailable": 1}, 2),
    (20, {"surge": "25%"}, 20),
    (20, {"surge": "25%", "max_unavailable": "10%"}, 18),
    (7, {"surge": 2, "min_available_hosts": 5}, 5),
    (1, {"surge": "25%"}, 1),
])
def test_full_rollout_converges_and_holds_the_floor(size, kwargs, floor):
    steps, lowest, highest_total, hosts = _simulate(pool(size, sessions=2), kwargs)
    assert lowest >= floor
    assert len(hosts) == size
    assert all(not rollout.is_outdated(h, NEW) for h in hosts)
    surge = rollout.parse_count(kwargs.get("surge", 1), size, "surge", True)
    assert highest_total <= size + surge
    assert len(set(rollout.short_name(h["name"]) for h in hosts)) == size
    assert steps <= 2 * size + 1
