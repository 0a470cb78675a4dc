"""The rollout role in pools an administrator really meets: broken, drained and stopped hosts, AWX
extra variables as strings, forced log-off after a warning, deallocated old VMs.

Each test reads what users lived through from the simulator's metrics (forced log-offs, logon
failures, capacity timeline, invariant violations) and the pool's state through the SDK clients.
"""

from __future__ import annotations

import rollout_support as rs
from helpers import run_playbook
from test_rollout import lowest_capacity, rollout_vars

TIME_SCALE = 3000


def big_pool(fresh_sim, tmp_path, hosts, **users):
    scenario, names = rs.big_pool_scenario(hosts=hosts)
    scenario["host_pools"][0]["users"].update(users)
    sim = fresh_sim(scenario=rs.write_scenario(tmp_path, scenario), time_scale=TIME_SCALE)
    rs.create_version(sim, "1.0.1")
    rs.move_marker(sim, "1.0.1")
    return sim, names


def test_pool_with_orphaned_stopped_and_admin_drained_hosts(fresh_sim, tmp_path):
    """avd-big-0 lost its VM, avd-big-1 is deallocated, avd-big-2 was drained by an admin (users still
    on it); the rollout replaces all five without going below the hosts in service at its start."""
    sim, names = big_pool(fresh_sim, tmp_path, hosts=5)
    compute, desktop = sim.compute_client(), sim.desktop_client()
    compute.virtual_machines.begin_delete(rs.RG, "avd-big-0").result()
    compute.virtual_machines.begin_deallocate(rs.RG, "avd-big-1").result()
    desktop.session_hosts.update(rs.RG, "hp-big", "avd-big-2", session_host={"allowNewSession": False})
    before = sim.metrics()

    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=rollout_vars(sim, host_pool="hp-big"))
    assert run.rc == 0, run.stdout[-4000:]
    after = sim.metrics()
    versions = rs.host_versions(sim, pool="hp-big")
    assert len(versions) == 5 and set(versions.values()) == {"1.0.1"}, versions
    assert not set(versions) & set(names)
    machines = rs.vms(sim)
    assert not set(names) & set(machines), sorted(machines)
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    # the setup (a VM deleted and one deallocated under their users) made its own violations; no more
    assert after["violations"] == before["violations"], after["violations"][len(before["violations"]):]
    # two hosts were in service at the start; never fewer
    assert lowest_capacity(after, before["sim_time_s"]) >= 2


def test_extra_variables_as_strings(fresh_sim):
    """AWX surveys and `-e key=value` pass every variable as a string; a question left blank sends ""."""
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    rs.create_version(sim, "1.0.1")
    rs.move_marker(sim, "1.0.1")
    before = sim.metrics()
    variables = rollout_vars(sim)
    variables.update({
        "session_host_rollout_surge": "2", "session_host_rollout_max_unavailable": "",
        "session_host_rollout_min_available_hosts": "3", "session_host_rollout_max_batches": "10",
        "session_host_rollout_drain_timeout": "7200", "session_host_rollout_logoff_grace": "600",
        "session_host_rollout_message_repeat_interval": "900", "session_host_rollout_lease_seconds": "604800",
        "session_host_rollout_poll_interval": "0.02", "session_host_rollout_lease_timeout": "0",
        "session_host_rollout_deploy_timeout": "3600",
    })
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=variables)
    assert run.rc == 0, run.stdout[-4000:]
    after = sim.metrics()
    assert set(rs.host_versions(sim).values()) == {"1.0.1"}
    result = run.task("Record the outcome")["ansible_facts"]["session_host_rollout_result"]
    assert int(result["batches"]) == 2, result
    assert after["violations"] == []
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    assert lowest_capacity(after, before["sim_time_s"]) >= 3


def test_logoff_after_drain_timeout_warns_every_user_first(fresh_sim, tmp_path):
    """on_timeout=logoff signs a user off only after a final warning the user could see (sent while the
    session was Active), logoff_grace before. Users who closed their laptop (Disconnected) before the
    drain and stay away are not signed off unwarned: their hosts stay drained, the rollout pauses."""
    sim, names = big_pool(fresh_sim, tmp_path, hosts=3, disconnect_probability=0.0, reconnect_minutes=100000,
                          session_minutes={"distribution": "fixed", "minutes": 6000, "max_minutes": 10000})
    desktop = sim.desktop_client()
    away = [s for s in desktop.user_sessions.list_by_host_pool(rs.RG, "hp-big")
            if s.name.split("/")[1] == names[0]]
    assert away
    for session in away:
        desktop.user_sessions.disconnect(rs.RG, "hp-big", names[0], session.name.split("/")[-1])
    before = sim.metrics()
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=rollout_vars(
        sim, host_pool="hp-big", session_host_rollout_surge="100%", session_host_rollout_drain_timeout=600,
        session_host_rollout_on_timeout="logoff", session_host_rollout_logoff_grace=600))
    assert run.rc == 0, run.stdout[-4000:]
    after = sim.metrics()
    result = run.task("Record the outcome")["ansible_facts"]["session_host_rollout_result"]
    forced = after["users"]["forced_logoffs"] - before["users"]["forced_logoffs"]
    # the active users of the two other old hosts were warned, then signed off
    assert forced > 0 and forced == int(result["users_logged_off"]), (forced, result)
    assert after["users"]["forced_logoffs_without_warning"] == before["users"]["forced_logoffs_without_warning"], (
        after["users"])
    # the host of the users who are away stays drained with them on it; the others are replaced
    hosts = rs.session_hosts(sim, pool="hp-big")
    # (a user may end the session when back, or be warned and signed off then; most stay away)
    assert names[0] in hosts and not hosts[names[0]].allow_new_session and 1 <= hosts[names[0]].sessions <= len(away)
    assert {s.session_state for s in desktop.user_sessions.list(rs.RG, "hp-big", names[0])} == {"Disconnected"}
    assert not set(names[1:]) & set(hosts)
    assert not result["complete"]
    assert "never saw the final warning" in run.task("Report a paused rollout")["msg"]
    assert after["violations"] == []
    assert lowest_capacity(after, before["sim_time_s"]) >= 3


