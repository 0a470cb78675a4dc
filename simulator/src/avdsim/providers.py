"""The resource providers the simulator serves: their resource types, api-versions and
locations (the ONE table; ``api_versions(namespace, resource_type)`` is what any other stage
should read), and each subscription's registration state.

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

# Regions the simulator knows: name -> display name (GET /subscriptions/{id}/locations).
LOCATIONS = {
    "westeurope": "West Europe", "northeurope": "North Europe", "swedencentral": "Sweden Central",
    "germanywestcentral": "Germany West Central", "francecentral": "France Central",
    "uksouth": "UK South", "eastus": "East US", "eastus2": "East US 2", "westus2": "West US 2",
    "centralus": "Central US",
}
_ALL = tuple(LOCATIONS.values())
_GLOBAL = ()  # resource types without a region (locations: [])

# api-versions, newest first (including those the pinned SDKs send: azure-mgmt-compute 39.0.0
# ComputeRP 2026-04-01, DiskRP 2026-03-02, GalleryRP 2026-03-03; azure-mgmt-network 33.1.0
# 2026-03-01; azure-mgmt-resource 26.0.0 2025-04-01; desktopvirtualization 2.0.0 2024-04-03). Compute: the versions of ComputeRP/DiskRP/GalleryRP in
# azure-rest-api-specs specification/compute/resource-manager/Microsoft.Compute (stable);
# Network: specification/network/resource-manager/Microsoft.Network/stable;
# DesktopVirtualization: specification/desktopvirtualization/.../stable;
# Resources: specification/resources/resource-manager/Microsoft.Resources/stable.
_COMPUTE_RP = ("2026-04-01", "2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01",
               "2023-09-01", "2023-07-01", "2023-03-01", "2022-11-01", "2022-08-01",
               "2022-03-01", "2021-11-01", "2021-07-01", "2021-04-01", "2021-03-01",
               "2020-12-01", "2020-06-01")
_DISK_RP = ("2026-03-02", "2025-01-02", "2024-03-02", "2023-10-02", "2023-04-02", "2023-01-02",
            "2022-07-02", "2022-03-02", "2021-12-01", "2021-08-01", "2021-04-01",
            "2020-12-01")
_GALLERY_RP = ("2026-03-03", "2025-03-03", "2024-03-03", "2023-07-03", "2022-08-03", "2022-03-03",
               "2022-01-03", "2021-10-01", "2021-07-01", "2020-09-30")
_NETWORK = ("2026-03-01", "2026-01-01", "2025-09-01", "2025-07-01", "2025-05-01",
            "2025-03-01", "2025-01-01", "2024-10-01", "2024-07-01", "2024-05-01",
            "2024-03-01", "2024-01-01", "2023-11-01",
            "2023-09-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-02-01",
            "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01",
            "2021-08-01", "2021-05-01", "2021-03-01", "2021-02-01", "2020-11-01",
            "2020-08-01", "2020-07-01", "2020-06-01", "2020-05-01")
_DESKTOP = ("2024-04-03", "2024-04-08-preview", "2024-01-16-preview", "2023-09-05",
            "2023-09-05-preview", "2022-09-09", "2022-02-10-preview", "2021-07-12")
_RESOURCES = ("2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-12-01",
              "2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-06-01",
              "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10", "2018-05-01",
              "2016-09-01", "2016-06-01", "2016-02-01", "2015-11-01", "2014-04-01")
_SUBSCRIPTIONS = ("2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01",
                  "2018-06-01", "2016-06-01", "2015-11-01", "2014-04-01")

_TAGS_LOC = "SupportsTags, SupportsLocation"
_MOVE = "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, " + _TAGS_LOC

# namespace -> resource type -> (api-versions, locations, capabilities)
REGISTRY = {
    "Microsoft.Compute": {
        "virtualMachines": (_COMPUTE_RP, _ALL, _MOVE),
        "virtualMachines/extensions": (_COMPUTE_RP, _ALL, _TAGS_LOC),
        "virtualMachines/runCommands": (_COMPUTE_RP, _ALL, _TAGS_LOC),
        "restorePointCollections": (_COMPUTE_RP, _ALL, _TAGS_LOC),
        "restorePointCollections/restorePoints": (_COMPUTE_RP, _ALL, "None"),
        "locations": (_COMPUTE_RP, _GLOBAL, "None"),
        "locations/operations": (_COMPUTE_RP, _ALL, "None"),
        "locations/vmSizes": (_COMPUTE_RP, _ALL, "None"),
        "disks": (_DISK_RP, _ALL, _MOVE),
        "snapshots": (_DISK_RP, _ALL, _MOVE),
        "locations/DiskOperations": (_DISK_RP, _ALL, "None"),
        "galleries": (_GALLERY_RP, _ALL, _MOVE),
        "galleries/images": (_GALLERY_RP, _ALL, _TAGS_LOC),
        "galleries/images/versions": (_GALLERY_RP, _ALL, _TAGS_LOC),
        "locations/capsOperations": (_GALLERY_RP, _ALL, "None"),
    },
    "Microsoft.Network": {
        "virtualNetworks": (_NETWORK, _ALL, _MOVE),
        "virtualNetworks/subnets": (_NETWORK, _ALL, "None"),
        "networkInterfaces": (_NETWORK, _ALL, _MOVE),
        "networkSecurityGroups": (_NETWORK, _ALL, _MOVE),
        "networkSecurityGroups/securityRules": (_NETWORK, _ALL, "None"),
        "locations": (_NETWORK, _GLOBAL, "None"),
        "locations/operations": (_NETWORK, _ALL, "None"),
        "locations/operationResults": (_NETWORK, _ALL, "None"),
    },
    "Microsoft.DesktopVirtualization": {
        "hostpools": (_DESKTOP, _ALL, _MOVE),
        "hostpools/sessionhosts": (_DESKTOP, _ALL, "None"),
        "hostpools/sessionhosts/usersessions": (_DESKTOP, _ALL, "None"),
        "hostpools/usersessions": (_DESKTOP, _ALL, "None"),
        "applicationgroups": (_DESKTOP, _ALL, _MOVE),
        "workspaces": (_DESKTOP, _ALL, _MOVE),
    },
    "Microsoft.Resources": {
        "subscriptions": (_SUBSCRIPTIONS, _GLOBAL, "None"),
        "tenants": (_SUBSCRIPTIONS, _GLOBAL, "None"),
        "resourceGroups": (_RESOURCES, _ALL, "SupportsTags, SupportsLocation"),
        "resources": (_RESOURCES, _GLOBAL, "None"),
        "providers": (_RESOURCES, _GLOBAL, "None"),
        "subscriptions/resourceGroups": (_RESOURCES, _ALL, "None"),
        "subscriptions/resources": (_RESOURCES, _GLOBAL, "None"),
        "subscriptions/providers": (_RESOURCES, _GLOBAL, "None"),
        "subscriptions/operationresults": (_RESOURCES, _GLOBAL, "None"),
        "subscriptions/locations": (_SUBSCRIPTIONS, _GLOBAL, "None"),
    },
}
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
