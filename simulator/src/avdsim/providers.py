"""The resource providers the simulator serves: their resource types, api-versions and
locations (their api-versions come from ``avdsim.apiversions``, the one table, which the
request stage checks), and each subscription's registration state.

Shapes follow ``Provider`` / ``ProviderResourceType`` of Microsoft.Resources
(azure-rest-api-specs specification/resources/resource-manager/Microsoft.Resources/stable/
2024-11-01/resources.json, example GetProvider.json): ``id``, ``namespace``,
``registrationState``, ``registrationPolicy``, ``resourceTypes[]`` of ``{resourceType,
locations (display names), apiVersions (newest first), capabilities}``.

Registration (https://learn.microsoft.com/azure/azure-resource-manager/management/
resource-providers-and-types): ``POST .../providers/{ns}/register`` answers the provider in
``Registering`` and it becomes ``Registered`` a little later; ``unregister`` goes through
``Unregistering`` to ``Unregistered``. A write to a resource type of a provider that is not
registered is refused with 409 ``MissingSubscriptionRegistration`` (the error body ARM sends,
with the namespace as ``details[0].target``: Azure/azure-sdk-for-node#2305,
Azure/msrestazure-for-python#53)."""

from __future__ import annotations

from .errors import ArmError
from .apiversions import SUPPORTED
from .regions import LOCATIONS

_ALL = tuple(LOCATIONS.values())
_GLOBAL = ()  # resource types without a region (locations: [])


def _v(resource_type: str) -> tuple[str, ...]:
    """The api-versions of ``resource_type`` from ``avdsim.apiversions`` (the one table, with
    its sources), newest first as ARM lists them."""
    by_lower = {key.lower(): versions for key, versions in SUPPORTED.items()}
    return tuple(sorted(by_lower[resource_type.lower()], reverse=True))


_TAGS_LOC = "SupportsTags, SupportsLocation"
_MOVE = "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, " + _TAGS_LOC

# namespace -> resource type -> (locations, capabilities)
_TYPES = {
    "Microsoft.Compute": {
        "virtualMachines": (_ALL, _MOVE),
        "virtualMachines/extensions": (_ALL, _TAGS_LOC),
        "virtualMachines/runCommands": (_ALL, _TAGS_LOC),
        "restorePointCollections": (_ALL, _TAGS_LOC),
        "restorePointCollections/restorePoints": (_ALL, "None"),
        "locations": (_GLOBAL, "None"),
        "locations/operations": (_ALL, "None"),
        "locations/vmSizes": (_ALL, "None"),
        "disks": (_ALL, _MOVE),
        "snapshots": (_ALL, _MOVE),
        "locations/DiskOperations": (_ALL, "None"),
        "galleries": (_ALL, _MOVE),
        "galleries/images": (_ALL, _TAGS_LOC),
        "galleries/images/versions": (_ALL, _TAGS_LOC),
        "locations/capsOperations": (_ALL, "None"),
    },
    "Microsoft.Network": {
        "virtualNetworks": (_ALL, _MOVE),
        "virtualNetworks/subnets": (_ALL, "None"),
        "networkInterfaces": (_ALL, _MOVE),
        "networkSecurityGroups": (_ALL, _MOVE),
        "networkSecurityGroups/securityRules": (_ALL, "None"),
        "locations": (_GLOBAL, "None"),
        "locations/operations": (_ALL, "None"),
        "locations/operationResults": (_ALL, "None"),
    },
    "Microsoft.DesktopVirtualization": {
        "hostpools": (_ALL, _MOVE),
        "hostpools/sessionhosts": (_ALL, "None"),
        "hostpools/sessionhosts/usersessions": (_ALL, "None"),
        "hostpools/usersessions": (_ALL, "None"),
        "applicationgroups": (_ALL, _MOVE),
        "workspaces": (_ALL, _MOVE),
    },
    "Microsoft.Resources": {
        "subscriptions": (_GLOBAL, "None"),
        "tenants": (_GLOBAL, "None"),
        "resourceGroups": (_ALL, "SupportsTags, SupportsLocation"),
        "resources": (_GLOBAL, "None"),
        "providers": (_GLOBAL, "None"),
        "subscriptions/resourceGroups": (_ALL, "None"),
        "subscriptions/resources": (_GLOBAL, "None"),
        "subscriptions/providers": (_GLOBAL, "None"),
        "subscriptions/operationresults": (_GLOBAL, "None"),
        "subscriptions/locations": (_GLOBAL, "None"),
    },
}
# ARM lists Microsoft.Resources' subscription-level types with a ``subscriptions/`` prefix; the
# api-version table names them without it.
_TABLE_NAME = {"subscriptions/" + t: t for t in ("resourceGroups", "resources", "providers",
                                                 "operationresults", "locations")}

