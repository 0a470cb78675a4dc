"""Microsoft.DesktopVirtualization (api-version 2024-04-03): host pools, registration tokens,
session hosts (registered by the AVD agent through the VM's DSC extension) and user sessions,
with the user-load model of ``users.py`` and the invariant monitor of ``invariants.py``.

Wire details follow the real service (see the recording in
``azure-reference/recordings/azure-cli-extensions/test_desktopvirtualization_hostpool.yaml``):
ids come back with lower-case ``resourcegroups``/``hostpools``/``sessionhosts``, ``type`` is
``Microsoft.DesktopVirtualization/hostpools``, GET never carries the registration token, and
service errors read ``{"error": {"code": "400", "message": "ActivityId: <guid> Error: ..."}}``.
"""

from __future__ import annotations

import base64
import json
import random
import re
import uuid
from typing import Any, Dict, List, Optional
from urllib.parse import urlencode

from .errors import ArmError
from .invariants import (
    FLOOR_TAG,
    SecretRegistry,
    parse_floor,
    tag_value,
)
from .routing import route
from .users import LoadProfile, PoolUsers, aggregate_metrics

NS = "Microsoft.DesktopVirtualization"
HP_TYPE = NS + "/hostpools"
SH_TYPE = NS + "/hostpools/sessionhosts"
US_TYPE = NS + "/hostpools/sessionhosts/usersessions"

SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
HP = RG + "/providers/Microsoft.DesktopVirtualization/hostPools/{hostPoolName}"
SH = HP + "/sessionHosts/{sessionHostName}"
US = SH + "/userSessions/{userSessionId}"

HOST_POOL_TYPES = ("Personal", "Pooled", "BYODesktop")
LOAD_BALANCER_TYPES = ("BreadthFirst", "DepthFirst", "Persistent")
APP_GROUP_TYPES = ("None", "Desktop", "RailApplications")
TOKEN_OPERATIONS = ("Delete", "None", "Update")
PERSONAL_ASSIGNMENT = ("Automatic", "Direct")
SSO_SECRET_TYPES = ("SharedKey", "Certificate", "SharedKeyInKeyVault", "CertificateInKeyVault")
PUBLIC_NETWORK_ACCESS = ("Enabled", "Disabled", "EnabledForSessionHostsOnly", "EnabledForClientsOnly")

# Azure accepts a registration token lifetime of at least one hour and at most 30 days.
TOKEN_MIN_S = 3600.0
TOKEN_MAX_S = 30 * 86400.0
DEFAULT_MAX_SESSION_LIMIT = 999999
DEFAULT_RDP = ("drivestoredirect:s:*;audiomode:i:0;videoplaybackmode:i:1;redirectclipboard:i:1;"
               "redirectprinters:i:1;devicestoredirect:s:*;redirectcomports:i:1;redirectsmartcards:i:1;"
               "usbdevicestoredirect:s:*;enablecredsspsupport:i:1;redirectwebauthn:i:1;use multimon:i:1;")
AGENT_VERSION = "1.0.9742.1400"
SXS_VERSION = "rdp-sxs240919500"
DEFAULT_OS_VERSION = "10.0.22631.4460"

_NAME_RE = re.compile(r"^[A-Za-z0-9@.\-_ ]*$")
_FILTER_CLAUSE = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)

# Extensions the agent cares about.
DSC = ("microsoft.powershell", "dsc")
AAD_JOIN = ("microsoft.azure.activedirectory", "aadloginforwindows")
AD_JOIN = ("microsoft.compute", "jsonaddomainextension")

# Durations (simulated seconds) of the agent side, overridable in the scenario's
# ``desktop_virtualization.agent`` mapping.
AGENT_DEFAULTS = {
    "register_s": 150.0,     # DSC extension start -> agent installed and registered
    "boot_ready_s": 90.0,    # VM running again -> agent heartbeats, host Available
    "heartbeat_s": 30.0,     # lastHeartBeat granularity while the VM runs
}


# ----- errors as the Desktop Virtualization resource provider words them --------------------
def avd_error(status: int, message: str) -> ArmError:
    return ArmError(status, str(status), "ActivityId: %s Error: %s" % (uuid.uuid4(), message))


