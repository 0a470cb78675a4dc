"""Session hosts appear when a VM's AVD agent registers through the DSC extension."""

import pytest
from azure.core.exceptions import HttpResponseError

from avd_helpers import (
    DOMAIN, POOL, RG, ad_join_extension, dsc_extension, mint_token, sim_now, vm_body, wait_until,
)
from spec_validation import validate
from avdsim.testing import SimServer


@pytest.fixture(scope="module")
def sim():
    with SimServer(scenario="demo", time_scale=200) as server:
        yield server


@pytest.fixture(scope="module")
def compute(sim):
    return sim.compute_client()


@pytest.fixture(scope="module")
def desktop(sim):
    return sim.desktop_client()


def create_vm(sim, compute, name):
    compute.virtual_machines.begin_create_or_update(RG, name, vm_body(sim.subscription_id, name)).result()


def put_extension(compute, vm, name, body):
    return compute.virtual_machine_extensions.begin_create_or_update(RG, vm, name, body)


def host_names(desktop):
    return {h.name for h in desktop.session_hosts.list(RG, POOL)}


def test_demo_session_hosts(sim, desktop, compute):
    hosts = list(desktop.session_hosts.list(RG, POOL))
    assert sorted(h.name for h in hosts) == ["%s/avd-demo-%d.%s" % (POOL, i, DOMAIN) for i in range(3)]
    for host in hosts:
        raw = host.serialize(keep_readonly=True)
        validate("avd", "SessionHost", raw)
        assert host.status == "Available" and host.allow_new_session
        assert host.resource_id.lower().endswith("/virtualmachines/" + host.name.split("/")[1].split(".")[0])
        vm = compute.virtual_machines.get(RG, host.resource_id.rsplit("/", 1)[1])
        assert host.virtual_machine_id == vm.properties.vm_id
        assert host.type == "Microsoft.DesktopVirtualization/hostpools/sessionhosts"
        assert host.id.lower().endswith("/hostpools/%s/sessionhosts/%s" % (POOL, host.name.split("/")[1]))
    # the demo hosts run the gallery image's guest content and carry the DSC extension
    state = sim.state()
    vm_id = hosts[0].resource_id
    extensions = [r for r in state["resources"] if r["id"].lower().startswith(vm_id.lower() + "/extensions/")]
    assert any(e["properties"]["type"] == "DSC" for e in extensions)
    assert all("protectedSettings" not in e["properties"] for e in extensions)


def test_registration_through_dsc_extension(sim, desktop, compute):
    create_vm(sim, compute, "avd-reg-1")
    put_extension(compute, "avd-reg-1", "joindomain", ad_join_extension()).result()
    token = mint_token(sim, desktop)
    before = sim_now(sim)
    poller = put_extension(compute, "avd-reg-1", "Microsoft.PowerShell.DSC", dsc_extension(POOL, token))
    ext = poller.result()
    assert ext.properties.provisioning_state == "Succeeded"
    host = desktop.session_hosts.get(RG, POOL, "avd-reg-1." + DOMAIN)
    # the agent registered after its installation delay (150 simulated seconds)
    assert (host.last_update_time - before).total_seconds() >= 150
    assert host.name == "%s/avd-reg-1.%s" % (POOL, DOMAIN)
    assert host.resource_id.lower().endswith("/virtualmachines/avd-reg-1")
    assert host.status in ("Available", "Unavailable") and host.sessions == 0
    validate("avd", "SessionHost", host.serialize(keep_readonly=True))
    # the token never shows up in the extension a client reads back
    got = compute.virtual_machine_extensions.get(RG, "avd-reg-1", "Microsoft.PowerShell.DSC")
    assert token not in str(got.as_dict() if hasattr(got, "as_dict") else dict(got))
    assert not [v for v in sim.metrics()["violations"] if v["kind"] == "secret_in_plain_field"]


def test_without_join_extension_the_name_has_no_domain(sim, desktop, compute):
    create_vm(sim, compute, "avd-reg-2")
    token = mint_token(sim, desktop)
    put_extension(compute, "avd-reg-2", "Microsoft.PowerShell.DSC", dsc_extension(POOL, token)).result()
    assert desktop.session_hosts.get(RG, POOL, "avd-reg-2").name == POOL + "/avd-reg-2"


