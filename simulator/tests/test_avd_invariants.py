"""Every invariant of the monitor, raised by a deliberate violation through the real SDKs."""

import pytest

from avd_helpers import DOMAIN, POOL, RG, mint_token, sessions_by_host
from avdsim.testing import SimServer


@pytest.fixture
def sim():
    with SimServer(scenario="demo", time_scale=300) as server:
        yield server


def kinds(sim):
    return [v["kind"] for v in sim.metrics()["violations"]]


def run_op(compute, vm, op):
    return compute.virtual_machines.begin_run_command(
        RG, vm, {"commandId": "RunPowerShellScript", "script": ["# goldenimage-op: %s" % op]}).result()


def test_original_sysprepped(sim):
    compute = sim.compute_client()
    assert kinds(sim) == []
    run_op(compute, "vm-golden-w11", "sysprep")
    assert "original_sysprepped" in kinds(sim)
    violation = next(v for v in sim.metrics()["violations"] if v["kind"] == "original_sysprepped")
    assert violation["resource"].lower().endswith("/virtualmachines/vm-golden-w11")


def test_original_generalized_even_after_the_tag_is_gone(sim):
    compute = sim.compute_client()
    vm = compute.virtual_machines.get(RG, "vm-golden-w11")
    compute.virtual_machines.begin_update(RG, "vm-golden-w11", {"tags": {}}).result()
    assert not (compute.virtual_machines.get(RG, "vm-golden-w11").tags or {})
    compute.virtual_machines.begin_deallocate(RG, "vm-golden-w11").result()
    compute.virtual_machines.generalize(RG, "vm-golden-w11")
    assert "original_generalized" in kinds(sim), vm.tags


def test_vm_deallocated_with_users_on_it(sim):
    compute, desktop = sim.compute_client(), sim.desktop_client()
    on_host = sessions_by_host(desktop).get("avd-demo-1." + DOMAIN, 0)
    assert on_host > 0
    before = sim.metrics()["users"]["forced_logoffs"]
    compute.virtual_machines.begin_deallocate(RG, "avd-demo-1").result()
    users = sim.metrics()["users"]
    assert users["forced_logoffs"] - before >= on_host
    assert users["forced_logoffs_without_warning"] >= on_host
    assert "users_on_removed_host" in kinds(sim)
    assert desktop.session_hosts.get(RG, POOL, "avd-demo-1." + DOMAIN).status == "Shutdown"


def test_vm_deleted_with_users_on_it(sim):
    compute = sim.compute_client()
    compute.virtual_machines.begin_delete(RG, "avd-demo-2").result()
    assert "users_on_removed_host" in kinds(sim)


def test_session_host_force_deleted_with_users_on_it(sim):
    desktop = sim.desktop_client()
    desktop.session_hosts.delete(RG, POOL, "avd-demo-0." + DOMAIN, force=True)
    violations = [v for v in sim.metrics()["violations"] if v["kind"] == "users_on_removed_host"]
    assert violations and "avd-demo-0" in violations[0]["resource"]


def test_no_violation_after_the_users_were_logged_off(sim):
    desktop, compute = sim.desktop_client(), sim.compute_client()
    desktop.session_hosts.update(RG, POOL, "avd-demo-0." + DOMAIN, session_host={"allowNewSession": False})
    for session in desktop.user_sessions.list(RG, POOL, "avd-demo-0." + DOMAIN):
        desktop.user_sessions.delete(RG, POOL, "avd-demo-0." + DOMAIN, session.name.split("/")[2], force=True)
    desktop.session_hosts.delete(RG, POOL, "avd-demo-0." + DOMAIN)
    compute.virtual_machines.begin_delete(RG, "avd-demo-0").result()
    assert "users_on_removed_host" not in kinds(sim)


def test_capacity_below_the_floor_from_the_tag(sim):
    desktop = sim.desktop_client()
    pool = desktop.host_pools.get(RG, POOL)
    tags = dict(pool.tags or {})
    tags["goldenimage.min-available-hosts"] = "3"
    desktop.host_pools.update(RG, POOL, {"tags": tags})
    assert kinds(sim) == []
    desktop.session_hosts.update(RG, POOL, "avd-demo-2." + DOMAIN, session_host={"allowNewSession": False})
    desktop.session_hosts.update(RG, POOL, "avd-demo-1." + DOMAIN, session_host={"allowNewSession": False})
    assert kinds(sim).count("capacity_below_floor") == 1  # one record per dip