def bad_request(message: str) -> ArmError:
    return avd_error(400, message)


# ----- runtime state -------------------------------------------------------------------------
class Host:
    """A registered session host: what the broker knows about one VM's agent."""

    def __init__(self, name: str, vm_id: str, vm_uid: str, registered_s: float, created_iso: str):
        self.name = name
        self.vm_id = vm_id
        self.vm_uid = vm_uid
        self.object_id = str(uuid.uuid4())
        self.allow_new_session = True
        self.assigned_user: Optional[str] = None
        self.friendly_name: Optional[str] = None
        self.registered_s = registered_s
        self.created_iso = created_iso
        self.modified_iso = created_iso
        self.power = "running"  # running | stopped | deallocated | deleted
        self.ready_at_s = registered_s
        self.last_heartbeat_s = registered_s
        self.status_since_s = registered_s
        self.last_status = "Available"
        self.os_version = DEFAULT_OS_VERSION


class Pool:
    def __init__(self, pool_id: str, sub: str, rg: str, name: str, users: PoolUsers):
        self.id = pool_id
        self.sub = sub
        self.rg = rg
        self.name = name
        self.users = users
        self.token: Optional[Dict[str, Any]] = None  # {"value", "expires_s"}
        self.last_operation = "None"
        self.hosts: Dict[str, Host] = {}
        self.scenario_floor: Optional[int] = None
        self.below_floor = False


class AvdState:
    def __init__(self, sim, seed: int):
        self.sim = sim
        self.pools: Dict[str, Pool] = {}
        self.tokens: Dict[str, Dict[str, Any]] = {}  # value -> {"pool", "state", "expires_s"}
        self.registrations: Dict[str, Dict[str, Any]] = {}  # vm id (lower) -> pending agent work
        self.secrets = SecretRegistry()
        self.originals: set = set()
        self.rng = random.Random("avd/%s" % seed)
        self.agent = dict(AGENT_DEFAULTS)
        self.default_profile: Dict[str, Any] = {}

    def pool(self, sub: str, rg: str, name: str) -> Optional[Pool]:
        return self.pools.get(pool_id(sub, rg, name).lower())

    def host_of_vm(self, vm_id: str):
        for pool in self.pools.values():
            for key, host in pool.hosts.items():
                if host.vm_id.lower() == vm_id.lower():
                    return pool, key, host
        return None


def pool_id(sub: str, rg: str, name: str) -> str:
    return "/subscriptions/%s/resourcegroups/%s/providers/%s/hostpools/%s" % (sub, rg, NS, name)


def sim_seconds(sim) -> float:
    """Simulated seconds since the simulator started (the users model's time axis)."""
    return sim.now() - sim.clock.start


def _iso(sim, elapsed_s: float) -> str:
    from .clock import iso
    return iso(sim.clock.start + elapsed_s)


def state_of(sim) -> AvdState:
    return sim.avd


# ----- host pools ----------------------------------------------------------------------------
def _check_name(value: str, what: str, max_len: int) -> None:
    if not 3 <= len(value) <= max_len or not _NAME_RE.match(value):
        raise bad_request("The %s name '%s' is invalid: 3 to %d characters of letters, digits, "
                          "'@', '.', '-', '_' and spaces." % (what, value, max_len))


def _enum(props: dict, key: str, allowed, required: bool = False, default=None):
    value = props.get(key, default)
    if value is None:
        if required:
            raise bad_request("The property '%s' is required. Allowed values: %s."
                              % (key, ", ".join(allowed)))
        return None
    for option in allowed:
        if str(value).lower() == option.lower():
            return option
    raise bad_request("The value '%s' of property '%s' is invalid. Allowed values: %s."
                      % (value, key, ", ".join(allowed)))


def _optional_bool(props: dict, key: str, default):
    value = props.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise bad_request("The property '%s' must be a boolean." % key)
    return value


def _optional_str(props: dict, key: str):
    value = props.get(key)
    if value is not None and not isinstance(value, str):
        raise bad_request("The property '%s' must be a string." % key)
    return value


def _validate_tags(tags):
    from .arm import validate_tags
    return validate_tags(tags)


