"""The ARM surface generic clients read first: subscriptions, tenants, locations, resource
providers and their registration, the generic resource list with $filter/$top/paging, and
the VM sizes of a region; through azure-mgmt-resource (ResourceManagementClient) and
azure-mgmt-compute, raw requests through the same pipeline where the SDK has no call.

Sources: Microsoft.Resources resources.json / subscriptions.json (azure-rest-api-specs
specification/resources/resource-manager/Microsoft.Resources/stable), the
MissingSubscriptionRegistration body of Azure/azure-sdk-for-node#2305, ComputeRP
VirtualMachineSizes_List."""

import pytest
from azure.core.exceptions import HttpResponseError

from avdsim import providers, resource_filter
from avdsim.sim import Simulator
from avdsim.testing import SimServer
from compute_helpers import RG, raw

FAST = 6000.0
API = "api-version=2022-12-01"


@pytest.fixture(scope="module")
def resources(demo_sim):
    return demo_sim.resource_client()


def _get(client, sim, path):
    resp = raw(client, "GET", sim.arm_endpoint + path)
    return resp.status_code, resp.json() if resp.content else None


def _error(exc_info):
    return exc_info.value.error.code, exc_info.value.error.message


# -- subscriptions, tenants, locations -----------------------------------------------------
def test_subscription_list_and_get_carry_the_arm_fields(demo_sim, resources):
    status, body = _get(resources, demo_sim, f"/subscriptions?{API}")
    assert status == 200 and len(body["value"]) == 1
    sub = body["value"][0]
    assert sub["subscriptionId"] == demo_sim.subscription_id
    assert sub["id"] == f"/subscriptions/{demo_sim.subscription_id}"
    assert sub["tenantId"] == demo_sim.info["tenant_id"]
    assert sub["state"] == "Enabled" and sub["authorizationSource"] == "RoleBased"
    assert set(sub["subscriptionPolicies"]) == {"locationPlacementId", "quotaId",
                                                "spendingLimit"}
    status, one = _get(resources, demo_sim, f"/subscriptions/{demo_sim.subscription_id}?{API}")
    assert status == 200 and one == sub


def test_tenants_and_locations(demo_sim, resources):
    status, body = _get(resources, demo_sim, f"/tenants?{API}")
    assert status == 200
    assert [t["tenantId"] for t in body["value"]] == [demo_sim.info["tenant_id"]]
    assert body["value"][0]["id"] == f"/tenants/{demo_sim.info['tenant_id']}"
    status, body = _get(resources, demo_sim,
                        f"/subscriptions/{demo_sim.subscription_id}/locations?{API}")
    names = {loc["name"]: loc for loc in body["value"]}
    assert status == 200 and {"westeurope", "northeurope"} <= set(names)
    assert names["westeurope"]["displayName"] == "West Europe"
    assert names["westeurope"]["type"] == "Region"


def test_subscription_list_needs_a_token(demo_sim):
    import json
    import urllib.error
    import urllib.request
    req = urllib.request.Request(demo_sim.arm_endpoint + f"/subscriptions?{API}")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, context=demo_sim._ssl, timeout=30)  # pylint: disable=protected-access
    assert exc.value.code == 401
    assert json.loads(exc.value.read())["error"]["code"] == "AuthenticationFailed"


# -- providers -----------------------------------------------------------------------------
def test_providers_list_and_get(resources):
    listed = {p.namespace: p for p in resources.providers.list()}
    assert {"Microsoft.Compute", "Microsoft.Network", "Microsoft.DesktopVirtualization",
            "Microsoft.Resources"} <= set(listed)
    net = resources.providers.get("microsoft.network")  # namespaces are case-insensitive
    assert net.namespace == "Microsoft.Network" and net.registration_state == "Registered"
    vnets = next(t for t in net.resource_types if t.resource_type == "virtualNetworks")
    assert "2026-03-01" in vnets.api_versions  # what azure-mgmt-network 33.1.0 sends
    assert "West Europe" in vnets.locations
    compute = resources.providers.get("Microsoft.Compute")
    vms = next(t for t in compute.resource_types if t.resource_type == "virtualMachines")
    assert vms.api_versions[0] == "2026-04-01"


