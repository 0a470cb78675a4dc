"""Host pools: validated PUT/PATCH (full replacement of the writable properties), GET,
DELETE (``force`` takes the session hosts with it) and the lists."""

from __future__ import annotations

import json
from typing import Optional

from ..errors import ArmError
from ..routing import route
from ..users import LoadProfile, PoolUsers
from .common import (
    HP,
    HP_TYPE,
    RG,
    SUB,
    bad_request,
    check_name,
    enum,
    is_forced,
    new_etag,
    optional_bool,
    optional_str,
    properties_of,
    require_rg,
    sim_seconds,
    system_data,
    validate_tags,
)
from .paging import page
from .registration import apply_registration, delete_token, registration_info, registration_request
from .session_hosts import remove_host
from .state import Pool, capacity_changed, pool_id, pool_of

HOST_POOL_TYPES = ("Personal", "Pooled", "BYODesktop")
LOAD_BALANCER_TYPES = ("BreadthFirst", "DepthFirst", "Persistent")
APP_GROUP_TYPES = ("None", "Desktop", "RailApplications")
PERSONAL_ASSIGNMENT = ("Automatic", "Direct")
SSO_SECRET_TYPES = ("SharedKey", "Certificate", "SharedKeyInKeyVault", "CertificateInKeyVault")
PUBLIC_NETWORK_ACCESS = ("Enabled", "Disabled", "EnabledForSessionHostsOnly", "EnabledForClientsOnly")
DEFAULT_MAX_SESSION_LIMIT = 999999
DEFAULT_RDP = ("drivestoredirect:s:*;audiomode:i:0;videoplaybackmode:i:1;redirectclipboard:i:1;"
               "redirectprinters:i:1;devicestoredirect:s:*;redirectcomports:i:1;redirectsmartcards:i:1;"
               "usbdevicestoredirect:s:*;enablecredsspsupport:i:1;redirectwebauthn:i:1;use multimon:i:1;")

PATCHABLE = ("friendlyName", "description", "customRdpProperty", "maxSessionLimit",
             "personalDesktopAssignmentType", "loadBalancerType", "ring", "validationEnvironment",
             "vmTemplate", "ssoadfsAuthority", "ssoClientId", "ssoClientSecretKeyVaultPath",
             "ssoSecretType", "preferredAppGroupType", "startVMOnConnect", "publicNetworkAccess",
             "agentUpdate")


def render_pool(sim, pool: Pool, for_get: bool = True) -> dict:
    body = sim.store.get(pool.id)
    out = json.loads(json.dumps(body))
    out["properties"]["registrationInfo"] = registration_info(sim, pool, for_get)
    return out


