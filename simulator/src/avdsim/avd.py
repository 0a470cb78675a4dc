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
    CLONE_OF_TAG,
    FLOOR_TAG,
    SecretRegistry,
    parse_floor,
    tag_value,
)
from .pacing import related
from .routing import route
from .users import FIRST_SESSION_ID, LoadProfile, PoolUsers, aggregate_metrics

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

    def __init__(self, name: str, vm_id: str, vm_uid: str, registered_s: float, created_iso: str,
                 object_id: str):
        self.name = name
        self.vm_id = vm_id
        self.vm_uid = vm_uid
        self.object_id = object_id
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
        self.loading = False  # a scenario is being loaded
        self.frozen_s: Optional[float] = None  # its instant
        self.reported_leaks: set = set()
        self.retired: List[PoolUsers] = []  # users models of deleted host pools (history)

    def new_uuid(self) -> str:
        """Ids the service makes up (objectId ...), deterministic from the scenario seed."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

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
    """Simulated seconds since the simulator started (the users model's time axis). While a
    scenario is loaded, one instant: the world it describes exists all at once."""
    frozen = getattr(sim.avd, "frozen_s", None)
    return frozen if frozen is not None else sim.now() - sim.clock.start


def _iso(sim, elapsed_s: float) -> str:
    from .clock import iso
    return iso(sim.clock.start + elapsed_s)


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


def _registration_request(sim, info) -> tuple:
    """Validate ``registrationInfo`` of a write: ("None"|"Delete", None) or ("Update", expiry)."""
    if info is None:
        return "None", None
    if not isinstance(info, dict):
        raise bad_request("registrationInfo must be an object.")
    if info.get("token"):
        raise bad_request("The registration token is read-only; use registrationTokenOperation.")
    operation = _enum(info, "registrationTokenOperation", TOKEN_OPERATIONS, default="None")
    if operation != "Update":
        return operation, None
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
    return operation, expires - sim.clock.start


def _apply_registration(sim, pool: Pool, request: tuple) -> None:
    operation, expires_s = request
    if operation == "Update":
        _mint_token(sim, pool, expires_s)
    elif operation == "Delete":
        _delete_token(sim, pool)
    pool.last_operation = operation


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


def _pool_properties(props: dict, existing: Optional[dict], object_id: str = "") -> dict:
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
        "objectId": (existing or {}).get("objectId") or object_id,
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
    return '"%s"' % sim.avd.new_uuid()


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
    props = _pool_properties(body["properties"], existing, state.new_uuid())
    registration = _registration_request(sim, body["properties"].get("registrationInfo"))
    pool = state.pools.get(rid.lower())
    if pool is None:
        profile = LoadProfile.from_dict(dict(state.default_profile, target_concurrent_users=0))
        users = PoolUsers(name, profile, props["hostPoolType"], props["loadBalancerType"],
                          props["maxSessionLimit"], now_s=sim_seconds(sim),
                          on_capacity=lambda _u, _t, _a, _f, rid=rid: _on_capacity(sim, rid))
        users.muted = state.loading
        pool = state.pools[rid.lower()] = Pool(rid, sub, rg, name, users)
    _apply_registration(sim, pool, registration)
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
    sim.hooks.emit("resource.written", resource_id=rid, resource=stored)
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
    registration = _registration_request(sim, patch.get("registrationInfo"))
    tags = _validate_tags(body.get("tags")) if "tags" in body else None
    _apply_registration(sim, pool, registration)
    if "tags" in body:
        stored["tags"] = tags or None
    stored["properties"] = validated
    stored["etag"] = _new_etag(sim)
    stored["systemData"] = _system_data(sim, stored.get("systemData"))
    _sync_pool_users(sim, pool)
    sim.hooks.emit("resource.written", resource_id=pool.id, resource=stored)
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
    sim.store.delete(pool.id)
    _retire_pool(sim, pool, "host pool deleted with force")
    return 200, body


def _retire_pool(sim, pool: Pool, reason: str) -> None:
    """A host pool is gone: its hosts go with it; its user history stays in the metrics."""
    pool.users.muted = True  # no capacity dips recorded (or floor checked) host by host
    for key in list(pool.hosts):
        _remove_host(sim, pool, key, reason)
    _delete_token(sim, pool)
    pool.users.muted = False
    pool.users.record_capacity(sim_seconds(sim))  # the pool's capacity is now 0
    sim.avd.retired.append(pool.users)
    del sim.avd.pools[pool.id.lower()]


def _page(sim, req, items: List[Any], extra_query: Optional[dict] = None, render=None) -> dict:
    """AVD paging: ``pageSize``, ``initialSkip``, ``isDescending``; ``nextLink`` carries them.
    With ``render``, ``items`` are model objects and only the page's are rendered."""
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
    if render is not None:
        page = [render(item) for item in page]
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
    pools = [p for p in sim.avd.pools.values() if sim.store.get(p.id) is not None
             and p.sub.lower() == sub.lower() and p.rg.lower() == rg.lower()]
    return _page(sim, req, [_render_pool(sim, p) for p in pools])


@route("GET", SUB + "/providers/Microsoft.DesktopVirtualization/hostPools")
def list_host_pools_sub(sim, req):
    sub = req.subscription_id
    pools = [p for p in sim.avd.pools.values() if sim.store.get(p.id) is not None
             and p.sub.lower() == sub.lower()]
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
    if pool.users.muted:
        return
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


# ----- session hosts ---------------------------------------------------------------------------
def host_status(sim, host: Host) -> str:
    if host.power == "deleted":
        return "Unavailable"  # the agent stopped heart-beating (replaces NoHeartbeat)
    if host.power in ("stopping", "stopped", "deallocated", "starting"):
        return "Shutdown"
    if sim_seconds(sim) < host.ready_at_s:
        return "Unavailable"  # booting: the agent has not reported yet
    return "Available"


def refresh_host(sim, pool: Pool, host: Host) -> str:
    """Recompute a host's status and mirror it into the users model (at the current time)."""
    status = host_status(sim, host)
    now = sim_seconds(sim)
    if status != host.last_status:
        host.last_status = status
        host.status_since_s = now
    if host.power == "running" and status == "Available":
        host.last_heartbeat_s = now
    pool.users.upsert_host(now, host.name, available=(status == "Available"),
                           allow_new_session=host.allow_new_session)
    return status


def _heartbeat(sim, host: Host) -> float:
    if host.power == "running" and host_status(sim, host) == "Available":
        step = max(1.0, sim.avd.agent["heartbeat_s"])
        now = sim_seconds(sim)
        return max(host.last_heartbeat_s, now - (now % step))
    return host.last_heartbeat_s


def _host_id(pool: Pool, host_name: str) -> str:
    return "%s/sessionhosts/%s" % (pool.id, host_name)


def render_host(sim, pool: Pool, host: Host) -> dict:
    status = refresh_host(sim, pool, host)
    props = {
        "objectId": host.object_id,
        "resourceId": host.vm_id,
        "virtualMachineId": host.vm_uid,
        "lastHeartBeat": _iso(sim, _heartbeat(sim, host)),
        "sessions": len(pool.users.sessions(host.name)),
        "agentVersion": AGENT_VERSION,
        "allowNewSession": host.allow_new_session,
        "assignedUser": _assigned_user(pool, host),
        "friendlyName": host.friendly_name,
        "status": status,
        "statusTimestamp": _iso(sim, host.status_since_s),
        "osVersion": host.os_version,
        "sxSStackVersion": SXS_VERSION,
        "updateState": "Succeeded",
        "lastUpdateTime": _iso(sim, host.registered_s),
        "updateErrorMessage": "",
        "sessionHostHealthCheckResults": _health_checks(sim, host, status),
    }
    return {
        "id": _host_id(pool, host.name),
        "name": "%s/%s" % (pool.name, host.name),
        "type": SH_TYPE,
        "systemData": {"createdBy": "RDInfraAgent", "createdByType": "Application",
                       "createdAt": host.created_iso, "lastModifiedBy": "RDInfraAgent",
                       "lastModifiedByType": "Application", "lastModifiedAt": host.modified_iso},
        "properties": props,
    }


def _assigned_user(pool: Pool, host: Host) -> Optional[str]:
    """Personal pools: the user the operator assigned, or the one automatic assignment chose."""
    if host.assigned_user:
        return host.assigned_user
    seat = pool.users.host(host.name)
    if seat is not None and seat.assigned_user is not None:
        return pool.users.user_name(seat.assigned_user)[0]
    return None


def _health_checks(sim, host: Host, status: str) -> list:
    when = _iso(sim, _heartbeat(sim, host))
    ok = status == "Available"
    result = "HealthCheckSucceeded" if ok else "HealthCheckFailed"
    return [
        {"healthCheckName": name, "healthCheckResult": result,
         "additionalFailureDetails": {"message": "" if ok else "The session host is not reporting.",
                                      "errorCode": 0 if ok else -2147467259,
                                      "lastHealthCheckDateTime": when}}
        for name in ("DomainJoinedCheck", "SxSStackListenerCheck", "MonitoringAgentCheck")
    ]


def _find_host(pool: Pool, name: str) -> Optional[Host]:
    return pool.hosts.get(name.lower())


def _get_host(sim, req):
    pool = _get_pool(sim, req)
    name = req.param("sessionHostName")
    host = _find_host(pool, name)
    if host is None:
        raise avd_error(404, "SessionHost '%s' not found in host pool '%s'" % (name, pool.name))
    return pool, host


def register_host(sim, pool: Pool, vm: dict, domain: Optional[str], power: str = "running") -> Host:
    """The agent registered the VM with the broker (or the scenario says it had)."""
    computer = (((vm.get("properties") or {}).get("osProfile") or {}).get("computerName")
                or vm["name"])
    name = "%s.%s" % (computer, domain) if domain else computer
    now = sim_seconds(sim)
    existing = _find_host(pool, name)
    if existing is not None and existing.vm_id.lower() == vm["id"].lower():
        return existing
    if existing is not None:
        # Another VM with the same computer name: the broker keeps one entry per name.
        _remove_host(sim, pool, name.lower(), "replaced by a new registration")
    host = Host(name, vm["id"], (vm.get("properties") or {}).get("vmId") or sim.avd.new_uuid(),
                now, sim.now_iso(), sim.avd.new_uuid())
    host.power = power  # a registering agent heart-beats at once: ready_at_s = now
    host.os_version = _os_version(sim, vm)
    pool.hosts[name.lower()] = host
    refresh_host(sim, pool, host)
    check_floor(sim, pool)
    return host


def _os_version(sim, vm: dict) -> str:
    """``10.0.<build>`` of the VM's guest model (the build of the image it came from)."""
    try:
        from .compute import guest_of
        guest = guest_of(sim, vm) or {}
    except (ImportError, KeyError, TypeError):
        guest = {}
    build = (guest.get("os") or {}).get("build")
    return "10.0.%s" % build if build else DEFAULT_OS_VERSION


def _remove_host(sim, pool: Pool, key: str, reason: str) -> None:
    host = pool.hosts.get(key)
    if host is None:
        return
    on_host = pool.users.sessions(host.name)
    if on_host:
        sim.violation("users_on_removed_host", _host_id(pool, host.name),
                      "session host %s removed (%s) with %d user session(s) nobody logged off"
                      % (host.name, reason, len(on_host)))
    pool.users.remove_host(sim_seconds(sim), host.name, reason)
    del pool.hosts[key]
    check_floor(sim, pool)


@route("GET", SH)
def get_session_host(sim, req):
    pool, host = _get_host(sim, req)
    return render_host(sim, pool, host)


@route("GET", HP + "/sessionHosts")
def list_session_hosts(sim, req):
    pool = _get_pool(sim, req)
    hosts = sorted(pool.hosts.values(), key=lambda h: h.name.lower())
    return _page(sim, req, [render_host(sim, pool, h) for h in hosts])


@route("PATCH", SH)
def patch_session_host(sim, req):
    pool, host = _get_host(sim, req)
    body = req.json_or_empty()
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise bad_request("properties must be an object.")
    force = str(req.query.get("force", "false")).lower() == "true"
    if "allowNewSession" in props:
        value = props["allowNewSession"]
        if not isinstance(value, bool):
            raise bad_request("allowNewSession must be a boolean.")
        host.allow_new_session = value
    if "friendlyName" in props:
        host.friendly_name = _optional_str(props, "friendlyName")
    if "assignedUser" in props:
        user = _optional_str(props, "assignedUser")
        if host.assigned_user and user != host.assigned_user and not force:
            raise bad_request("The SessionHost '%s' is already assigned to user '%s'; use force=true "
                              "to change the assignment." % (host.name, host.assigned_user))
        host.assigned_user = user or None
        seat = pool.users.host(host.name)
        match = re.match(r"^user(\d+)@", user or "", re.IGNORECASE)
        if seat is not None:
            seat.assigned_user = int(match.group(1)) if match else None
    host.modified_iso = sim.now_iso()
    refresh_host(sim, pool, host)
    check_floor(sim, pool)
    rendered = render_host(sim, pool, host)
    sim.hooks.emit("resource.written", resource_id=rendered["id"], resource=rendered)
    return rendered


@route("DELETE", SH)
def delete_session_host(sim, req):
    pool = _get_pool(sim, req)
    name = req.param("sessionHostName")
    host = _find_host(pool, name)
    if host is None:
        return 204, None
    force = str(req.query.get("force", "false")).lower() == "true"
    sessions = pool.users.sessions(host.name)
    if sessions and not force:
        raise bad_request("SessionHost '%s' has %d user session(s). Log the users off first, or "
                          "delete with force=true." % (host.name, len(sessions)))
    _remove_host(sim, pool, name.lower(), "session host deleted")
    return 200, None


# ----- user sessions ---------------------------------------------------------------------------
def render_session(sim, pool: Pool, session) -> dict:
    upn, ad_name = pool.users.user_name(session.user)
    host_name = pool.hosts[session.host.lower()].name if session.host.lower() in pool.hosts else session.host
    return {
        "id": "%s/usersessions/%s" % (_host_id(pool, host_name), session.session_id),
        "name": "%s/%s/%s" % (pool.name, host_name, session.session_id),
        "type": US_TYPE,
        "systemData": {"createdBy": upn, "createdByType": "User",
                       "createdAt": _iso(sim, session.created_s), "lastModifiedBy": upn,
                       "lastModifiedByType": "User", "lastModifiedAt": _iso(sim, session.created_s)},
        "properties": {
            "objectId": str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%d" % (pool.id.lower(), session.uid))),
            "userPrincipalName": upn,
            "applicationType": "Desktop",
            "sessionState": session.state,
            "activeDirectoryUserName": ad_name,
            "createTime": _iso(sim, session.created_s),
        },
    }


def _parse_filter(text: Optional[str]):
    """OData ``$filter`` on userPrincipalName / sessionState with ``eq`` and ``and``."""
    if not text:
        return []
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _FILTER_CLAUSE.match(part)
        if not match or match.group(1).lower() not in ("userprincipalname", "sessionstate"):
            raise bad_request("The filter '%s' is invalid. Valid properties for filtering are "
                              "userprincipalname and sessionstate, compared with eq." % text)
        clauses.append((match.group(1).lower(), match.group(2).replace("''", "'").lower()))
    return clauses


def _matches(rendered: dict, clauses) -> bool:
    props = rendered["properties"]
    values = {"userprincipalname": props["userPrincipalName"], "sessionstate": props["sessionState"]}
    return all(values[key].lower() == want for key, want in clauses)


def _advance_users(sim, pool: Pool) -> None:
    pool.users.advance_to(sim_seconds(sim))


@route("GET", HP + "/userSessions")
def list_user_sessions_pool(sim, req):
    pool = _get_pool(sim, req)
    _advance_users(sim, pool)
    clauses = _parse_filter(req.query.get("$filter"))
    extra = {"$filter": req.query.get("$filter")} if req.query.get("$filter") else None
    if not clauses:  # render only the page asked for (a pool of hundreds of sessions, polled)
        return _page(sim, req, pool.users.sessions(), extra, lambda s: render_session(sim, pool, s))
    items = [render_session(sim, pool, s) for s in pool.users.sessions()]
    items = [item for item in items if _matches(item, clauses)]
    return _page(sim, req, items, extra)


@route("GET", SH + "/userSessions")
def list_user_sessions_host(sim, req):
    pool, host = _get_host(sim, req)
    _advance_users(sim, pool)
    return _page(sim, req, pool.users.sessions(host.name), render=lambda s: render_session(sim, pool, s))


def _get_session(sim, req):
    pool, host = _get_host(sim, req)
    _advance_users(sim, pool)
    session = pool.users.get_session(host.name, req.param("userSessionId"))
    if session is None:
        raise avd_error(404, "User session ID not found")
    return pool, host, session


@route("GET", US)
def get_user_session(sim, req):
    pool, _host, session = _get_session(sim, req)
    return render_session(sim, pool, session)


@route("DELETE", US)
def delete_user_session(sim, req):
    pool, host = _get_host(sim, req)
    _advance_users(sim, pool)
    if not pool.users.logoff(sim_seconds(sim), host.name, req.param("userSessionId"),
                             "log-off by the operator"):
        raise avd_error(404, "User session ID not found")
    return 200, None


@route("POST", US + "/disconnect")
def disconnect_user_session(sim, req):
    pool, host, session = _get_session(sim, req)
    pool.users.disconnect(sim_seconds(sim), host.name, session.session_id)
    return 200, None


@route("POST", US + "/sendMessage")
def send_message(sim, req):
    pool, host, session = _get_session(sim, req)
    body = req.json_or_empty()
    title, text = body.get("messageTitle"), body.get("messageBody")
    if title is not None and not isinstance(title, str) or text is not None and not isinstance(text, str):
        raise bad_request("messageTitle and messageBody must be strings.")
    pool.users.send_message(sim_seconds(sim), host.name, session.session_id, title or "", text or "")
    return 200, None


# ----- the AVD agent: registration through the DSC extension --------------------------------
def _ext_kind(extension: dict) -> tuple:
    props = extension.get("properties") or {}
    return (str(props.get("publisher", "")).lower(), str(props.get("type", "")).lower())


def _dsc_token(protected: Any) -> Optional[str]:
    """The token from protected settings: ``properties.registrationInfoToken`` (the classic
    AVD DSC configuration) or ``Items.RegistrationInfoToken`` (the portal's current template)."""
    if not isinstance(protected, dict):
        return None
    for outer, inner in (("properties", "registrationInfoToken"), ("Items", "RegistrationInfoToken")):
        block = protected.get(outer)
        if isinstance(block, dict):
            for key, value in block.items():
                if key.lower() == inner.lower() and isinstance(value, str) and value:
                    return value
    return None


def _dsc_host_pool_name(extension: dict) -> Optional[str]:
    settings = (extension.get("properties") or {}).get("settings") or {}
    block = settings.get("properties") if isinstance(settings, dict) else None
    if isinstance(block, dict):
        for key, value in block.items():
            if key.lower() == "hostpoolname" and isinstance(value, str):
                return value
    return None


def _vm_extensions(sim, vm_id: str) -> List[dict]:
    prefix = vm_id.rstrip("/") + "/extensions/"
    return [res for res in sim.store.list(prefix=prefix)
            if str(res.get("type", "")).lower() == "microsoft.compute/virtualmachines/extensions"]


def _join_state(sim, vm_id: str, exclude: Optional[str] = None):
    """(kind, provisioningState, domain) of the VM's join extension, or None without one."""
    for ext in _vm_extensions(sim, vm_id):
        if exclude and ext["id"].lower() == exclude.lower():
            continue
        kind = _ext_kind(ext)
        props = ext.get("properties") or {}
        if kind == AAD_JOIN:
            return "entra", props.get("provisioningState"), None
        if kind == AD_JOIN:
            settings = props.get("settings") or {}
            domain = None
            if isinstance(settings, dict):
                for key, value in settings.items():
                    if key.lower() == "name" and isinstance(value, str):
                        domain = value
            return "ad", props.get("provisioningState"), domain
    return None


def _dsc_failure(extension_name: str, message: str) -> dict:
    return {"code": "VMExtensionProvisioningError",
            "message": "VM has reported a failure when processing extension '%s'. Error message: "
                       "\"DSC Configuration 'AddSessionHost' completed with error(s). %s\""
                       % (extension_name, message)}


def _check_registration(sim, vm: dict, extension: dict, protected: Any) -> Optional[str]:
    """Why the agent cannot register, or None if it can."""
    state = sim.avd
    token = _dsc_token(protected)
    if token is None:
        settings_token = _dsc_token((extension.get("properties") or {}).get("settings"))
        if settings_token:
            return ("The registration token must be passed in protectedSettings, not in settings.")
        return "No registration token was provided (protectedSettings.properties.registrationInfoToken)."
    info = state.tokens.get(token)
    if info is None:
        return "RD Agent failed to register VM '%s': INVALID_REGISTRATION_TOKEN." % vm["name"]
    if info["state"] != "valid":
        return ("RD Agent failed to register VM '%s': the registration token was %s."
                % (vm["name"], "deleted" if info["state"] == "deleted" else "replaced by a newer token"))
    if sim_seconds(sim) >= info["expires_s"]:
        return "RD Agent failed to register VM '%s': EXPIRED_MACHINE_TOKEN (the registration token expired)." % vm["name"]
    pool = state.pools.get(info["pool"])
    if pool is None or sim.store.get(pool.id) is None:
        return "RD Agent failed to register VM '%s': the host pool of the token no longer exists." % vm["name"]
    named = _dsc_host_pool_name(extension)
    if named and named.lower() != pool.name.lower():
        return ("RD Agent failed to register VM '%s' to HostPool '%s': the registration token belongs "
                "to host pool '%s'." % (vm["name"], named, pool.name))
    join = _join_state(sim, vm["id"], exclude=extension.get("id"))
    if join is not None and join[1] == "Failed":
        return "The VM is not joined to the domain (the join extension failed); the agent cannot register."
    return None


def on_extension_provisioning(sim, vm_id, vm, extension, protected_settings, outcome, **_):
    state = sim.avd
    state.secrets.learn_from_body({"properties": {"protectedSettings": protected_settings}},
                                  "protected settings of %s" % extension.get("name"))
    if _ext_kind(extension) != DSC:
        return
    injected = sim.faults.match("PUT", "/_avd/agent/register/" + vm["name"], lro=True) is not None
    problem = _check_registration(sim, vm, extension, protected_settings)
    if problem and not _join_pending(sim, vm, extension):
        outcome["error"] = _dsc_failure(extension.get("name", "DSC"), problem)
        return
    delay = state.agent["register_s"]
    if _join_pending(sim, vm, extension):
        delay += sim.duration("vm_extension")  # DSC waits for the join to finish first
    outcome["duration_s"] = max(outcome.get("duration_s") or 0.0, delay)
    state.registrations[vm_id.lower()] = {"token": _dsc_token(protected_settings),
                                         "extension": extension.get("id")}
    # The agent registers at the end of the DSC run: check again just before the extension's
    # operation completes (a token deleted or expired meanwhile, a join that failed).
    due = sim.now() + float(outcome["duration_s"]) - 0.001
    sim.scheduler.at(due, _agent_registers, sim, vm_id, extension, protected_settings, outcome,
                     injected)
    info = state.tokens.get(_dsc_token(protected_settings) or "")
    pool = state.pools.get(info["pool"]) if info else None
    if pool is not None:
        sim.pacer.expect(pool.id, due)  # a session host appears in the pool by itself


def _join_pending(sim, vm: dict, extension: dict) -> bool:
    join = _join_state(sim, vm["id"], exclude=extension.get("id"))
    return join is not None and join[1] not in ("Succeeded", "Failed")


def _agent_registers(sim, vm_id, extension, protected_settings, outcome, injected) -> None:
    vm = sim.store.get(vm_id)
    if vm is None:
        return
    if injected:
        problem = "RD Agent failed to register VM '%s': injected registration failure." % vm["name"]
    else:
        problem = _check_registration(sim, vm, extension, protected_settings)
        if problem is None and _join_pending(sim, vm, extension):
            problem = "The VM is not joined to the domain yet; the agent cannot register."
    if problem:
        sim.avd.registrations.pop(vm_id.lower(), None)
        outcome["error"] = _dsc_failure(extension.get("name", "DSC"), problem)


def on_extension_created(sim, vm_id, vm, extension, protected_settings=None, **_):
    if _ext_kind(extension) != DSC:
        return
    state = sim.avd
    pending = state.registrations.pop(vm_id.lower(), None)
    token = (pending or {}).get("token") or _dsc_token(protected_settings)
    info = state.tokens.get(token or "")
    if info is None:
        return
    pool = state.pools.get(info["pool"])
    if pool is None:
        return
    join = _join_state(sim, vm_id, exclude=extension.get("id"))
    if join is not None and join[1] != "Succeeded":
        return
    domain = join[2] if join is not None and join[0] == "ad" else None
    register_host(sim, pool, vm, domain, power=_power_of(sim, vm))


def _power_of(sim, vm: dict) -> str:
    """The session host's view of the VM's power (Compute keeps it in the VM's internal state)."""
    power = sim.store.internal(vm["id"]).get("power") or "deallocated"
    return power if power in ("running", "stopping", "stopped", "deallocated", "starting") else "stopped"


# ----- VM life cycle -> session hosts and users --------------------------------------------
def _end_sessions(sim, pool: Pool, host: Host, reason: str) -> None:
    sessions = pool.users.sessions(host.name)
    if sessions:
        sim.violation("users_on_removed_host", host.vm_id,
                      "VM of session host %s %s with %d user session(s) nobody logged off"
                      % (host.name, reason, len(sessions)))
    pool.users.end_host_sessions(sim_seconds(sim), host.name, "VM " + reason)


def on_power_state_changed(sim, vm_id, vm, old, new, **_):
    found = sim.avd.host_of_vm(vm_id)
    if found is None:
        return
    pool, _key, host = found
    if host.power == "deleted" and new != "running":
        return  # the VM is going away (a failed delete brings it back running)
    if new in ("stopping", "deallocating", "stopped", "deallocated"):
        # The OS shuts down: whoever is still on it loses the session.
        if pool.users.sessions(host.name):
            _end_sessions(sim, pool, host, {"stopping": "stopped", "deallocating": "deallocated"}
                          .get(new, new))
        host.power = new if new in ("stopped", "deallocated") else "stopping"
    elif new == "starting":
        if old == "running" and pool.users.sessions(host.name):
            _end_sessions(sim, pool, host, "restarted")  # a restart logs everybody off
        host.power = "starting"
    elif new == "running":
        host.power = "running"
        seat = pool.users.host(host.name)
        if seat is not None and not seat.sessions:
            seat.next_session_id = FIRST_SESSION_ID  # Windows numbers sessions anew after a boot
        host.ready_at_s = sim_seconds(sim) + sim.avd.agent["boot_ready_s"]
        sim.scheduler.at(sim.clock.start + host.ready_at_s, _agent_ready, sim, pool.id, host.name)
        sim.pacer.expect(pool.id, sim.clock.start + host.ready_at_s)  # the host becomes Available
    refresh_host(sim, pool, host)
    check_floor(sim, pool)


def _agent_ready(sim, pool_id_: str, host_name: str) -> None:
    pool = sim.avd.pools.get(pool_id_.lower())
    host = _find_host(pool, host_name) if pool else None
    if host is not None:
        refresh_host(sim, pool, host)
        check_floor(sim, pool)


def on_vm_deleting(sim, vm_id, vm, **_):
    found = sim.avd.host_of_vm(vm_id)
    sim.avd.registrations.pop(vm_id.lower(), None)
    if found is None:
        return
    pool, _key, host = found
    if pool.users.sessions(host.name):
        _end_sessions(sim, pool, host, "deleted")
    host.power = "deleted"
    refresh_host(sim, pool, host)
    check_floor(sim, pool)


def on_vm_deleted(sim, vm_id, vm=None, **_):
    found = sim.avd.host_of_vm(vm_id)
    if found is None:
        return
    pool, _key, host = found
    if host.power != "deleted":
        on_vm_deleting(sim, vm_id, vm)


# ----- invariants fed by Compute -----------------------------------------------------------------
def _is_original(sim, vm_id: str, vm: Optional[dict]) -> bool:
    from .invariants import tags_mark_original
    return vm_id.lower() in sim.avd.originals or tags_mark_original((vm or {}).get("tags"))


def on_generalized(sim, vm_id, vm, **_):
    if _is_original(sim, vm_id, vm):
        sim.violation("original_generalized", vm_id,
                      "Azure generalize was called on the original VM %s" % (vm or {}).get("name", vm_id))


def on_sysprep_started(sim, vm_id, vm, guest=None, **_):
    if _is_original(sim, vm_id, vm):
        sim.violation("original_sysprepped", vm_id,
                      "sysprep was run in the original VM %s" % (vm or {}).get("name", vm_id))


def on_resource_written(sim, resource_id, resource, request_body=None, **_):
    from .invariants import tags_mark_original
    state = sim.avd
    rtype = str((resource or {}).get("type", "")).lower()
    if rtype == "microsoft.compute/virtualmachines" and tags_mark_original(resource.get("tags")):
        state.originals.add(resource_id.lower())
    source = tag_value((resource or {}).get("tags"), CLONE_OF_TAG)
    if isinstance(source, str) and "/virtualmachines/" in source.lower():
        state.originals.add(source.lower().rstrip("/"))  # a clone names the original it came from
    if request_body is not None:
        state.secrets.learn_from_body(request_body, "secret of %s" % resource_id.rsplit("/", 1)[-1])
    scan_for_secrets(sim, resource_id, resource)


def on_request_write(sim, req, **_):
    """What a client sends: secrets in secret fields are learned, elsewhere they are leaks
    (this also covers actions such as runCommand, whose bodies are never stored)."""
    try:
        body = json.loads(req.raw_body)
    except (ValueError, UnicodeDecodeError):
        return
    sim.avd.secrets.learn_from_body(body, "secret sent to %s" % req.path.rsplit("/", 1)[-1])
    scan_for_secrets(sim, req.path, body)


def on_resource_deleted(sim, resource_id, resource=None, **_):
    """Resources removed behind the provider's back (a resource group deletion)."""
    rtype = str((resource or {}).get("type", "")).lower()
    if rtype == "microsoft.compute/virtualmachines":
        on_vm_deleted(sim, resource_id, resource)
    elif rtype == HP_TYPE.lower():
        pool = sim.avd.pools.get(resource_id.lower())
        if pool is not None:
            _retire_pool(sim, pool, "host pool deleted with its resource group")


def scan_for_secrets(sim, resource_id: str, resource: Any) -> None:
    state = sim.avd
    state.secrets.add(sim.identity.client_secret, "the client secret")
    for field, label in state.secrets.leaks(resource):
        key = (resource_id.lower().rstrip("/"), field.lower(), label)
        if key in state.reported_leaks:
            continue  # the same leak seen in the request and in the stored resource
        state.reported_leaks.add(key)
        sim.violation("secret_in_plain_field", resource_id,
                      "%s written into the non-secret field '%s'" % (label, field))



# ----- scenario ---------------------------------------------------------------------------------
POOL_KEYS = {"resource_group", "name", "location", "host_pool_type", "load_balancer_type",
             "max_session_limit", "preferred_app_group_type", "start_vm_on_connect", "friendly_name",
             "description", "vm_template", "tags", "min_available_hosts", "domain", "session_hosts",
             "users", "registration_token_hours"}
HOST_KEYS = {"vm", "resource_group", "allow_new_session", "dsc_extension"}


def load_agent(sim, agent: dict) -> None:
    unknown = sorted(set(agent or {}) - set(AGENT_DEFAULTS))
    if unknown:
        raise ValueError("scenario avd_agent: unknown entries %s; known: %s"
                         % (unknown, ", ".join(sorted(AGENT_DEFAULTS))))
    for key, value in (agent or {}).items():
        sim.avd.agent[key] = float(value)


def learn_originals(sim) -> None:
    """VMs the scenario tags as originals (or that a clone names as its source) stay known as
    originals even if the tag goes."""
    for res in sim.store.list():
        on_resource_written(sim, res["id"], res)


def load_host_pools(sim, pools: list) -> None:
    learn_originals(sim)
    sim.avd.loading = True
    sim.avd.frozen_s = sim.now() - sim.clock.start
    try:
        for spec in pools:
            _load_host_pool(sim, spec)
    finally:
        sim.avd.loading = False
        sim.avd.frozen_s = None


def _load_host_pool(sim, spec: dict) -> None:
    unknown = sorted(set(spec) - POOL_KEYS)
    if unknown:
        raise ValueError("scenario host_pools[%s]: unknown keys %s; known: %s"
                         % (spec.get("name"), unknown, ", ".join(sorted(POOL_KEYS))))
    rg = spec["resource_group"]
    rg_body = _require_rg(sim, sim.subscription_id, rg)
    properties = {
        "hostPoolType": spec.get("host_pool_type", "Pooled"),
        "loadBalancerType": spec.get("load_balancer_type", "BreadthFirst"),
        "preferredAppGroupType": spec.get("preferred_app_group_type", "Desktop"),
        "maxSessionLimit": spec.get("max_session_limit"),
        "startVMOnConnect": bool(spec.get("start_vm_on_connect", False)),
        "friendlyName": spec.get("friendly_name"),
        "description": spec.get("description"),
        "vmTemplate": spec.get("vm_template"),
    }
    if spec.get("registration_token_hours"):
        from .clock import iso
        properties["registrationInfo"] = {
            "registrationTokenOperation": "Update",
            "expirationTime": iso(sim.now() + 3600.0 * float(spec["registration_token_hours"]))}
    body = {"location": spec.get("location") or rg_body["location"], "properties": properties,
            "tags": {str(k): str(v) for k, v in (spec.get("tags") or {}).items()}}
    create_or_replace_pool(sim, sim.subscription_id, rg, spec["name"], body)
    pool = sim.avd.pool(sim.subscription_id, rg, spec["name"])
    pool.scenario_floor = parse_floor(spec.get("min_available_hosts"))
    now = sim_seconds(sim)
    profile = LoadProfile.from_dict(spec.get("users") or {})
    pool.users.set_profile(now, profile)
    for host_spec in spec.get("session_hosts") or []:
        _load_session_host(sim, pool, spec, host_spec)
    pool.users.muted = False
    pool.users.record_capacity(now)
    pool.users.populate(now)
    check_floor(sim, pool)


def _load_session_host(sim, pool: Pool, pool_spec: dict, host_spec) -> None:
    if isinstance(host_spec, str):
        host_spec = {"vm": host_spec}
    unknown = sorted(set(host_spec) - HOST_KEYS)
    if unknown:
        raise ValueError("scenario host_pools[%s].session_hosts: unknown keys %s; known: %s"
                         % (pool.name, unknown, ", ".join(sorted(HOST_KEYS))))
    from .ids import resource_id
    vm_id = resource_id(sim.subscription_id, host_spec.get("resource_group") or pool_spec["resource_group"],
                        "Microsoft.Compute", "virtualMachines", host_spec["vm"])
    vm = sim.store.get(vm_id)
    if vm is None:
        raise ValueError("scenario host_pools[%s]: session host VM '%s' is not in virtual_machines"
                         % (pool.name, host_spec["vm"]))
    if host_spec.get("dsc_extension", True):
        if pool_spec.get("domain"):
            _scenario_join_extension(sim, vm, pool_spec["domain"])
        _scenario_dsc_extension(sim, pool, vm)
    host = register_host(sim, pool, vm, pool_spec.get("domain"), power=_power_of(sim, vm))
    host.allow_new_session = bool(host_spec.get("allow_new_session", True))
    refresh_host(sim, pool, host)


def _scenario_join_extension(sim, vm: dict, domain: str) -> None:
    """The AD domain join the scenario's session hosts went through (password not kept)."""
    ext_id = vm["id"] + "/extensions/JsonADDomainExtension"
    if sim.store.get(ext_id) is None:
        sim.store.put(ext_id, {
            "id": ext_id, "name": "JsonADDomainExtension",
            "type": "Microsoft.Compute/virtualMachines/extensions", "location": vm.get("location"),
            "properties": {"autoUpgradeMinorVersion": True, "provisioningState": "Succeeded",
                           "publisher": "Microsoft.Compute", "type": "JsonADDomainExtension",
                           "typeHandlerVersion": "1.3",
                           "settings": {"Name": domain, "User": "svc-join@" + domain,
                                        "Restart": "true", "Options": "3"}},
        })


def _scenario_dsc_extension(sim, pool: Pool, vm: dict) -> None:
    """The DSC extension the scenario's session hosts were registered with (no token kept:
    Azure never returns protected settings)."""
    ext_id = vm["id"] + "/extensions/Microsoft.PowerShell.DSC"
    if sim.store.get(ext_id) is not None:
        return
    sim.store.put(ext_id, {
        "id": ext_id,
        "name": "Microsoft.PowerShell.DSC",
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "location": vm.get("location"),
        "properties": {
            "autoUpgradeMinorVersion": True,
            "provisioningState": "Succeeded",
            "publisher": "Microsoft.Powershell",
            "type": "DSC",
            "typeHandlerVersion": "2.73",
            "settings": {
                "modulesUrl": "https://wvdportalstorageblob.blob.core.windows.net/galleryartifacts/"
                              "Configuration_1.0.02790.438.zip",
                "configurationFunction": "Configuration.ps1\\AddSessionHost",
                "properties": {"hostPoolName": pool.name, "aadJoin": False},
            },
        },
    })


# ----- metrics, state, registration --------------------------------------------------------------
def users_metrics(sim) -> dict:
    now = sim_seconds(sim)
    pools = list(sim.avd.pools.values())
    for pool in pools:
        pool.users.advance_to(now)
        for host in pool.hosts.values():
            refresh_host(sim, pool, host)
    return aggregate_metrics([p.users for p in pools] + sim.avd.retired)


def avd_state(sim) -> dict:
    now = sim_seconds(sim)
    out = {}
    for pool in sim.avd.pools.values():
        pool.users.advance_to(now)
        out[pool.id] = {
            "floor": pool_floor(sim, pool),
            "token_expires": _iso(sim, pool.token["expires_s"]) if pool.token else None,
            "hosts": {h.name: {"vm": h.vm_id, "power": h.power, "status": host_status(sim, h),
                               "allow_new_session": h.allow_new_session}
                      for h in pool.hosts.values()},
            "users": pool.users.state(),
        }
    return out


def users_on_drained_hosts(sim, resource: str) -> bool:
    """Pacing predicate: users are still on a drained host of a pool at or under ``resource``
    (a client that re-reads the pool is waiting for them to leave)."""
    for pool in sim.avd.pools.values():
        if not related(pool.id.lower(), resource):
            continue
        if sim.store.get(pool.id) is None:
            continue
        _advance_users(sim, pool)
        if any(not host.allow_new_session and pool.users.sessions(host.name)
               for host in pool.hosts.values()):
            return True
    return False


def register(sim) -> None:
    sim.avd = AvdState(sim, int(sim.scenario.get("seed", 4242)))
    sim.pacer.add_predicate(lambda resource: users_on_drained_hosts(sim, resource))
    sim.scenario_section("avd_agent", load_agent, 45)
    sim.scenario_section("host_pools", load_host_pools, 50)
    sim.hooks.on("vm.extension.provisioning", on_extension_provisioning)
    sim.hooks.on("vm.extension.created", on_extension_created)
    sim.hooks.on("vm.power_state_changed", on_power_state_changed)
    sim.hooks.on("vm.deleting", on_vm_deleting)
    sim.hooks.on("vm.deleted", on_vm_deleted)
    sim.hooks.on("vm.generalized", on_generalized)
    sim.hooks.on("guest.sysprep_started", on_sysprep_started)
    sim.hooks.on("resource.written", on_resource_written)
    sim.hooks.on("request.write", on_request_write)
    sim.hooks.on("resource.deleted", on_resource_deleted)
    sim.metrics.sections["users"] = users_metrics
    sim.state_sections["avd"] = avd_state