def test_unknown_provider_namespace_is_404(resources):
    with pytest.raises(HttpResponseError) as exc:
        resources.providers.get("Microsoft.Nope")
    assert exc.value.status_code == 404
    assert _error(exc) == ("InvalidResourceNamespace",
                           "The resource namespace 'Microsoft.Nope' is invalid.")


@pytest.mark.parametrize("namespace,rtype,expected", [
    ("Microsoft.Compute", "virtualMachines", "2026-04-01"),
    ("microsoft.compute", "DISKS", "2026-03-02"),
    ("Microsoft.Compute", "galleries/images/versions", "2026-03-03"),
    ("Microsoft.Network", "networkInterfaces", "2026-03-01"),
    ("Microsoft.DesktopVirtualization", "hostpools", "2024-04-03"),
    ("Microsoft.Resources", "resourceGroups", "2025-04-01"),
])
def test_api_versions_table(namespace, rtype, expected):
    assert providers.api_versions(namespace, rtype)[0] == expected  # newest first


def test_api_versions_unknown_type_is_empty():
    assert providers.api_versions("Microsoft.Compute", "nope") == ()
    assert providers.api_versions("Microsoft.Nope", "virtualMachines") == ()


def _unregistered_scenario(tmp_path, page_size=None):
    path = tmp_path / "scenario.yaml"
    lines = ["extends: demo", "unregistered_providers: [Microsoft.Network]"]
    if page_size:
        lines.append(f"page_size: {page_size}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


NSG_BODY = {"location": "westeurope", "properties": {"securityRules": []}}


def test_registration_gates_writes_and_moves_through_its_states(tmp_path):
    with SimServer(scenario=_unregistered_scenario(tmp_path), time_scale=FAST) as sim:
        res, net = sim.resource_client(), sim.network_client()
        assert res.providers.get("Microsoft.Network").registration_state == "NotRegistered"
        # reads still work; a write is refused by ARM before the provider sees it
        assert net.virtual_networks.get(RG, "vnet-avd").name == "vnet-avd"
        with pytest.raises(HttpResponseError) as exc:
            net.network_security_groups.begin_create_or_update(RG, "nsg-x", NSG_BODY)
        assert exc.value.status_code == 409
        code, msg = _error(exc)
        assert code == "MissingSubscriptionRegistration"
        assert msg == ("The subscription is not registered to use namespace "
                       "'Microsoft.Network'. See https://aka.ms/rps-not-found for how to "
                       "register subscriptions.")
        detail = exc.value.response.json()["error"]["details"][0]
        assert detail["target"] == "Microsoft.Network"
        # register: Registering at once, Registered after the registration time
        assert res.providers.register("Microsoft.Network").registration_state == "Registering"
        with pytest.raises(HttpResponseError) as exc:
            net.network_security_groups.begin_create_or_update(RG, "nsg-x", NSG_BODY)
        assert "registration is in 'Registering' state" in _error(exc)[1]
        sim.advance(sim.state()["durations"]["provider_registration"] + 1)
        assert res.providers.get("Microsoft.Network").registration_state == "Registered"
        nsg = net.network_security_groups.begin_create_or_update(RG, "nsg-x", NSG_BODY).result()
        assert nsg.provisioning_state == "Succeeded"
        # unregister: Unregistering, then Unregistered, and writes are refused again
        assert res.providers.unregister("Microsoft.Network").registration_state == \
            "Unregistering"
        sim.advance(sim.state()["durations"]["provider_registration"] + 1)
        assert res.providers.get("Microsoft.Network").registration_state == "Unregistered"
        assert sim.state()["provider_registration"][sim.subscription_id.lower()][
            "Microsoft.Network"] == "Unregistered"
        with pytest.raises(HttpResponseError) as exc:
            net.network_security_groups.begin_delete(RG, "nsg-x")
        assert exc.value.status_code == 409
        # Compute stays registered and usable
        assert res.providers.get("Microsoft.Compute").registration_state == "Registered"


def test_scenario_rejects_unknown_unregistered_namespace():
    sim = Simulator({"subscription_id": "s", "tenant_id": "t", "client_id": "c",
                     "client_secret": "x", "unregistered_providers": ["Microsoft.Nope"]})
    with pytest.raises(ValueError, match="unknown namespace 'Microsoft.Nope'"):
        sim.load_scenario()


# -- generic resources ---------------------------------------------------------------------
def _names(items):
    return sorted(r.name for r in items)


def test_resources_list_spans_providers_and_groups(demo_sim, resources):
    everything = list(resources.resources.list())
    types = {r.type for r in everything}
    assert {"Microsoft.Compute/virtualMachines", "Microsoft.Compute/disks",
            "Microsoft.Compute/galleries", "Microsoft.Network/virtualNetworks",
            "Microsoft.Network/networkInterfaces",
            "Microsoft.DesktopVirtualization/hostpools"} <= types
    assert "Microsoft.Resources/resourceGroups" not in types
    in_group = list(resources.resources.list_by_resource_group(RG))
    assert _names(in_group) == _names(everything)  # the demo has one group
    vm = next(r for r in everything if r.name == "vm-golden-w11")
    assert vm.location == "westeurope" and vm.id.endswith("/virtualMachines/vm-golden-w11")


def test_resources_filter_by_type_name_location_substring(resources):
    vms = list(resources.resources.list(
        filter="resourceType eq 'Microsoft.Compute/virtualMachines'"))
    assert _names(vms) == ["avd-demo-0", "avd-demo-1", "avd-demo-2", "vm-golden-w11"]
    assert _names(resources.resources.list(filter="name eq 'vnet-avd'")) == ["vnet-avd"]
    assert len(list(resources.resources.list(filter="location eq 'northeurope'"))) == 0
    subs = list(resources.resources.list(
        filter="substringof('demo-1', name) and resourceType eq "
               "'Microsoft.Compute/virtualMachines'"))
    assert _names(subs) == ["avd-demo-1"]
    either = list(resources.resources.list(
        filter="substringof('golden', name) or substringof('hp-demo', name)"))
    assert {"vm-golden-w11", "hp-demo-pooled"} <= set(_names(either))


def test_resources_filter_by_tag_hides_tags(demo_sim, resources):
    net = demo_sim.network_client()
    body = {"location": "westeurope", "tags": {"team": "avd", "tier": "gold"},
            "properties": {"securityRules": []}}
    net.network_security_groups.begin_create_or_update(RG, "nsg-tagged", body).result()
    try:
        by_pair = list(resources.resources.list(filter="tagName eq 'team' and tagValue eq 'avd'"))
        assert _names(by_pair) == ["nsg-tagged"]
        assert by_pair[0].tags is None  # ARM omits the tags when filtering by tag
        assert _names(resources.resources.list_by_resource_group(
            RG, filter="tagName eq 'TIER'")) == ["nsg-tagged"]
        assert list(resources.resources.list(filter="tagName eq 'team' and tagValue eq 'AVD'")) \
            == []  # tag values are case-sensitive
        plain = next(r for r in resources.resources.list(filter="name eq 'nsg-tagged'"))
        assert plain.tags == {"team": "avd", "tier": "gold"}
    finally:
        net.network_security_groups.begin_delete(RG, "nsg-tagged").result()


def test_resources_top_and_expand(demo_sim, resources):
    status, body = _get(resources, demo_sim, f"/subscriptions/{demo_sim.subscription_id}/"
                        "resources?$top=3&$expand=provisioningState&api-version=2025-04-01")
    assert status == 200 and len(body["value"]) == 3 and "nextLink" not in body
    assert all(r["provisioningState"] == "Succeeded" for r in body["value"])
    assert all("properties" not in r for r in body["value"])
    status, body = _get(resources, demo_sim, f"/subscriptions/{demo_sim.subscription_id}/"
                        "resources?$top=0&api-version=2025-04-01")
    assert status == 400 and body["error"]["code"] == "InvalidQueryParameterValue"


def test_resources_paging_with_next_link(tmp_path):
    path = tmp_path / "paged.yaml"
    path.write_text("extends: demo\npage_size: 4\n", encoding="utf-8")
    with SimServer(scenario=str(path), time_scale=FAST) as sim:
        client = sim.resource_client()
        status, first = _get(client, sim, f"/subscriptions/{sim.subscription_id}/resources?"
                             "api-version=2025-04-01")
        assert status == 200 and len(first["value"]) == 4 and "$skiptoken=4" in first["nextLink"]
        pages = [list(p) for p in client.resources.list().by_page()]
        ids = [r.id for page in pages for r in page]
        tracked = [r["id"] for r in sim.state()["resources"]
                   if "location" in r and "/providers/" in r["id"]]
        assert sorted(ids) == sorted(tracked) and len(ids) > 8
        assert all(len(p) == 4 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 4


@pytest.mark.parametrize("text", [
    "managedBy eq 'someone'",                        # not a filterable property
    "name gt 'a'",                                   # operator ARM does not document
    "(name eq 'a')",                                 # grouping
    "name eq 'a' or name eq 'b'",                    # 'or' links substringof only
    "tagName eq 'a' and name eq 'b'",                # tags with other properties
    "tagValue eq 'x'",                               # tagValue without tagName
    "substringof('a', location)",                    # substringof on name/resourceGroup only
    "startswith(name, 'a')",
])
def test_resources_refuse_unsupported_filters(resources, text):
    with pytest.raises(HttpResponseError) as exc:
        list(resources.resources.list(filter=text))
    assert exc.value.status_code == 400
    code, msg = _error(exc)
    assert code == "InvalidFilterInQueryString" and text in msg


def test_resources_in_missing_group_is_404(resources):
    with pytest.raises(HttpResponseError) as exc:
        list(resources.resources.list_by_resource_group("rg-nope"))
    assert exc.value.status_code == 404 and _error(exc)[0] == "ResourceGroupNotFound"


@pytest.mark.parametrize("text,matches", [
    ("resourceType eq 'microsoft.compute/disks'", True),
    ("resourceType ne 'Microsoft.Compute/disks'", False),
    ("name eq 'D1'", True),
    ("resourceGroup eq 'RG-A'", True),
    ("location eq 'West Europe'", True),
    ("substringof('g-a', resourceGroup)", True),
    ("substringof('zz', name) or substringof('d', name)", True),
    ("tagName eq 'env'", True),
    ("tagName eq 'env' and tagValue eq 'X'", False),
    ("tagName eq 'env' and tagValue eq 'x'", True),
    ("plan/publisher eq 'p'", False),
    ("name eq 'it''s'", False),
])
def test_filter_table(text, matches):
    res = {"id": "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Compute/disks/d1",
           "name": "d1", "type": "Microsoft.Compute/disks", "location": "westeurope",
           "tags": {"Env": "x"}}
    pred, _hide = resource_filter.parse(text)
    assert pred(res) is matches


# -- VM sizes ------------------------------------------------------------------------------
def test_vm_sizes_of_a_region(compute):
    sizes = {s.name: s for s in compute.virtual_machine_sizes.list("westeurope")}
    assert {"Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5", "Standard_D4as_v5",
            "Standard_NV12ads_A10_v5"} <= set(sizes)
    d4 = sizes["Standard_D4s_v5"]
    assert (d4.number_of_cores, d4.memory_in_mb, d4.resource_disk_size_in_mb,
            d4.max_data_disk_count, d4.os_disk_size_in_mb) == (4, 16384, 0, 8, 1047552)
    assert sizes["Standard_D4ds_v5"].resource_disk_size_in_mb == 153600


def test_vm_sizes_of_unknown_region_is_refused(compute):
    with pytest.raises(HttpResponseError) as exc:
        list(compute.virtual_machine_sizes.list("atlantis"))
    assert exc.value.status_code == 400
    assert _error(exc)[0] == "LocationNotAvailableForResourceType"