def test_deallocated_old_hosts_stay_out_of_the_next_rollout(fresh_sim):
    """vm_action=deallocate keeps the old VMs (stopped, out of the pool); the next rollout neither
    counts nor reuses them, and a re-run changes nothing."""
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    rs.create_version(sim, "1.0.1")
    rs.move_marker(sim, "1.0.1")
    variables = rollout_vars(sim, session_host_rollout_surge="100%", session_host_rollout_vm_action="deallocate")
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=variables)
    assert run.rc == 0, run.stdout[-4000:]
    machines = rs.vms(sim)
    compute = sim.compute_client()
    for name in rs.DEMO_HOSTS:
        view = compute.virtual_machines.instance_view(rs.RG, name)
        assert "PowerState/deallocated" in [s.code for s in view.statuses], (name, view.statuses)
    first = sorted(rs.session_hosts(sim))
    assert len(first) == 3 and not set(first) & set(rs.DEMO_HOSTS)

    before = sim.metrics()
    again = run_playbook(sim, "playbooks/rollout.yml", extra_vars=variables)
    assert again.rc == 0, again.stdout[-4000:]
    delta = rs.requests_delta(before, sim.metrics())
    assert delta["writes"] == 0 and delta["deletes"] == 0, delta

    rs.create_version(sim, "1.0.2")
    rs.move_marker(sim, "1.0.2")
    before = sim.metrics()
    third = run_playbook(sim, "playbooks/rollout.yml", extra_vars=variables)
    assert third.rc == 0, third.stdout[-4000:]
    after = sim.metrics()
    hosts = rs.host_versions(sim)
    assert len(hosts) == 3 and set(hosts.values()) == {"1.0.2"}, hosts
    assert set(machines) <= set(rs.vms(sim))
    assert after["violations"] == []
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]


def test_surge_zero_in_a_full_pool_refuses_to_drain_a_host_the_others_cannot_seat(fresh_sim, tmp_path):
    """Four hosts of at most 8 sessions, more users than seats (the pool stays full whatever the
    random user load does): with surge 0 and max_unavailable 1 the floor of 3 hosts holds, but 3 hosts
    seat only 24 users. The rollout must not drain a host the others cannot absorb (users would fail to
    log on): it stops with the reason before changing anything."""
    sim, _names = big_pool(fresh_sim, tmp_path, hosts=4, target_concurrent_users=48)
    before = sim.metrics()
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=rollout_vars(
        sim, host_pool="hp-big", session_host_rollout_surge=0, session_host_rollout_max_unavailable=1))
    assert run.rc != 0
    message = run.task("Stop when the host pool cannot be rolled")["msg"]
    assert "seats" in message and "maxSessionLimit 8" in message and "surge" in message, message
    delta = rs.requests_delta(before, sim.metrics())
    assert delta["writes"] == 0 and delta["deletes"] == 0, delta


def test_surge_in_a_nearly_full_pool_keeps_room_for_every_user(fresh_sim, tmp_path):
    """Four hosts of at most 8 sessions, 30 users: with a surge of 50% (2 hosts) the new hosts bring
    their seats first and nobody fails to log on."""
    sim, _names = big_pool(fresh_sim, tmp_path, hosts=4, target_concurrent_users=30)
    before = sim.metrics()
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=rollout_vars(
        sim, host_pool="hp-big", session_host_rollout_surge="50%"))
    assert run.rc == 0, run.stdout[-4000:]
    after = sim.metrics()
    assert set(rs.host_versions(sim, pool="hp-big").values()) == {"1.0.1"}
    assert after["users"]["logon_failures"] == before["users"]["logon_failures"], after["users"]
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    assert after["violations"] == []


