"""The ARM surface every generic client reads first (the Azure CLI, azure.azcollection):
subscriptions, tenants, locations, resource providers and their registration, the generic
resource list and the VM sizes of a region.

Sources: Microsoft.Resources resources.json (Providers_*, Resources_List*) and
subscriptions.json (Subscriptions_List, Subscriptions_ListLocations, Tenants_List) in
azure-rest-api-specs specification/resources/resource-manager/Microsoft.Resources/stable;
ComputeRP VirtualMachineSizes_List (specification/compute/resource-manager/Microsoft.Compute)."""

from __future__ import annotations

from . import providers, resource_filter
from .arm import RG, SUB, norm_location, paged, require_rg, subscription_body
from .errors import ArmError
from .routing import route
from .vmsizes import vm_sizes


@route("GET", "/subscriptions")
def list_subscriptions(sim, req):
    return paged(sim, req, [subscription_body(s) for s in sim.subscriptions.values()])


@route("GET", "/tenants")
def list_tenants(sim, req):
    """``TenantIdDescription`` of the simulator's one tenant (Tenants_List)."""
    tid = sim.identity.tenant_id
    return paged(sim, req, [{"id": f"/tenants/{tid}", "tenantId": tid,
                             "tenantCategory": "Home", "country": "NL", "countryCode": "NL",
                             "displayName": "avdsim", "domains": ["avdsim.onmicrosoft.com"],
                             "defaultDomain": "avdsim.onmicrosoft.com",
                             "tenantType": "AAD"}])


@route("GET", SUB + "/locations")
def list_locations(sim, req):
    """``Location`` entries (Subscriptions_ListLocations): the regions the simulator knows."""
    return {"value": [{"id": f"/subscriptions/{req.subscription_id}/locations/{name}",
                       "name": name, "type": "Region", "displayName": display,
                       "metadata": {"regionType": "Physical", "regionCategory": "Recommended"}}
                      for name, display in providers.LOCATIONS.items()]}


# -- resource providers --------------------------------------------------------------------
def _namespace(req) -> str:
    ns = providers.namespace_of(req.param("namespace"))
    if ns is None:  # ARM's answer for a namespace it does not know (Azure/aci-connector-k8s#13)
        raise ArmError(404, "InvalidResourceNamespace",
                       f"The resource namespace '{req.param('namespace')}' is invalid.")
    return ns


@route("GET", SUB + "/providers")
def list_providers(sim, req):
    return paged(sim, req, [providers.provider_body(sim, req.subscription_id, ns)
                            for ns in providers.REGISTRY])


@route("GET", SUB + "/providers/{namespace}")
def get_provider(sim, req):
    return providers.provider_body(sim, req.subscription_id, _namespace(req))


def _transition(sim, req, passing: str, final: str) -> dict:
    """Registration moves through ``passing`` to ``final`` after the simulated registration
    time (Providers_Register / Providers_Unregister answer 200 with the provider)."""
    sub, ns = req.subscription_id, _namespace(req)
    if ns in providers.REGISTRATION_FREE or providers.state(sim, sub, ns) == final:
        return providers.provider_body(sim, sub, ns)
    providers.set_state(sim, sub, ns, passing)

    def done():
        if providers.state(sim, sub, ns) == passing:
            providers.set_state(sim, sub, ns, final)

    sim.schedule(sim.duration("provider_registration"), done)
    return providers.provider_body(sim, sub, ns)


@route("POST", SUB + "/providers/{namespace}/register")
def register_provider(sim, req):
    return _transition(sim, req, "Registering", "Registered")


@route("POST", SUB + "/providers/{namespace}/unregister")
def unregister_provider(sim, req):
    return _transition(sim, req, "Unregistering", "Unregistered")


# -- generic resources ---------------------------------------------------------------------
_EXPANDABLE = ("provisioningState",)


def _generic(res: dict, hide_tags: bool, expand: set) -> dict:
    """``GenericResourceExpanded``: the envelope, never the properties."""
    out = {k: res[k] for k in ("id", "name", "type", "location", "kind", "managedBy", "sku",
                               "plan", "identity", "extendedLocation") if k in res}
    if res.get("tags") and not hide_tags:
        out["tags"] = dict(res["tags"])
    if "provisioningState" in expand:
        out["provisioningState"] = (res.get("properties") or {}).get("provisioningState")
    return out


def _expand(req) -> set:
    raw = req.query.get("$expand") or ""
    wanted = {e.strip() for e in raw.split(",") if e.strip()}
    unknown = [e for e in wanted if e not in _EXPANDABLE]
    if unknown:
        raise ArmError(400, "InvalidExpandInQueryString",
                       f"The $expand value '{raw}' is not supported; avdsim supports "
                       f"{', '.join(_EXPANDABLE)}.")
    return wanted


def _top(req) -> int | None:
    raw = req.query.get("$top")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ArmError(400, "InvalidQueryParameterValue",
                       f"The value '{raw}' of query parameter '$top' is invalid: a positive "
                       "integer is expected.")
    return int(raw)


def _tracked(prefix: str, sim) -> list[dict]:
    """Tracked resources (with a location) of every provider, resource groups excluded."""
    return [r for r in sim.store.list(prefix=prefix)
            if "location" in r and "/providers/" in r["id"]
            and r.get("type") != "Microsoft.Resources/resourceGroups"]


def _list_resources(sim, req, prefix: str) -> dict:
    pred, hide_tags = resource_filter.parse(req.query.get("$filter"))
    top, expand = _top(req), _expand(req)
    items = [_generic(r, hide_tags, expand) for r in _tracked(prefix, sim) if pred(r)]
    if top is not None:
        items = items[:top]
    return paged(sim, req, items)


@route("GET", SUB + "/resources")
def list_resources(sim, req):
    return _list_resources(sim, req, f"/subscriptions/{req.subscription_id}/")


@route("GET", RG + "/resources")
def list_resources_in_group(sim, req):
    rg = require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    return _list_resources(sim, req, rg["id"] + "/")


# -- VM sizes ------------------------------------------------------------------------------
@route("GET", SUB + "/providers/Microsoft.Compute/locations/{location}/vmSizes")
def list_vm_sizes(sim, req):
    loc = norm_location(req.param("location"))
    if loc not in providers.LOCATIONS:
        raise ArmError(400, "LocationNotAvailableForResourceType",
                       f"The provided location '{loc}' is not available for resource type "
                       "'Microsoft.Compute/locations/vmSizes'. List of available regions for "
                       f"the resource type is '{','.join(providers.LOCATIONS)}'.")
    return {"value": vm_sizes()}


def register(sim):
    providers.init_state(sim)

    def load_unregistered(sim, namespaces):
        for ns in namespaces:
            if providers.namespace_of(ns) is None:
                raise ValueError(f"scenario unregistered_providers: unknown namespace '{ns}'")
            providers.set_state(sim, sim.subscription_id, ns, "NotRegistered")

    sim.scenario_section("unregistered_providers", load_unregistered, 5)
    sim.state_sections["provider_registration"] = lambda sim: {
        sub: dict(states) for sub, states in sim.provider_registration.items()}
