"""Microsoft.DesktopVirtualization (api-version 2024-04-03): host pools, registration tokens,
session hosts (registered by the AVD agent through the VM's DSC extension) and user sessions,
with the user-load model of ``avdsim.users`` and the invariant monitor of ``avdsim.invariants``.

Wire details follow the real service (see the recording in
``azure-reference/recordings/azure-cli-extensions/test_desktopvirtualization_hostpool.yaml``):
ids come back with lower-case ``resourcegroups``/``hostpools``/``sessionhosts``, ``type`` is
``Microsoft.DesktopVirtualization/hostpools``, GET never carries the registration token, and
service errors read ``{"error": {"code": "400", "message": "ActivityId: <guid> Error: ..."}}``.

Modules: ``common`` (names, errors, validators, time), ``state`` (``sim.avd``: pools, hosts,
tokens), ``paging`` (list paging, ``$filter``), ``registration`` (tokens), ``host_pools``,
``session_hosts``, ``user_sessions``, ``agent`` (DSC registration, VM life cycle) and
``loading`` (scenario sections). Importing this package registers every route.
"""

from __future__ import annotations

from .. import invariants
from ..pacing import related
from ..users import aggregate_metrics
from . import agent, host_pools, loading, registration, session_hosts, user_sessions  # noqa: F401
from .common import iso_at, sim_seconds
from .session_hosts import host_status, refresh_host
from .state import AvdState, pool_floor
from .user_sessions import advance_users


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
            "token_expires": iso_at(sim, pool.token["expires_s"]) if pool.token else None,
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
        advance_users(sim, pool)
        if any(not host.allow_new_session and pool.users.sessions(host.name)
               for host in pool.hosts.values()):
            return True
    return False


def register(sim) -> None:
    sim.avd = AvdState(sim, int(sim.scenario.get("seed", 4242)))
    sim.pacer.add_predicate(lambda resource: users_on_drained_hosts(sim, resource))
    sim.scenario_section("avd_agent", loading.load_agent, 45)
    sim.scenario_section("host_pools", loading.load_host_pools, 50)
    invariants.register(sim)  # before the agent: secrets are learned first
    sim.hooks.on("vm.extension.provisioning", agent.on_extension_provisioning)
    sim.hooks.on("vm.extension.created", agent.on_extension_created)
    sim.hooks.on("vm.power_state_changed", agent.on_power_state_changed)
    sim.hooks.on("vm.deleting", agent.on_vm_deleting)
    sim.hooks.on("vm.deleted", agent.on_vm_deleted)
    sim.hooks.on("resource.deleted", agent.on_resource_deleted)
    sim.metrics.sections["users"] = users_metrics
    sim.state_sections["avd"] = avd_state
