"""session_host_deploy: check mode -> real -> idempotent, failure handling, bad input, secrets."""

from __future__ import annotations

import json

import rollout_support as rs
from helpers import run_module

TIME_SCALE = 3000


def deploy_args(sim, names, **overrides):
    args = {
        "resource_group": rs.RG,
        "host_pool": rs.POOL,
        "image_version_id": rs.version_id(sim, "1.0.0"),
        "names": names,
        "subnet_id": rs.subnet_id(sim),
        "admin_password": rs.ADMIN_PASSWORD,
        "join": {"type": "ad", "domain": "contoso.com", "user": "svc-join", "password": "Join-Pa55word!"},
        "rollout_id": "test-rollout",
        "poll_interval": 0.02,
        "timeout": 300,
    }
    args.update(overrides)
    return args


def test_deploy_check_real_idempotent(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    names = ["avd-demo-3", "avd-demo-4"]

    before = sim.metrics()
    checked = run_module(sim, "session_host_deploy", deploy_args(sim, names), check=True, diff=True)
    assert checked["changed"] and not checked["failed"], checked.get("msg")
    assert [h["action"] for h in checked["session_hosts"]] == ["create", "create"]
    assert rs.requests_delta(before, sim.metrics())["writes"] == 0
    assert not set(names) & set(rs.vms(sim))

    before = sim.metrics()
    result = run_module(sim, "session_host_deploy", deploy_args(sim, names), diff=True)
    after = sim.metrics()
    assert result["changed"] and not result["failed"], result.get("msg")
    assert result["created"] == names and result["registered"] == names and result["failed_hosts"] == []
    assert result["registration_token_deleted"] is True
    hosts = rs.session_hosts(sim)
    for name in names:
        assert hosts[name].status == "Available" and hosts[name].allow_new_session
        assert hosts[name].name.endswith("%s.contoso.com" % name)
    machines = rs.vms(sim)
    for name in names:
        vm = machines[name]
        assert vm.tags["goldenimage.rollout"] == "test-rollout"
        assert vm.storage_profile.image_reference.id.lower() == rs.version_id(sim, "1.0.0").lower()
        assert vm.security_profile.security_type == "TrustedLaunch"  # the definition supports it
        assert vm.network_profile.network_interface_configurations[0].delete_option == "Delete"
    # both hosts were deployed side by side: one VM-create phase, one registration wait
    delta = rs.requests_delta(before, after)
    creates = sum(n for op, n in delta["by_operation"].items()
                  if op.startswith("PUT") and op.endswith("virtualMachines/{vmName}"))
    assert creates == 2 and delta["throttled"] == 0
    # the token: minted for this run and deleted again, never in a result or a tag
    tokens = sim.desktop_client().host_pools.list_registration_tokens(rs.RG, rs.POOL)
    assert not [t for t in (tokens.value or []) if t.token]
    assert "eyJ" not in json.dumps(result)
    assert after["violations"] == []

    again = run_module(sim, "session_host_deploy", deploy_args(sim, names))
    assert not again["changed"] and not again["failed"], again.get("msg")
    assert [h["action"] for h in again["session_hosts"]] == ["none", "none"]


def test_failed_registration_is_reported_and_cleaned_up(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    sim.add_fault(method="PUT", path_regex="/_avd/agent/register/avd-demo-4", lro_fail=True, count=1)
    result = run_module(sim, "session_host_deploy", deploy_args(sim, ["avd-demo-3", "avd-demo-4"]))
    assert result["failed"], result
    assert "avd-demo-4" in result["msg"] and "registration" in result["msg"].lower()
    rows = {h["name"]: h for h in result["session_hosts"]}
    assert rows["avd-demo-3"]["registered"] and not rows["avd-demo-3"]["failed"]
    assert rows["avd-demo-4"]["failed"] and rows["avd-demo-4"]["cleaned_up"]
    assert "avd-demo-4" not in rs.vms(sim) and "avd-demo-3" in rs.vms(sim)
    assert sorted(rs.session_hosts(sim)) == rs.DEMO_HOSTS + ["avd-demo-3"]


def test_failed_host_is_kept_with_on_failure_keep_and_registered_by_a_rerun(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    sim.add_fault(method="PUT", path_regex="/_avd/agent/register/avd-demo-3", lro_fail=True, count=1)
    # Entra ID join this time: AADLoginForWindows and a system-assigned identity, no domain suffix
    entra = {"type": "entra"}
    result = run_module(sim, "session_host_deploy", deploy_args(sim, ["avd-demo-3"], on_failure="keep", join=entra))
    assert result["failed"] and not result["session_hosts"][0]["cleaned_up"]
    assert "avd-demo-3" in rs.vms(sim) and "avd-demo-3" not in rs.session_hosts(sim)
    vm = sim.compute_client().virtual_machines.get(rs.RG, "avd-demo-3", expand="instanceView")
    assert vm.identity.type == "SystemAssigned"
    assert "AADLoginForWindows" in {ext.name for ext in vm.resources or []}

    again = run_module(sim, "session_host_deploy", deploy_args(sim, ["avd-demo-3"], join=entra))
    assert again["changed"] and not again["failed"], again.get("msg")
    assert again["session_hosts"][0]["action"] == "register"
    host = sim.desktop_client().session_hosts.get(rs.RG, rs.POOL, "avd-demo-3")
    assert host.status == "Available" and host.name.endswith("/avd-demo-3")


def test_bad_input_fails_before_any_change(fresh_sim):
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    before = sim.metrics()
    cases = [
        (deploy_args(sim, ["a-name-that-is-too-long"]), "names"),
        (deploy_args(sim, ["avd-demo-3"], admin_password="short"), "admin_password"),
        (deploy_args(sim, ["avd-demo-3"], image_version_id=rs.definition_id(sim)), "image_version_id"),
        (deploy_args(sim, ["avd-demo-3"], join={"type": "ad", "domain": "contoso.com"}), "join"),
        (deploy_args(sim, ["avd-demo-0"], image_version_id=rs.version_id(sim, "1.0.0").replace("1.0.0", "2.0.0")),
         "avd-demo-0"),
        # Azure's and Windows' own rules, checked before anything is read or written
        (deploy_args(sim, ["avd-demo-3"], admin_username="admin"), "Option 'admin_username': Azure does not allow"),
        (deploy_args(sim, ["avd-demo-3"], admin_username="Administrator"), "Option 'admin_username'"),
        (deploy_args(sim, ["avd-demo-3"], admin_username="avd-administrator-01x"), "has 21 characters"),
        (deploy_args(sim, ["avd-demo-3"], admin_username="avdadmin."), "ends with '.'"),
        (deploy_args(sim, ["avd-demo-3"], admin_password="abcdefghijklmnoPa"), "only 2 of the 4"),
        (deploy_args(sim, ["12345"]), "Option 'names'"),
        (deploy_args(sim, ["avd_demo_3"]), "Windows computer name"),
        (deploy_args(sim, ["avd-demo-3"], tags={"cost/center": "x"}), "Option 'tags'"),
        (deploy_args(sim, ["avd-demo-3"], tags={"k%d" % n: "v" for n in range(50)}), "at most 50 tags"),
        (deploy_args(sim, ["avd-demo-3"], tags={"note": "v" * 257}), "at most 256"),
        (deploy_args(sim, ["avd-demo-3"], tags={"goldenimage.role": "x"}), "reserved"),
    ]
    results = rs.run_steps(sim, [("case %d" % i, "session_host_deploy", args, {}) for i, (args, _n) in enumerate(cases)])
    for i, (_args, needle) in enumerate(cases):
        result = results["case %d" % i]
        assert result["failed"] and needle in result["msg"], result.get("msg")
        assert "Pa55" not in json.dumps(result) and "abcdefghijklmnoPa" not in json.dumps(result)
    delta = rs.requests_delta(before, sim.metrics())
    assert delta["writes"] == 0 and delta["deletes"] == 0


def test_a_new_host_stopped_before_it_served_is_started_again(fresh_sim):
    """A crashed rollout left a new host whose VM a scaling plan (or an operator) then deallocated: the
    session host is Shutdown. Deploying it again starts the VM and waits until it is Available, instead
    of waiting out the timeout and deleting it."""
    sim = fresh_sim(scenario="demo", time_scale=TIME_SCALE)
    first = run_module(sim, "session_host_deploy", deploy_args(sim, ["avd-demo-3"]))
    assert not first["failed"], first.get("msg")
    sim.compute_client().virtual_machines.begin_deallocate(rs.RG, "avd-demo-3").result()
    assert rs.session_hosts(sim)["avd-demo-3"].status == "Shutdown"

    before = sim.metrics()
    results = rs.run_steps(sim, [
        ("check", "session_host_deploy", deploy_args(sim, ["avd-demo-3"], timeout=60), {"check_mode": True}),
    ])
    checked = results["check"]
    assert checked["changed"] and not checked["failed"], checked.get("msg")
    assert checked["session_hosts"][0]["started"] is True
    assert rs.requests_delta(before, sim.metrics())["writes"] == 0

    results = rs.run_steps(sim, [
        ("start", "session_host_deploy", deploy_args(sim, ["avd-demo-3"], timeout=60), {}),
        ("again", "session_host_deploy", deploy_args(sim, ["avd-demo-3"], timeout=60), {}),
    ])
    started, again = results["start"], results["again"]
    assert started["changed"] and not started["failed"], started.get("msg")
    assert started["session_hosts"][0]["started"] is True and started["registered"] == ["avd-demo-3"]
    assert rs.session_hosts(sim)["avd-demo-3"].status == "Available"
    assert "avd-demo-3" in rs.vms(sim)
    assert not again["changed"] and not again["failed"], again.get("msg")
    assert again["session_hosts"][0]["started"] is False