def split_pool_scenario(hosts=3, hosts_rg="rg-avd-hosts"):
    """A pool in rg-avd-demo whose session-host VMs live in their own resource group (a common layout)."""
    sub = rs.demo_subscription_id()
    subnet = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-avd/subnets/"
              "snet-hosts" % (sub, rs.RG))
    definition = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s"
                  % (sub, rs.RG, rs.GALLERY, rs.IMAGE))
    names = ["avd-split-%d" % i for i in range(hosts)]
    return {
        "extends": "demo",
        "resource_groups": [{"name": hosts_rg, "location": "westeurope"}],
        "virtual_machines": [
            {"resource_group": hosts_rg, "name": name, "size": "Standard_D4s_v5",
             "image": {"resource_group": rs.RG, "gallery": rs.GALLERY, "image": rs.IMAGE, "version": "1.0.0"},
             "admin_username": "avdadmin", "subnet": subnet, "power_state": "running"}
            for name in names
        ],
        "host_pools": [{
            "resource_group": rs.RG, "name": "hp-split", "host_pool_type": "Pooled",
            "load_balancer_type": "BreadthFirst", "max_session_limit": 8,
            "tags": {"goldenimage.follow-image": definition, "goldenimage.follow-marker": rs.MARKER},
            "session_hosts": [{"vm": name, "resource_group": hosts_rg} for name in names],
            "users": {"target_concurrent_users": hosts * 3},
        }],
    }, names


def test_session_host_vms_in_another_resource_group(fresh_sim, tmp_path):
    """The session-host VMs live in rg-avd-hosts, the pool in rg-avd-demo. hostpool_info finds their
    VMs (version, power state), and the rollout deletes the old VMs where they are instead of
    reporting them gone."""
    scenario, names = split_pool_scenario()
    sim = fresh_sim(scenario=rs.write_scenario(tmp_path, scenario), time_scale=TIME_SCALE)
    steps = rs.run_steps(sim, [("info", "hostpool_info", {"resource_group": rs.RG, "host_pool": "hp-split"}, {})])
    info = steps["info"]
    assert not info["failed"], info.get("msg")
    assert [h["vm_found"] for h in info["session_hosts"]] == [True] * 3, info["session_hosts"]
    assert {h["image_version"] for h in info["session_hosts"]} == {"1.0.0"}
    assert info["summary"]["outdated"] == 0 and info["session_hosts"][0]["power_state"] == "running"

    rs.create_version(sim, "1.0.1")
    rs.move_marker(sim, "1.0.1")
    before = sim.metrics()
    run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=rollout_vars(
        sim, host_pool="hp-split", session_host_rollout_surge="100%"))
    assert run.rc == 0, run.stdout[-4000:]
    after = sim.metrics()
    assert set(rs.host_versions(sim, pool="hp-split").values()) == {"1.0.1"}
    drains = [r for r in run.results("Drain, wait for the users and remove the outdated hosts") if not r.get("skipped")]
    actions = {h["name"]: h["vm_action"] for r in drains for h in r["session_hosts"]}
    assert actions == {name: "deleted" for name in names}, actions
    assert not set(names) & set(rs.vms(sim, rg="rg-avd-hosts")), sorted(rs.vms(sim, rg="rg-avd-hosts"))
    assert after["violations"] == []
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]


def test_hosts_a_rollout_removed_and_deallocated_are_not_brought_back(fresh_sim):
    """Hosts of 1.0.1 that an earlier rollout (a rollback) removed with vm_action=deallocate keep their
    goldenimage.rollout tag. Rolling forward to 1.0.1 again must not take them for hosts of this rollout
    waiting to be registered: that would start every one of them, above the surge."""
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    rs.create_version(sim, "1.0.1")
    old = ["avd-demo-3", "avd-demo-4", "avd-demo-5"]
    deploy = {"resource_group": rs.RG, "host_pool": rs.POOL, "image_version_id": rs.version_id(sim, "1.0.1"),
              "names": old, "subnet_id": rs.subnet_id(sim), "admin_password": rs.ADMIN_PASSWORD,
              "rollout_id": "hp-demo-pooled-1.0.1", "poll_interval": 0.02, "timeout": 300}
    drain = {"resource_group": rs.RG, "host_pool": rs.POOL, "session_hosts": old, "state": "removed",
             "vm_action": "deallocate", "drain_timeout": 7200, "poll_interval": 0.02}
    plan = {"resource_group": rs.RG, "host_pool": rs.POOL, "image_version_id": rs.version_id(sim, "1.0.1"),
            "plan": {"surge": 1}}
    results = rs.run_steps(sim, [("deploy", "session_host_deploy", deploy, {}),
                                 ("retire", "hostpool_drain", drain, {}),
                                 ("plan", "hostpool_info", plan, {})])
    assert not results["deploy"]["failed"] and not results["retire"]["failed"], results
    assert sorted(rs.session_hosts(sim)) == rs.DEMO_HOSTS
    planned = results["plan"]["plan"]
    assert planned["deploy"] == ["avd-demo-6"], planned
    assert planned["waiting_for"] == [], planned
