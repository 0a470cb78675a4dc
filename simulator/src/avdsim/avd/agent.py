"""The AVD agent: registration through the VM's DSC extension, and the VM life cycle (power,
deletion) as the session hosts and their users see it."""

from __future__ import annotations

from typing import Any, List, Optional

from ..users import FIRST_SESSION_ID
from .common import HP_TYPE, sim_seconds
from .session_hosts import refresh_host, register_host
from .state import Host, Pool, capacity_changed

# Extensions the agent cares about.
DSC = ("microsoft.powershell", "dsc")
AAD_JOIN = ("microsoft.azure.activedirectory", "aadloginforwindows")
AD_JOIN = ("microsoft.compute", "jsonaddomainextension")


# ----- registration through the DSC extension ------------------------------------------------
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


def _settings_named(block: Any, name: str) -> List[str]:
    """The string values of a settings object under a case-insensitive key, in order."""
    if not isinstance(block, dict):
        return []
    return [value for key, value in block.items() if key.lower() == name and isinstance(value, str)]


def _dsc_host_pool_name(extension: dict) -> Optional[str]:
    settings = (extension.get("properties") or {}).get("settings") or {}
    block = settings.get("properties") if isinstance(settings, dict) else None
    named = _settings_named(block, "hostpoolname")
    return named[0] if named else None


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
            domains = _settings_named(props.get("settings") or {}, "name")
            return "ad", props.get("provisioningState"), domains[-1] if domains else None
    return None


def _dsc_failure(extension_name: str, message: str) -> dict:
    return {"code": "VMExtensionProvisioningError",
            "message": "VM has reported a failure when processing extension '%s'. Error message: "
                       "\"DSC Configuration 'AddSessionHost' completed with error(s). %s\""
                       % (extension_name, message)}


def _token_problem(sim, vm: dict, extension: dict, protected: Any) -> Optional[str]:
    """Why the token of a DSC extension does not register the VM, or None."""
    token = _dsc_token(protected)
    if token is None:
        settings_token = _dsc_token((extension.get("properties") or {}).get("settings"))
        if settings_token:
            return ("The registration token must be passed in protectedSettings, not in settings.")
        return "No registration token was provided (protectedSettings.properties.registrationInfoToken)."
    info = sim.avd.tokens.get(token)
    if info is None:
        return "RD Agent failed to register VM '%s': INVALID_REGISTRATION_TOKEN." % vm["name"]
    if info["state"] != "valid":
        return ("RD Agent failed to register VM '%s': the registration token was %s."
                % (vm["name"], "deleted" if info["state"] == "deleted" else "replaced by a newer token"))
    if sim_seconds(sim) >= info["expires_s"]:
        return "RD Agent failed to register VM '%s': EXPIRED_MACHINE_TOKEN (the registration token expired)." % vm["name"]
    return None


def _check_registration(sim, vm: dict, extension: dict, protected: Any) -> Optional[str]:
    """Why the agent cannot register, or None if it can."""
    problem = _token_problem(sim, vm, extension, protected)
    if problem:
        return problem
    pool = sim.avd.pools.get(sim.avd.tokens[_dsc_token(protected)]["pool"])
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
    if _ext_kind(extension) != DSC:
        return
    state = sim.avd
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
    pool = state.pools.get(info["pool"]) if info is not None else None
    if pool is None:
        return
    join = _join_state(sim, vm_id, exclude=extension.get("id"))
    if join is not None and join[1] != "Succeeded":
        return
    domain = join[2] if join is not None and join[0] == "ad" else None
    register_host(sim, pool, vm, domain, power=power_of(sim, vm))


def power_of(sim, vm: dict) -> str:
    """The session host's view of the VM's power (Compute keeps it in the VM's internal state)."""
    power = sim.store.internal(vm["id"]).get("power") or "deallocated"
    return power if power in ("running", "stopping", "stopped", "deallocated", "starting") else "stopped"


# ----- VM life cycle -> session hosts and users --------------------------------------------
def _end_sessions(sim, pool: Pool, host: Host, reason: str) -> None:
    sim.hooks.emit("avd.host_sessions_ending", pool=pool, host=host, reason=reason)
    pool.users.end_host_sessions(sim_seconds(sim), host.name, "VM " + reason)


def _shutting_down(sim, pool: Pool, host: Host, new: str) -> None:
    # The OS shuts down: whoever is still on it loses the session.
    if pool.users.sessions(host.name):
        _end_sessions(sim, pool, host, {"stopping": "stopped", "deallocating": "deallocated"}
                      .get(new, new))
    host.power = new if new in ("stopped", "deallocated") else "stopping"


def _starting(sim, pool: Pool, host: Host, old: str) -> None:
    if old == "running" and pool.users.sessions(host.name):
        _end_sessions(sim, pool, host, "restarted")  # a restart logs everybody off
    host.power = "starting"


def _running(sim, pool: Pool, host: Host) -> None:
    host.power = "running"
    seat = pool.users.host(host.name)
    if seat is not None and not seat.sessions:
        seat.next_session_id = FIRST_SESSION_ID  # Windows numbers sessions anew after a boot
    host.ready_at_s = sim_seconds(sim) + sim.avd.agent["boot_ready_s"]
    sim.scheduler.at(sim.clock.start + host.ready_at_s, _agent_ready, sim, pool.id, host.name)
    sim.pacer.expect(pool.id, sim.clock.start + host.ready_at_s)  # the host becomes Available


def on_power_state_changed(sim, vm_id, vm, old, new, **_):
    found = sim.avd.host_of_vm(vm_id)
    if found is None:
        return
    pool, _key, host = found
    if host.power == "deleted" and new != "running":
        return  # the VM is going away (a failed delete brings it back running)
    if new in ("stopping", "deallocating", "stopped", "deallocated"):
        _shutting_down(sim, pool, host, new)
    elif new == "starting":
        _starting(sim, pool, host, old)
    elif new == "running":
        _running(sim, pool, host)
    refresh_host(sim, pool, host)
    capacity_changed(sim, pool)


def _agent_ready(sim, pool_id_: str, host_name: str) -> None:
    pool = sim.avd.pools.get(pool_id_.lower())
    host = pool.find_host(host_name) if pool else None
    if host is not None:
        refresh_host(sim, pool, host)
        capacity_changed(sim, pool)


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
    capacity_changed(sim, pool)


def on_vm_deleted(sim, vm_id, vm=None, **_):
    found = sim.avd.host_of_vm(vm_id)
    if found is None:
        return
    _pool, _key, host = found
    if host.power != "deleted":
        on_vm_deleting(sim, vm_id, vm)


def on_resource_deleted(sim, resource_id, resource=None, **_):
    """Resources removed behind the provider's back (a resource group deletion)."""
    rtype = str((resource or {}).get("type", "")).lower()
    if rtype == "microsoft.compute/virtualmachines":
        on_vm_deleted(sim, resource_id, resource)
    elif rtype == HP_TYPE.lower():
        pool = sim.avd.pools.get(resource_id.lower())
        if pool is not None:
            from .host_pools import retire_pool
            retire_pool(sim, pool, "host pool deleted with its resource group")