def _require_rg(sim, sub, rg):
    from .arm import require_rg
    return require_rg(sim, sub, rg)


def _host_pool_not_found(name: str, rg: str) -> ArmError:
    return ArmError(404, "ResourceNotFound",
                    "The Resource '%s/hostPools/%s' under resource group '%s' was not found. For more "
                    "details please go to https://aka.ms/ARMResourceNotFoundFix" % (NS, name, rg))


def _get_pool(sim, req) -> Pool:
    sub, rg, name = req.subscription_id, req.param("resourceGroupName"), req.param("hostPoolName")
    _require_rg(sim, sub, rg)
    pool = sim.avd.pool(sub, rg, name)
    if pool is None or sim.store.get(pool.id) is None:
        raise _host_pool_not_found(name, rg)
    return pool


def _mint_token(sim, pool: Pool, expires_s: float) -> None:
    """A new registration token for the pool; the previous one stops working."""
    state = sim.avd
    if pool.token is not None:
        state.tokens[pool.token["value"]]["state"] = "replaced"
    now = sim.now()
    header = {"alg": "RS256", "kid": "%040X" % state.rng.getrandbits(160), "typ": "JWT"}
    payload = {
        "RegistrationId": str(uuid.UUID(int=state.rng.getrandbits(128))),
        "BrokerURI": "https://rdbroker-g-eu-r0.wvd.microsoft.com/",
        "GlobalBrokerURI": "https://rdbroker.wvd.microsoft.com/",
        "GlobalBrokerResourceIdURI": "https://rdbroker.wvd.microsoft.com/",
        "HostPoolId": str(uuid.UUID(int=state.rng.getrandbits(128))),
        "nbf": int(now), "exp": int(sim.clock.start + expires_s),
        "iss": "RDInfraTokenManager", "aud": "RDmi",
    }

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    signature = bytes(state.rng.getrandbits(8) for _ in range(256))
    value = ".".join([b64(json.dumps(header, separators=(",", ":")).encode()),
                      b64(json.dumps(payload, separators=(",", ":")).encode()), b64(signature)])
    pool.token = {"value": value, "expires_s": expires_s}
    state.tokens[value] = {"pool": pool.id.lower(), "state": "valid", "expires_s": expires_s}
    state.secrets.add(value, "registration token of host pool %s" % pool.name)


def _delete_token(sim, pool: Pool) -> None:
    if pool.token is not None:
        sim.avd.tokens[pool.token["value"]]["state"] = "deleted"
    pool.token = None


def _apply_registration_info(sim, pool: Pool, info) -> None:
    if info is None:
        pool.last_operation = "None"
        return
    if not isinstance(info, dict):
        raise bad_request("registrationInfo must be an object.")
    if info.get("token"):
        raise bad_request("The registration token is read-only; use registrationTokenOperation.")
    operation = _enum(info, "registrationTokenOperation", TOKEN_OPERATIONS, default="None")
    if operation == "Update":
        raw = info.get("expirationTime")
        if not raw:
            raise bad_request("ExpirationTime value must be between one hour and 30 days from now")
        from .clock import parse_iso
        try:
            expires = parse_iso(str(raw))
        except ValueError:
            raise bad_request("The value '%s' of expirationTime is not a valid date-time." % raw) from None
        lifetime = expires - sim.now()
        if not TOKEN_MIN_S <= lifetime <= TOKEN_MAX_S:
            raise bad_request("ExpirationTime value must be between one hour and 30 days from now")
        _mint_token(sim, pool, expires - sim.clock.start)
    elif operation == "Delete":
        _delete_token(sim, pool)
    pool.last_operation = operation


def _token_expired(sim, pool: Pool) -> bool:
    return pool.token is not None and sim_seconds(sim) >= pool.token["expires_s"]


def _registration_info(sim, pool: Pool, for_get: bool):
    """GET shows no registration info at all (as the real service does); write responses show
    the expiry and the operation, never the token."""
    if for_get or pool.token is None:
        return None
    return {"expirationTime": _iso(sim, pool.token["expires_s"]), "token": None,
            "registrationTokenOperation": pool.last_operation}