@pytest.mark.parametrize("case", ["expired", "deleted", "replaced", "garbage", "wrong-pool"])
def test_invalid_tokens_do_not_register(sim, desktop, compute, case):
    name = "avd-bad-%s" % case.replace("-", "")[:6]
    create_vm(sim, compute, name)
    token = mint_token(sim, desktop, hours=1.01)
    pool = POOL
    if case == "expired":
        sim.advance(2 * 3600)
    elif case == "deleted":
        desktop.host_pools.update(RG, POOL, {"properties": {"registrationInfo": {
            "registrationTokenOperation": "Delete"}}})
    elif case == "replaced":
        mint_token(sim, desktop)
    elif case == "garbage":
        token = "eyJub3QiOiJhIHRva2VuIn0.e30.c2ln"
    else:
        pool = "hp-some-other-pool"
    with pytest.raises(HttpResponseError) as err:
        put_extension(compute, name, "Microsoft.PowerShell.DSC", dsc_extension(pool, token)).result()
    assert "VMExtensionProvisioningError" in str(err.value) or "DSC" in str(err.value)
    ext = compute.virtual_machine_extensions.get(RG, name, "Microsoft.PowerShell.DSC")
    assert ext.properties.provisioning_state == "Failed"
    assert not [n for n in host_names(desktop) if name in n]


def test_token_deleted_while_the_agent_installs():
    # Own simulator on a slow clock: the token goes away well before the agent registers.
    with SimServer(scenario="demo", time_scale=30) as slow:
        compute, desktop = slow.compute_client(), slow.desktop_client()
        poller = compute.virtual_machines.begin_create_or_update(RG, "avd-late", vm_body(slow.subscription_id,
                                                                                         "avd-late"))
        slow.advance(200)
        poller.result()
        token = mint_token(slow, desktop)
        poller = put_extension(compute, "avd-late", "Microsoft.PowerShell.DSC", dsc_extension(POOL, token))
        desktop.host_pools.update(RG, POOL, {"properties": {"registrationInfo": {
            "registrationTokenOperation": "Delete"}}})
        slow.advance(200)
        with pytest.raises(HttpResponseError) as err:
            poller.result()
        assert "deleted" in str(err.value)
        assert not [n for n in host_names(desktop) if "avd-late" in n]


def test_token_in_settings_is_a_leak_and_does_not_register(sim, desktop, compute):
    create_vm(sim, compute, "avd-leak")
    token = mint_token(sim, desktop)
    with pytest.raises(HttpResponseError):
        put_extension(compute, "avd-leak", "Microsoft.PowerShell.DSC",
                      dsc_extension(POOL, token, in_settings=True)).result()
    kinds = [(v["kind"], v["resource"]) for v in sim.metrics()["violations"]]
    assert any(kind == "secret_in_plain_field" and "avd-leak" in res for kind, res in kinds)


def test_injected_registration_failure(sim, desktop, compute):
    create_vm(sim, compute, "avd-fault")
    token = mint_token(sim, desktop)
    sim.add_fault(path_regex="/_avd/agent/register/avd-fault", lro_fail=True)
    with pytest.raises(HttpResponseError) as err:
        put_extension(compute, "avd-fault", "Microsoft.PowerShell.DSC", dsc_extension(POOL, token)).result()
    assert "injected registration failure" in str(err.value)
    assert not [n for n in host_names(desktop) if "avd-fault" in n]


def test_session_host_status_follows_the_vm(sim, desktop, compute):
    create_vm(sim, compute, "avd-power")
    token = mint_token(sim, desktop)
    put_extension(compute, "avd-power", "Microsoft.PowerShell.DSC", dsc_extension(POOL, token)).result()
    compute.virtual_machines.begin_deallocate(RG, "avd-power").result()
    assert desktop.session_hosts.get(RG, POOL, "avd-power").status == "Shutdown"
    compute.virtual_machines.begin_start(RG, "avd-power").result()
    wait_until(lambda: desktop.session_hosts.get(RG, POOL, "avd-power").status == "Available",
               describe="agent heartbeat after start")
    compute.virtual_machines.begin_delete(RG, "avd-power").result()
    host = desktop.session_hosts.get(RG, POOL, "avd-power")  # orphaned until removed
    assert host.status == "Unavailable"
    desktop.session_hosts.delete(RG, POOL, "avd-power")
    assert "%s/avd-power" % POOL not in host_names(desktop)


def test_session_host_paging(sim, desktop):
    pages = [[h.name for h in page] for page in desktop.session_hosts.list(RG, POOL, page_size=2).by_page()]
    assert len(pages) >= 2 and all(len(page) <= 2 for page in pages)
    names = [n for page in pages for n in page]
    assert len(names) == len(set(names)) >= 3