def test_capacity_below_the_scenario_floor(sim):
    desktop = sim.desktop_client()
    desktop.session_hosts.update(RG, POOL, "avd-demo-2." + DOMAIN, session_host={"allowNewSession": False})
    assert kinds(sim) == []  # the demo's floor is 2
    desktop.session_hosts.update(RG, POOL, "avd-demo-1." + DOMAIN, session_host={"allowNewSession": False})
    assert kinds(sim) == ["capacity_below_floor"]


def test_registration_token_in_a_tag(sim):
    desktop = sim.desktop_client()
    token = mint_token(sim, desktop)
    desktop.host_pools.update(RG, POOL, {"tags": {"debug": token[:200]}})  # tags hold 256 chars
    violation = next(v for v in sim.metrics()["violations"] if v["kind"] == "secret_in_plain_field")
    assert "tags.debug" in violation["detail"] and token[:60] not in violation["detail"]


def test_registration_token_in_a_vm_tag(sim):
    desktop, compute = sim.desktop_client(), sim.compute_client()
    token = mint_token(sim, desktop)
    compute.virtual_machines.begin_update(RG, "avd-demo-0", {"tags": {"reg": token[-120:]}}).result()
    assert "secret_in_plain_field" in kinds(sim)


def test_client_secret_in_a_host_pool_description(sim):
    desktop = sim.desktop_client()
    desktop.host_pools.update(RG, POOL, {"properties": {"description": "sp " + sim.info["client_secret"]}})
    assert "secret_in_plain_field" in kinds(sim)


def test_registration_token_in_a_run_command_script(sim):
    desktop, compute = sim.desktop_client(), sim.compute_client()
    token = mint_token(sim, desktop)
    compute.virtual_machines.begin_run_command(RG, "avd-demo-0", {
        "commandId": "RunPowerShellScript",
        "script": ["$token = '%s'" % token, "Write-Output registered"]}).result()
    violation = next(v for v in sim.metrics()["violations"] if v["kind"] == "secret_in_plain_field")
    assert "runCommand" in violation["resource"] and "script" in violation["detail"]


def test_token_in_protected_settings_is_no_violation(sim):
    desktop, compute = sim.desktop_client(), sim.compute_client()
    token = mint_token(sim, desktop)
    compute.virtual_machine_extensions.begin_create_or_update(RG, "avd-demo-0", "Microsoft.PowerShell.DSC", {
        "location": "westeurope", "properties": {
            "publisher": "Microsoft.Powershell", "type": "DSC", "typeHandlerVersion": "2.73",
            "settings": {"properties": {"hostPoolName": POOL}},
            "protectedSettings": {"properties": {"registrationInfoToken": token}}}}).result()
    assert kinds(sim) == []


def test_vm_restarted_with_users_on_it(sim):
    compute, desktop = sim.compute_client(), sim.desktop_client()
    on_host = sessions_by_host(desktop).get("avd-demo-2." + DOMAIN, 0)
    assert on_host > 0
    compute.virtual_machines.begin_restart(RG, "avd-demo-2").result()
    assert "users_on_removed_host" in kinds(sim)
    assert sim.metrics()["users"]["forced_logoffs"] >= on_host


def test_resource_group_deleted_with_users(sim):
    from azure.core.rest import HttpRequest

    desktop = sim.desktop_client()
    address = "%s/subscriptions/%s/resourcegroups/%s?api-version=2022-09-01" % (
        sim.arm_endpoint, sim.subscription_id, RG)
    response = desktop._client.send_request(HttpRequest("DELETE", address))  # pylint: disable=protected-access
    assert response.status_code == 202
    sim.advance(600)
    users = sim.metrics()["users"]
    assert users["sessions_active"] == 0 and users["forced_logoffs"] >= 10
    assert "users_on_removed_host" in kinds(sim)
    assert sim.state()["avd"] == {}


def test_a_clone_names_its_original(sim):
    from avd_helpers import vm_body

    compute = sim.compute_client()
    body = vm_body(sim.subscription_id, "vm-untagged")
    body["tags"] = {}
    original = compute.virtual_machines.begin_create_or_update(RG, "vm-untagged", body).result()
    run_op(compute, "vm-untagged", "preflight")
    assert kinds(sim) == []
    # never tagged as an original, but a clone says it came from it
    compute.virtual_machines.begin_update(RG, "avd-demo-2", {"tags": {"goldenimage.clone-of": original.id}}).result()
    run_op(compute, "vm-untagged", "sysprep")
    assert "original_sysprepped" in kinds(sim)