def _render_pool(sim, pool: Pool, for_get: bool = True) -> dict:
    body = sim.store.get(pool.id)
    out = json.loads(json.dumps(body))
    out["properties"]["registrationInfo"] = _registration_info(sim, pool, for_get)
    return out


def _system_data(sim, created: Optional[dict] = None) -> dict:
    now = sim.now_iso()
    who = sim.identity.client_id
    data = {"createdBy": who, "createdByType": "Application", "createdAt": now,
            "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now}
    if created:
        for key in ("createdBy", "createdByType", "createdAt"):
            data[key] = created.get(key, data[key])
    return data


def _pool_properties(props: dict, existing: Optional[dict]) -> dict:
    """Validated properties of a PUT (full replacement; read-only ones are kept)."""
    host_pool_type = _enum(props, "hostPoolType", HOST_POOL_TYPES, required=True)
    load_balancer = _enum(props, "loadBalancerType", LOAD_BALANCER_TYPES, required=True)
    app_group = _enum(props, "preferredAppGroupType", APP_GROUP_TYPES, required=True)
    if existing and existing["hostPoolType"] != host_pool_type:
        raise bad_request("The hostPoolType of an existing host pool cannot be changed (it is %s)."
                          % existing["hostPoolType"])
    _check_pool_type_rules(host_pool_type, load_balancer)
    limit = props.get("maxSessionLimit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise bad_request("maxSessionLimit must be a non-negative integer.")
    if limit is None and host_pool_type == "Pooled":
        limit = DEFAULT_MAX_SESSION_LIMIT
    ring = props.get("ring")
    if ring is not None and (isinstance(ring, bool) or not isinstance(ring, int)):
        raise bad_request("ring must be an integer.")
    out = {
        "friendlyName": _optional_str(props, "friendlyName"),
        "description": _optional_str(props, "description"),
        "hostPoolType": host_pool_type,
        "personalDesktopAssignmentType": _enum(props, "personalDesktopAssignmentType", PERSONAL_ASSIGNMENT),
        "applicationGroupReferences": (existing or {}).get("applicationGroupReferences", []),
        "appAttachPackageReferences": (existing or {}).get("appAttachPackageReferences", []),
        "customRdpProperty": props.get("customRdpProperty") if props.get("customRdpProperty") is not None
        else DEFAULT_RDP,
        "maxSessionLimit": limit,
        "loadBalancerType": load_balancer,
        "validationEnvironment": _optional_bool(props, "validationEnvironment", False),
        "ring": ring,
        "registrationInfo": None,
        "vmTemplate": _optional_str(props, "vmTemplate"),
        "preferredAppGroupType": app_group,
        "cloudPcResource": False,
        "startVMOnConnect": _optional_bool(props, "startVMOnConnect", False),
        "ssoadfsAuthority": _optional_str(props, "ssoadfsAuthority"),
        "ssoClientId": _optional_str(props, "ssoClientId"),
        "ssoClientSecretKeyVaultPath": _optional_str(props, "ssoClientSecretKeyVaultPath"),
        "ssoSecretType": _enum(props, "ssoSecretType", SSO_SECRET_TYPES),
        "publicNetworkAccess": _enum(props, "publicNetworkAccess", PUBLIC_NETWORK_ACCESS, default="Enabled"),
        "objectId": (existing or {}).get("objectId") or str(uuid.uuid4()),
    }
    if isinstance(props.get("agentUpdate"), dict):
        out["agentUpdate"] = props["agentUpdate"]
    return out


def _check_pool_type_rules(host_pool_type: str, load_balancer: str) -> None:
    if host_pool_type == "Pooled" and load_balancer == "Persistent":
        raise bad_request("A pooled host pool cannot use the Persistent load balancer; use "
                          "BreadthFirst or DepthFirst.")
    if host_pool_type != "Pooled" and load_balancer != "Persistent":
        raise bad_request("A %s host pool must use the Persistent load balancer." % host_pool_type)


def _new_etag(sim) -> str:
    return '"%s"' % uuid.UUID(int=sim.avd.rng.getrandbits(128))


def _sync_pool_users(sim, pool: Pool) -> None:
    props = sim.store.get(pool.id)["properties"]
    pool.users.configure(sim_seconds(sim), props["hostPoolType"], props["loadBalancerType"],
                         props["maxSessionLimit"])
    check_floor(sim, pool)


def create_or_replace_pool(sim, sub: str, rg: str, name: str, body: dict) -> tuple:
    _check_name(name, "host pool", 64)
    if not isinstance(body.get("properties"), dict):
        raise bad_request("The request body must contain 'properties'.")
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    state = sim.avd
    rid = pool_id(sub, rg, name)
    existing_body = sim.store.get(rid)
    existing = existing_body["properties"] if existing_body else None
    from .arm import norm_location
    if existing_body and norm_location(body["location"]) != norm_location(existing_body["location"]):
        raise bad_request("The location of an existing host pool cannot be changed.")
    tags = _validate_tags(body.get("tags"))
    props = _pool_properties(body["properties"], existing)
    pool = state.pools.get(rid.lower())
    if pool is None:
        profile = LoadProfile.from_dict(dict(state.default_profile, target_concurrent_users=0))
        users = PoolUsers(name, profile, props["hostPoolType"], props["loadBalancerType"],
                          props["maxSessionLimit"], now_s=sim_seconds(sim),
                          on_capacity=lambda _u, _t, _a, _f, rid=rid: _on_capacity(sim, rid))
        pool = state.pools[rid.lower()] = Pool(rid, sub, rg, name, users)
    _apply_registration_info(sim, pool, body["properties"].get("registrationInfo"))
    stored = {
        "identity": None,
        "name": name,
        "id": rid,
        "type": HP_TYPE,
        "location": body["location"] if not existing_body else existing_body["location"],
        "tags": tags or None,
        "kind": body.get("kind"),
        "etag": _new_etag(sim),
        "systemData": _system_data(sim, existing_body and existing_body.get("systemData")),
        "properties": props,
    }
    sim.store.put(rid, stored)
    _sync_pool_users(sim, pool)
    return (200 if existing_body else 201), _render_pool(sim, pool, for_get=False)


@route("PUT", HP)
def put_host_pool(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    _require_rg(sim, sub, rg)
    return create_or_replace_pool(sim, sub, rg, req.param("hostPoolName"), req.json())


@route("GET", HP)
def get_host_pool(sim, req):
    return _render_pool(sim, _get_pool(sim, req))


PATCHABLE = ("friendlyName", "description", "customRdpProperty", "maxSessionLimit",
             "personalDesktopAssignmentType", "loadBalancerType", "ring", "validationEnvironment",
             "vmTemplate", "ssoadfsAuthority", "ssoClientId", "ssoClientSecretKeyVaultPath",
             "ssoSecretType", "preferredAppGroupType", "startVMOnConnect", "publicNetworkAccess",
             "agentUpdate")


@route("PATCH", HP)
def patch_host_pool(sim, req):
    pool = _get_pool(sim, req)
    body = req.json_or_empty()
    stored = sim.store.get(pool.id)
    props = dict(stored["properties"])
    patch = body.get("properties") or {}
    if not isinstance(patch, dict):
        raise bad_request("properties must be an object.")
    merged = dict(props)
    for key in PATCHABLE:
        if key in patch:
            merged[key] = patch[key]
    # Validate the merged result the way a PUT would be validated.
    validated = _pool_properties(merged, props)
    if "maxSessionLimit" in patch and patch["maxSessionLimit"] is None:
        validated["maxSessionLimit"] = props["maxSessionLimit"]
    _apply_registration_info(sim, pool, patch.get("registrationInfo"))
    if "tags" in body:
        tags = _validate_tags(body.get("tags"))
        stored["tags"] = tags or None
    stored["properties"] = validated
    stored["etag"] = _new_etag(sim)
    stored["systemData"] = _system_data(sim, stored.get("systemData"))
    _sync_pool_users(sim, pool)
    return _render_pool(sim, pool, for_get=False)


@route("DELETE", HP)
def delete_host_pool(sim, req):
    sub, rg, name = req.subscription_id, req.param("resourceGroupName"), req.param("hostPoolName")
    _require_rg(sim, sub, rg)
    pool = sim.avd.pool(sub, rg, name)
    if pool is None or sim.store.get(pool.id) is None:
        return 204, None
    force = str(req.query.get("force", "false")).lower() == "true"
    if pool.hosts and not force:
        raise bad_request("The host pool '%s' still has %d session host(s). Remove them first, or "
                          "delete with force=true." % (name, len(pool.hosts)))
    body = _render_pool(sim, pool, for_get=False)
    for key in list(pool.hosts):
        _remove_host(sim, pool, key, "host pool deleted with force")
    _delete_token(sim, pool)
    sim.store.delete(pool.id)
    del sim.avd.pools[pool.id.lower()]
    return 200, body


def _page(sim, req, items: List[dict], extra_query: Optional[dict] = None) -> dict:
    """AVD paging: ``pageSize``, ``initialSkip``, ``isDescending``; ``nextLink`` carries them."""
    try:
        size = int(req.query.get("pageSize") or sim.page_size)
        skip = int(req.query.get("initialSkip") or 0)
    except ValueError:
        raise bad_request("pageSize and initialSkip must be integers.") from None
    if size <= 0 or skip < 0:
        raise bad_request("pageSize must be > 0 and initialSkip >= 0.")
    descending = str(req.query.get("isDescending", "false")).lower() == "true"
    if descending:
        items = list(reversed(items))
    page = items[skip:skip + size]
    body: Dict[str, Any] = {"value": page, "nextLink": None}
    if skip + size < len(items):
        query = {"pageSize": size, "isDescending": str(descending).lower(), "initialSkip": skip + size}
        query.update(extra_query or {})
        query["api-version"] = req.api_version
        body["nextLink"] = "%s%s?%s" % (sim.base_url, req.path, urlencode(query))
    return body


@route("GET", RG + "/providers/Microsoft.DesktopVirtualization/hostPools")
def list_host_pools_rg(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    _require_rg(sim, sub, rg)
    pools = [p for p in sim.avd.pools.values()
             if p.sub.lower() == sub.lower() and p.rg.lower() == rg.lower()]
    return _page(sim, req, [_render_pool(sim, p) for p in pools])


@route("GET", SUB + "/providers/Microsoft.DesktopVirtualization/hostPools")
def list_host_pools_sub(sim, req):
    sub = req.subscription_id
    pools = [p for p in sim.avd.pools.values() if p.sub.lower() == sub.lower()]
    return _page(sim, req, [_render_pool(sim, p) for p in pools])


@route("POST", HP + "/retrieveRegistrationToken")
def retrieve_registration_token(sim, req):
    pool = _get_pool(sim, req)
    if pool.token is None:
        return {"expirationTime": None, "token": None, "resetToken": False,
                "registrationTokenOperation": "None"}
    return {"expirationTime": _iso(sim, pool.token["expires_s"]), "token": pool.token["value"],
            "resetToken": False, "registrationTokenOperation": "None"}


@route("POST", HP + "/listRegistrationTokens")
def list_registration_tokens(sim, req):
    pool = _get_pool(sim, req)
    if pool.token is None:
        return {"value": [], "nextLink": None}
    return {"value": [{"expirationTime": _iso(sim, pool.token["expires_s"]),
                       "token": pool.token["value"]}], "nextLink": None}


# ----- capacity floor ------------------------------------------------------------------------
def pool_floor(sim, pool: Pool) -> Optional[int]:
    body = sim.store.get(pool.id)
    tagged = parse_floor(tag_value((body or {}).get("tags"), FLOOR_TAG))
    return tagged if tagged is not None else pool.scenario_floor


def _on_capacity(sim, rid: str) -> None:
    pool = sim.avd.pools.get(rid.lower())
    if pool is not None and sim.store.get(pool.id) is not None:
        check_floor(sim, pool)


def check_floor(sim, pool: Pool) -> None:
    floor = pool_floor(sim, pool)
    available = pool.users.available_hosts()
    if floor is None or available >= floor:
        pool.below_floor = False
        return
    if not pool.below_floor:
        pool.below_floor = True
        sim.violation("capacity_below_floor", pool.id,
                      "%d available session host(s) in host pool %s, below the floor of %d"
                      % (available, pool.name, floor))