# namespace -> resource type -> (api-versions, locations, capabilities)
REGISTRY = {ns: {rtype: (_v(f"{ns}/{_TABLE_NAME.get(rtype, rtype)}"), locations, caps)
                 for rtype, (locations, caps) in types.items()}
            for ns, types in _TYPES.items()}
# Microsoft.Resources needs no registration (ARM itself); the others start registered
# unless the scenario lists them under ``unregistered_providers``.
REGISTRATION_FREE = ("Microsoft.Resources",)


def namespace_of(name: str) -> str | None:
    """The registry's spelling of namespace ``name`` (case-insensitive), or None."""
    for ns in REGISTRY:
        if ns.lower() == str(name).lower():
            return ns
    return None


def api_versions(namespace: str, resource_type: str) -> tuple[str, ...]:
    """Supported api-versions of ``namespace``/``resource_type`` (``virtualMachines``,
    ``galleries/images``; case-insensitive), newest first; () when the simulator does not
    know the type. The one source of api-version data."""
    ns = namespace_of(namespace)
    for rtype, (versions, _loc, _cap) in REGISTRY.get(ns, {}).items():
        if rtype.lower() == str(resource_type).lower():
            return versions
    return ()


def resource_types(namespace: str) -> list[dict]:
    """``resourceTypes[]`` of a provider as ARM returns them."""
    return [{"resourceType": rtype, "locations": list(locations), "apiVersions": list(versions),
             "capabilities": caps}
            for rtype, (versions, locations, caps) in REGISTRY[namespace_of(namespace)].items()]


# -- registration state --------------------------------------------------------------------
def init_state(sim, unregistered=()) -> None:
    sim.provider_registration = {}
    for sub in sim.subscriptions:
        sim.provider_registration[sub] = {
            ns: ("NotRegistered" if ns in unregistered else "Registered") for ns in REGISTRY}


def state(sim, sub: str, namespace: str) -> str:
    return sim.provider_registration.get(sub.lower(), {}).get(namespace_of(namespace),
                                                               "NotRegistered")


def set_state(sim, sub: str, namespace: str, value: str) -> None:
    sim.provider_registration.setdefault(sub.lower(), {})[namespace_of(namespace)] = value


def provider_body(sim, sub: str, namespace: str) -> dict:
    ns = namespace_of(namespace)
    free = ns in REGISTRATION_FREE
    return {"id": f"/subscriptions/{sub}/providers/{ns}", "namespace": ns,
            "registrationState": "Registered" if free else state(sim, sub, ns),
            "registrationPolicy": "RegistrationFree" if free else "RegistrationRequired",
            "resourceTypes": resource_types(ns)}


def missing_registration(namespace: str, current: str = "NotRegistered") -> ArmError:
    """Both spellings ARM uses: never registered, or registration in another state
    (``Unregistered``, ``Registering``; the KeyVault body of Azure/azure-sdk-for-node#2305)."""
    if current == "NotRegistered":
        msg = (f"The subscription is not registered to use namespace '{namespace}'. See "
               "https://aka.ms/rps-not-found for how to register subscriptions.")
    else:
        msg = (f"The subscription registration is in '{current}' state. The subscription must "
               f"be registered to use namespace '{namespace}'. See https://aka.ms/rps-not-found "
               "for how to register subscriptions.")
    return ArmError(409, "MissingSubscriptionRegistration", msg,
                    details=[{"code": "MissingSubscriptionRegistration", "target": namespace,
                              "message": msg}])


def require_registered(sim, req, client=None) -> None:
    """Request stage: a write (PUT/PATCH/POST/DELETE) to a resource in a resource group whose
    provider the subscription has not registered answers 409 MissingSubscriptionRegistration
    (ARM checks this before the provider sees the request)."""
    if req.method not in ("PUT", "PATCH", "POST", "DELETE") or not req.subscription_id:
        return
    template = (req.template or "").lower()
    if "{resourcegroupname}/providers/" not in template:
        return
    ns = namespace_of(req.path.split("/providers/", 1)[1].split("/", 1)[0])
    if ns is None or ns in REGISTRATION_FREE:
        return
    current = state(sim, req.subscription_id, ns)
    if current != "Registered":
        raise missing_registration(ns, current)
