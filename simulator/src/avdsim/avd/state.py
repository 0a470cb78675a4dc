"""Runtime state of the Desktop Virtualization provider: host pools, the session hosts the
broker knows, registration tokens and pending agent registrations (``sim.avd``)."""

from __future__ import annotations

import random
import uuid
from typing import Any, Dict, List, Optional

from ..errors import ArmError
from ..invariants import FLOOR_TAG, parse_floor, tag_value
from ..users import PoolUsers
from .common import AGENT_DEFAULTS, DEFAULT_OS_VERSION, NS, avd_error, require_rg


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

    def find_host(self, name: str) -> Optional[Host]:
        return self.hosts.get(name.lower())

    def host_id(self, host_name: str) -> str:
        return "%s/sessionhosts/%s" % (self.id, host_name)


class AvdState:
    def __init__(self, sim, seed: int):
        self.sim = sim
        self.pools: Dict[str, Pool] = {}
        self.tokens: Dict[str, Dict[str, Any]] = {}  # value -> {"pool", "state", "expires_s"}
        self.registrations: Dict[str, Dict[str, Any]] = {}  # vm id (lower) -> pending agent work
        self.rng = random.Random("avd/%s" % seed)
        self.agent = dict(AGENT_DEFAULTS)
        self.default_profile: Dict[str, Any] = {}
        self.loading = False  # a scenario is being loaded
        self.frozen_s: Optional[float] = None  # its instant
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


def host_pool_not_found(name: str, rg: str) -> ArmError:
    return ArmError(404, "ResourceNotFound",
                    "The Resource '%s/hostPools/%s' under resource group '%s' was not found. For more "
                    "details please go to https://aka.ms/ARMResourceNotFoundFix" % (NS, name, rg))


def existing_pool(sim, sub: str, rg: str, name: str) -> Pool:
    """The host pool, or 404 (after the resource group's own 404)."""
    require_rg(sim, sub, rg)
    pool = sim.avd.pool(sub, rg, name)
    if pool is None or sim.store.get(pool.id) is None:
        raise host_pool_not_found(name, rg)
    return pool


def pool_of(sim, req) -> Pool:
    return existing_pool(sim, req.subscription_id, req.param("resourceGroupName"),
                         req.param("hostPoolName"))


def existing_host(pool: Pool, name: str) -> Host:
    host = pool.find_host(name)
    if host is None:
        raise avd_error(404, "SessionHost '%s' not found in host pool '%s'" % (name, pool.name))
    return host


def host_of(sim, req) -> tuple:
    pool = pool_of(sim, req)
    return pool, existing_host(pool, req.param("sessionHostName"))


# ----- capacity floor ------------------------------------------------------------------------
def pool_floor(sim, pool: Pool) -> Optional[int]:
    body = sim.store.get(pool.id)
    tagged = parse_floor(tag_value((body or {}).get("tags"), FLOOR_TAG))
    return tagged if tagged is not None else pool.scenario_floor


def capacity_changed(sim, pool: Pool) -> None:
    """The pool's available hosts may have changed: ``avd.capacity_changed`` (floor check)."""
    sim.hooks.emit("avd.capacity_changed", pool=pool, floor=pool_floor(sim, pool))