# ----- validation ------------------------------------------------------------------------------
def _session_limit(props: dict, host_pool_type: str):
    limit = props.get("maxSessionLimit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise bad_request("maxSessionLimit must be a non-negative integer.")
    if limit is None and host_pool_type == "Pooled":
        limit = DEFAULT_MAX_SESSION_LIMIT
    return limit


def _ring(props: dict):
    ring = props.get("ring")
    if ring is not None and (isinstance(ring, bool) or not isinstance(ring, int)):
        raise bad_request("ring must be an integer.")
    return ring


def _check_pool_type_rules(host_pool_type: str, load_balancer: str) -> None:
    if host_pool_type == "Pooled" and load_balancer == "Persistent":
        raise bad_request("A pooled host pool cannot use the Persistent load balancer; use "
                          "BreadthFirst or DepthFirst.")
    if host_pool_type != "Pooled" and load_balancer != "Persistent":
        raise bad_request("A %s host pool must use the Persistent load balancer." % host_pool_type)


def _pool_properties(props: dict, existing: Optional[dict], object_id: str = "") -> dict:
    """Validated properties of a PUT (full replacement; read-only ones are kept)."""
    host_pool_type = enum(props, "hostPoolType", HOST_POOL_TYPES, required=True)
    load_balancer = enum(props, "loadBalancerType", LOAD_BALANCER_TYPES, required=True)
    app_group = enum(props, "preferredAppGroupType", APP_GROUP_TYPES, required=True)
    if existing and existing["hostPoolType"] != host_pool_type:
        raise bad_request("The hostPoolType of an existing host pool cannot be changed (it is %s)."
                          % existing["hostPoolType"])
    _check_pool_type_rules(host_pool_type, load_balancer)
    limit = _session_limit(props, host_pool_type)
    ring = _ring(props)
    kept = existing or {}
    rdp = props.get("customRdpProperty")
    out = {
        "friendlyName": optional_str(props, "friendlyName"),
        "description": optional_str(props, "description"),
        "hostPoolType": host_pool_type,
        "personalDesktopAssignmentType": enum(props, "personalDesktopAssignmentType", PERSONAL_ASSIGNMENT),
        "applicationGroupReferences": kept.get("applicationGroupReferences", []),
        "appAttachPackageReferences": kept.get("appAttachPackageReferences", []),
        "customRdpProperty": rdp if rdp is not None else DEFAULT_RDP,
        "maxSessionLimit": limit,
        "loadBalancerType": load_balancer,
        "validationEnvironment": optional_bool(props, "validationEnvironment", False),
        "ring": ring,
        "registrationInfo": None,
        "vmTemplate": optional_str(props, "vmTemplate"),
        "preferredAppGroupType": app_group,
        "cloudPcResource": False,
        "startVMOnConnect": optional_bool(props, "startVMOnConnect", False),
        "ssoadfsAuthority": optional_str(props, "ssoadfsAuthority"),
        "ssoClientId": optional_str(props, "ssoClientId"),
        "ssoClientSecretKeyVaultPath": optional_str(props, "ssoClientSecretKeyVaultPath"),
        "ssoSecretType": enum(props, "ssoSecretType", SSO_SECRET_TYPES),
        "publicNetworkAccess": enum(props, "publicNetworkAccess", PUBLIC_NETWORK_ACCESS, default="Enabled"),
        "objectId": kept.get("objectId") or object_id,
    }
    if isinstance(props.get("agentUpdate"), dict):
        out["agentUpdate"] = props["agentUpdate"]
    return out


def _sync_pool_users(sim, pool: Pool) -> None:
    props = sim.store.get(pool.id)["properties"]
    pool.users.configure(sim_seconds(sim), props["hostPoolType"], props["loadBalancerType"],
                         props["maxSessionLimit"])
    capacity_changed(sim, pool)


# ----- writes ------------------------------------------------------------------------------------
def _check_put_body(sim, name: str, body: dict, existing_body: Optional[dict]) -> None:
    check_name(name, "host pool", 64)
    if not isinstance(body.get("properties"), dict):
        raise bad_request("The request body must contain 'properties'.")
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    from ..arm import norm_location
    if existing_body and norm_location(body["location"]) != norm_location(existing_body["location"]):
        raise bad_request("The location of an existing host pool cannot be changed.")


def _new_pool(sim, rid: str, sub: str, rg: str, name: str, props: dict) -> Pool:
    state = sim.avd
    profile = LoadProfile.from_dict(dict(state.default_profile, target_concurrent_users=0))
    users = PoolUsers(name, profile, props["hostPoolType"], props["loadBalancerType"],
                      props["maxSessionLimit"], now_s=sim_seconds(sim),
                      on_capacity=lambda _u, _t, _a, _f, rid=rid: _on_capacity(sim, rid))
    users.muted = state.loading
    pool = state.pools[rid.lower()] = Pool(rid, sub, rg, name, users)
    return pool


def _on_capacity(sim, rid: str) -> None:
    pool = sim.avd.pools.get(rid.lower())
    if pool is not None and sim.store.get(pool.id) is not None:
        capacity_changed(sim, pool)


def create_or_replace_pool(sim, sub: str, rg: str, name: str, body: dict) -> tuple:
    rid = pool_id(sub, rg, name)
    existing_body = sim.store.get(rid)
    _check_put_body(sim, name, body, existing_body)
    existing = existing_body["properties"] if existing_body else None
    tags = validate_tags(body.get("tags"))
    props = _pool_properties(body["properties"], existing, sim.avd.new_uuid())
    registration = registration_request(sim, body["properties"].get("registrationInfo"))
    pool = sim.avd.pools.get(rid.lower()) or _new_pool(sim, rid, sub, rg, name, props)
    apply_registration(sim, pool, registration)
    stored = {
        "identity": None,
        "name": name,
        "id": rid,
        "type": HP_TYPE,
        "location": body["location"] if not existing_body else existing_body["location"],
        "tags": tags or None,
        "kind": body.get("kind"),
        "etag": new_etag(sim),
        "systemData": system_data(sim, existing_body and existing_body.get("systemData")),
        "properties": props,
    }
    sim.store.put(rid, stored)
    _sync_pool_users(sim, pool)
    sim.hooks.emit("resource.written", resource_id=rid, resource=stored)
    return (200 if existing_body else 201), render_pool(sim, pool, for_get=False)


def update_pool(sim, pool: Pool, body: dict) -> dict:
    """PATCH of a host pool: the patchable properties, validated as a PUT of the result."""
    stored = sim.store.get(pool.id)
    props = dict(stored["properties"])
    patch = properties_of(body)
    merged = dict(props)
    for key in PATCHABLE:
        if key in patch:
            merged[key] = patch[key]
    # Validate the merged result the way a PUT would be validated.
    validated = _pool_properties(merged, props)
    if "maxSessionLimit" in patch and patch["maxSessionLimit"] is None:
        validated["maxSessionLimit"] = props["maxSessionLimit"]
    registration = registration_request(sim, patch.get("registrationInfo"))
    tags = validate_tags(body.get("tags")) if "tags" in body else None
    apply_registration(sim, pool, registration)
    if "tags" in body:
        stored["tags"] = tags or None
    stored["properties"] = validated
    stored["etag"] = new_etag(sim)
    stored["systemData"] = system_data(sim, stored.get("systemData"))
    _sync_pool_users(sim, pool)
    sim.hooks.emit("resource.written", resource_id=pool.id, resource=stored)
    return render_pool(sim, pool, for_get=False)


def delete_pool(sim, sub: str, rg: str, name: str, force: bool = False) -> tuple:
    require_rg(sim, sub, rg)
    pool = sim.avd.pool(sub, rg, name)
    if pool is None or sim.store.get(pool.id) is None:
        return 204, None
    if pool.hosts and not force:
        raise bad_request("The host pool '%s' still has %d session host(s). Remove them first, or "
                          "delete with force=true." % (name, len(pool.hosts)))
    body = render_pool(sim, pool, for_get=False)
    sim.store.delete(pool.id)
    retire_pool(sim, pool, "host pool deleted with force")
    return 200, body


def retire_pool(sim, pool: Pool, reason: str) -> None:
    """A host pool is gone: its hosts go with it; its user history stays in the metrics."""
    pool.users.muted = True  # no capacity dips recorded (or floor checked) host by host
    for key in list(pool.hosts):
        remove_host(sim, pool, key, reason)
    delete_token(sim, pool)
    pool.users.muted = False
    pool.users.record_capacity(sim_seconds(sim))  # the pool's capacity is now 0
    sim.avd.retired.append(pool.users)
    del sim.avd.pools[pool.id.lower()]


def _listed_pools(sim, sub: str, rg: Optional[str] = None) -> list:
    return [p for p in sim.avd.pools.values() if sim.store.get(p.id) is not None
            and p.sub.lower() == sub.lower() and (rg is None or p.rg.lower() == rg.lower())]


# ----- routes ------------------------------------------------------------------------------------
@route("PUT", HP)
def put_host_pool(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    return create_or_replace_pool(sim, sub, rg, req.param("hostPoolName"), req.json())


@route("GET", HP)
def get_host_pool(sim, req):
    return render_pool(sim, pool_of(sim, req))


@route("PATCH", HP)
def patch_host_pool(sim, req):
    pool = pool_of(sim, req)
    return update_pool(sim, pool, req.json_or_empty())


@route("DELETE", HP)
def delete_host_pool(sim, req):
    return delete_pool(sim, req.subscription_id, req.param("resourceGroupName"),
                       req.param("hostPoolName"), force=is_forced(req))


@route("GET", RG + "/providers/Microsoft.DesktopVirtualization/hostPools")
def list_host_pools_rg(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    return page(sim, req, [render_pool(sim, p) for p in _listed_pools(sim, sub, rg)])


@route("GET", SUB + "/providers/Microsoft.DesktopVirtualization/hostPools")
def list_host_pools_sub(sim, req):
    sub = req.subscription_id
    return page(sim, req, [render_pool(sim, p) for p in _listed_pools(sim, sub)])
