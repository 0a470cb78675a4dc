"""Session hosts: what the broker knows about each registered VM, its status (following the
VM's power state and the agent's heartbeat), and the operator's PATCH/DELETE."""

from __future__ import annotations

import re
from typing import Optional

from ..routing import route
from .common import (
    AGENT_VERSION,
    DEFAULT_OS_VERSION,
    HP,
    SH,
    SH_TYPE,
    SXS_VERSION,
    bad_request,
    is_forced,
    iso_at,
    optional_str,
    properties_of,
    sim_seconds,
)
from .paging import page
from .state import Host, Pool, capacity_changed, host_of, pool_of


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


def render_host(sim, pool: Pool, host: Host) -> dict:
    status = refresh_host(sim, pool, host)
    props = {
        "objectId": host.object_id,
        "resourceId": host.vm_id,
        "virtualMachineId": host.vm_uid,
        "lastHeartBeat": iso_at(sim, _heartbeat(sim, host)),
        "sessions": len(pool.users.sessions(host.name)),
        "agentVersion": AGENT_VERSION,
        "allowNewSession": host.allow_new_session,
        "assignedUser": _assigned_user(pool, host),
        "friendlyName": host.friendly_name,
        "status": status,
        "statusTimestamp": iso_at(sim, host.status_since_s),
        "osVersion": host.os_version,
        "sxSStackVersion": SXS_VERSION,
        "updateState": "Succeeded",
        "lastUpdateTime": iso_at(sim, host.registered_s),
        "updateErrorMessage": "",
        "sessionHostHealthCheckResults": _health_checks(sim, host, status),
    }
    return {
        "id": pool.host_id(host.name),
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
    when = iso_at(sim, _heartbeat(sim, host))
    ok = status == "Available"
    result = "HealthCheckSucceeded" if ok else "HealthCheckFailed"
    return [
        {"healthCheckName": name, "healthCheckResult": result,
         "additionalFailureDetails": {"message": "" if ok else "The session host is not reporting.",
                                      "errorCode": 0 if ok else -2147467259,
                                      "lastHealthCheckDateTime": when}}
        for name in ("DomainJoinedCheck", "SxSStackListenerCheck", "MonitoringAgentCheck")
    ]


def register_host(sim, pool: Pool, vm: dict, domain: Optional[str], power: str = "running") -> Host:
    """The agent registered the VM with the broker (or the scenario says it had)."""
    computer = (((vm.get("properties") or {}).get("osProfile") or {}).get("computerName")
                or vm["name"])
    name = "%s.%s" % (computer, domain) if domain else computer
    now = sim_seconds(sim)
    existing = pool.find_host(name)
    if existing is not None and existing.vm_id.lower() == vm["id"].lower():
        return existing
    if existing is not None:
        # Another VM with the same computer name: the broker keeps one entry per name.
        remove_host(sim, pool, name.lower(), "replaced by a new registration")
    host = Host(name, vm["id"], (vm.get("properties") or {}).get("vmId") or sim.avd.new_uuid(),
                now, sim.now_iso(), sim.avd.new_uuid())
    host.power = power  # a registering agent heart-beats at once: ready_at_s = now
    host.os_version = _os_version(sim, vm)
    pool.hosts[name.lower()] = host
    refresh_host(sim, pool, host)
    capacity_changed(sim, pool)
    return host


def _os_version(sim, vm: dict) -> str:
    """``10.0.<build>`` of the VM's guest model (the build of the image it came from)."""
    try:
        from ..compute import guest_of
        guest = guest_of(sim, vm) or {}
    except (ImportError, KeyError, TypeError):
        guest = {}
    build = (guest.get("os") or {}).get("build")
    return "10.0.%s" % build if build else DEFAULT_OS_VERSION


def remove_host(sim, pool: Pool, key: str, reason: str) -> None:
    host = pool.hosts.get(key)
    if host is None:
        return
    sim.hooks.emit("avd.session_host_removing", pool=pool, host=host,
                   resource_id=pool.host_id(host.name), reason=reason)
    pool.users.remove_host(sim_seconds(sim), host.name, reason)
    del pool.hosts[key]
    capacity_changed(sim, pool)


def update_session_host(sim, pool: Pool, host: Host, props: dict, force: bool = False) -> dict:
    """PATCH of a session host: drain mode, friendly name, assigned user."""
    if "allowNewSession" in props:
        value = props["allowNewSession"]
        if not isinstance(value, bool):
            raise bad_request("allowNewSession must be a boolean.")
        host.allow_new_session = value
    if "friendlyName" in props:
        host.friendly_name = optional_str(props, "friendlyName")
    if "assignedUser" in props:
        _assign_user(pool, host, optional_str(props, "assignedUser"), force)
    host.modified_iso = sim.now_iso()
    refresh_host(sim, pool, host)
    capacity_changed(sim, pool)
    rendered = render_host(sim, pool, host)
    sim.hooks.emit("resource.written", resource_id=rendered["id"], resource=rendered)
    return rendered


def _assign_user(pool: Pool, host: Host, user: Optional[str], force: bool) -> None:
    if host.assigned_user and user != host.assigned_user and not force:
        raise bad_request("The SessionHost '%s' is already assigned to user '%s'; use force=true "
                          "to change the assignment." % (host.name, host.assigned_user))
    host.assigned_user = user or None
    seat = pool.users.host(host.name)
    match = re.match(r"^user(\d+)@", user or "", re.IGNORECASE)
    if seat is not None:
        seat.assigned_user = int(match.group(1)) if match else None


def delete_session_host(sim, pool: Pool, name: str, force: bool = False) -> tuple:
    host = pool.find_host(name)
    if host is None:
        return 204, None
    sessions = pool.users.sessions(host.name)
    if sessions and not force:
        raise bad_request("SessionHost '%s' has %d user session(s). Log the users off first, or "
                          "delete with force=true." % (host.name, len(sessions)))
    remove_host(sim, pool, name.lower(), "session host deleted")
    return 200, None


@route("GET", SH)
def get_session_host(sim, req):
    pool, host = host_of(sim, req)
    return render_host(sim, pool, host)


@route("GET", HP + "/sessionHosts")
def list_session_hosts(sim, req):
    pool = pool_of(sim, req)
    hosts = sorted(pool.hosts.values(), key=lambda h: h.name.lower())
    return page(sim, req, [render_host(sim, pool, h) for h in hosts])


@route("PATCH", SH)
def patch_session_host(sim, req):
    pool, host = host_of(sim, req)
    props = properties_of(req.json_or_empty())
    return update_session_host(sim, pool, host, props, force=is_forced(req))


@route("DELETE", SH)
def delete_session_host_route(sim, req):
    pool = pool_of(sim, req)
    return delete_session_host(sim, pool, req.param("sessionHostName"), force=is_forced(req))
