"""Scenario sections ``avd_agent`` and ``host_pools``: the Desktop Virtualization world a
scenario describes, built at one instant through the same operations clients use."""

from __future__ import annotations

from ..invariants import parse_floor
from ..users import LoadProfile
from .agent import power_of
from .common import AGENT_DEFAULTS, require_rg, sim_seconds
from .host_pools import create_or_replace_pool
from .session_hosts import refresh_host, register_host
from .state import Pool, capacity_changed

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


def load_host_pools(sim, pools: list) -> None:
    sim.hooks.emit("avd.host_pools_loading")
    sim.avd.loading = True
    sim.avd.frozen_s = sim.now() - sim.clock.start
    try:
        for spec in pools:
            _load_host_pool(sim, spec)
    finally:
        sim.avd.loading = False
        sim.avd.frozen_s = None


def _check_keys(spec: dict, known: set, where: str) -> None:
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError("scenario %s: unknown keys %s; known: %s"
                         % (where, unknown, ", ".join(sorted(known))))


def _pool_body(sim, spec: dict, rg_body: dict) -> dict:
    """The PUT body of a scenario's host pool."""
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
        from ..clock import iso
        properties["registrationInfo"] = {
            "registrationTokenOperation": "Update",
            "expirationTime": iso(sim.now() + 3600.0 * float(spec["registration_token_hours"]))}
    return {"location": spec.get("location") or rg_body["location"], "properties": properties,
            "tags": {str(k): str(v) for k, v in (spec.get("tags") or {}).items()}}


def _load_host_pool(sim, spec: dict) -> None:
    _check_keys(spec, POOL_KEYS, "host_pools[%s]" % spec.get("name"))
    rg = spec["resource_group"]
    rg_body = require_rg(sim, sim.subscription_id, rg)
    create_or_replace_pool(sim, sim.subscription_id, rg, spec["name"], _pool_body(sim, spec, rg_body))
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
    capacity_changed(sim, pool)


def _load_session_host(sim, pool: Pool, pool_spec: dict, host_spec) -> None:
    if isinstance(host_spec, str):
        host_spec = {"vm": host_spec}
    _check_keys(host_spec, HOST_KEYS, "host_pools[%s].session_hosts" % pool.name)
    from ..ids import resource_id
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
    host = register_host(sim, pool, vm, pool_spec.get("domain"), power=power_of(sim, vm))
    host.allow_new_session = bool(host_spec.get("allow_new_session", True))
    refresh_host(sim, pool, host)


def _scenario_extension(sim, vm: dict, name: str, properties: dict) -> None:
    """An extension the scenario's session host went through (already Succeeded)."""
    ext_id = vm["id"] + "/extensions/" + name
    if sim.store.get(ext_id) is not None:
        return
    sim.store.put(ext_id, {
        "id": ext_id, "name": name,
        "type": "Microsoft.Compute/virtualMachines/extensions", "location": vm.get("location"),
        "properties": dict({"autoUpgradeMinorVersion": True, "provisioningState": "Succeeded"},
                           **properties),
    })


def _scenario_join_extension(sim, vm: dict, domain: str) -> None:
    """The AD domain join the scenario's session hosts went through (password not kept)."""
    _scenario_extension(sim, vm, "JsonADDomainExtension", {
        "publisher": "Microsoft.Compute", "type": "JsonADDomainExtension", "typeHandlerVersion": "1.3",
        "settings": {"Name": domain, "User": "svc-join@" + domain, "Restart": "true", "Options": "3"},
    })


def _scenario_dsc_extension(sim, pool: Pool, vm: dict) -> None:
    """The DSC extension the scenario's session hosts were registered with (no token kept:
    Azure never returns protected settings)."""
    _scenario_extension(sim, vm, "Microsoft.PowerShell.DSC", {
        "publisher": "Microsoft.Powershell",
        "type": "DSC",
        "typeHandlerVersion": "2.73",
        "settings": {
            "modulesUrl": "https://wvdportalstorageblob.blob.core.windows.net/galleryartifacts/"
                          "Configuration_1.0.02790.438.zip",
            "configurationFunction": "Configuration.ps1\\AddSessionHost",
            "properties": {"hostPoolName": pool.name, "aadJoin": False},
        },
    })
