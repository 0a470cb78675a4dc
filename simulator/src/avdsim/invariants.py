"""Invariant monitor: what the collection must never do, recorded in ``violations``.

Kinds (``sim.violations`` entries ``{"kind", "resource", "detail", "sim_time_s"}``):

- ``original_sysprepped`` / ``original_generalized``: sysprep ran in, or Azure generalize was
  called on, a VM tagged ``goldenimage.role: original`` or known as an original (any VM
  that ever carried that tag, and any VM that a ``goldenimage.clone-of`` tag names);
- ``users_on_removed_host``: a session host or its VM was deleted, deallocated or stopped
  while users had sessions on it that nobody had logged off first;
- ``capacity_below_floor``: fewer available session hosts (Available and accepting new
  sessions) than the floor declared on the host pool, by the scenario (``min_available_hosts``)
  or by the tag ``goldenimage.min-available-hosts``; recorded once per dip;
- ``secret_in_plain_field``: a registration token or another secret the simulator knows (VM
  admin passwords, domain-join passwords, protected extension settings, the client secret)
  written into a tag or into any field that is not a secret field, whole or as a fragment of
  at least 60 characters.

Every check is a hook handler (``register`` below), run at the event where the violation
happens; the providers only emit events. Compute's ``vm.generalized``,
``guest.sysprep_started``, ``vm.extension.provisioning``, ``resource.written`` and
``request.write``, and Desktop Virtualization's (``avdsim.avd``):

- ``avd.token_minted`` (``pool``, ``token``): a registration token exists (a secret to watch);
- ``avd.host_pools_loading``: the scenario's host pools are about to be built (the VMs it tags
  as originals become known);
- ``avd.capacity_changed`` (``pool``, ``floor``): a host pool's available hosts may have changed;
- ``avd.session_host_removing`` (``pool``, ``host``, ``resource_id``, ``reason``): a session host
  is about to be removed (its users' sessions not yet ended);
- ``avd.host_sessions_ending`` (``pool``, ``host``, ``reason``): the VM of a session host stops,
  restarts or goes away with sessions on it (about to end them).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Tuple

ORIGINAL_TAG = "goldenimage.role"
CLONE_OF_TAG = "goldenimage.clone-of"
FLOOR_TAG = "goldenimage.min-available-hosts"

# Shorter strings are not tracked as secrets: they would match innocent text.
MIN_SECRET_LENGTH = 8
# Long secrets (registration tokens are JWTs of several hundred characters, longer than a tag
# value may be) also leak in pieces: any FRAGMENT characters of one count. Checked with windows
# of FRAGMENT - STRIDE characters every STRIDE characters, so every fragment contains one.
FRAGMENT = 60
STRIDE = 20

# Request-body fields whose value is meant to hold secrets (dotted paths, lower-case; a
# trailing ".*" covers everything below). Azure never returns these on GET.
SECRET_FIELDS = (
    "properties.protectedsettings.*",
    "properties.protectedsettingsfromkeyvault.*",
    "properties.osprofile.adminpassword",
    "properties.osprofile.customdata",
    "properties.protectedparameters.*",
    "properties.registrationinfo.token",
)

# Keys inside protected settings whose values are secrets worth remembering.
SECRET_KEY_HINTS = ("password", "token", "secret", "key")


def is_secret_field(path: str) -> bool:
    lowered = path.lower()
    for pattern in SECRET_FIELDS:
        if pattern.endswith(".*"):
            base = pattern[:-2]
            if lowered == base or lowered.startswith(base + ".") or lowered.startswith(base + "["):
                return True
        elif lowered == pattern:
            return True
    return False


def _walk(value: Any, path: str) -> Iterable[Tuple[str, str]]:
    """(path, text) for every string in a JSON value, dict keys included (tag names)."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = "%s.%s" % (path, key) if path else str(key)
            yield child + "{key}", str(key)
            yield from _walk(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, "%s[%d]" % (path, index))
    elif isinstance(value, str):
        yield path, value


def _contains(text: str, secret: str) -> bool:
    if secret in text:
        return True
    if len(secret) < FRAGMENT or len(text) < FRAGMENT:
        return False
    width = FRAGMENT - STRIDE
    return any(secret[i:i + width] in text for i in range(0, len(secret) - width + 1, STRIDE))


class SecretRegistry:
    """Secrets the simulator has seen, by value, with what they are."""

    def __init__(self):
        self._secrets: Dict[str, str] = {}

    def add(self, value: Optional[str], label: str) -> None:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            self._secrets.setdefault(value, label)

    def learn_from_body(self, body: Any, label_prefix: str) -> None:
        """Remember secrets a client put where secrets belong (so leaks elsewhere are caught)."""
        for path, text in _walk(body, ""):
            if path.endswith("{key}") or not is_secret_field(path):
                continue
            last = path.rsplit(".", 1)[-1].lower()
            if path.lower().endswith("adminpassword") or any(h in last for h in SECRET_KEY_HINTS):
                self.add(text, "%s %s" % (label_prefix, path))

    def leaks(self, body: Any) -> List[Tuple[str, str]]:
        """(field path, what leaked) for every known secret found outside secret fields."""
        if not self._secrets or body is None:
            return []
        found = []
        for path, text in _walk(body, ""):
            field = path[:-5] if path.endswith("{key}") else path
            if not path.endswith("{key}") and is_secret_field(field):
                continue
            for secret, label in self._secrets.items():
                if _contains(text, secret):
                    found.append((field, label))
        return found

    def __len__(self) -> int:
        return len(self._secrets)


def parse_floor(value: Any) -> Optional[int]:
    """A floor from the tag or scenario; None when absent or not a non-negative integer."""
    if value is None or isinstance(value, bool):
        return None
    try:
        floor = int(str(value).strip())
    except ValueError:
        return None
    return floor if floor >= 0 else None


def tags_mark_original(tags: Optional[Dict[str, Any]]) -> bool:
    for key, value in (tags or {}).items():
        if key.lower() == ORIGINAL_TAG and str(value).lower() == "original":
            return True
    return False


def tag_value(tags: Optional[Dict[str, Any]], name: str) -> Optional[Any]:
    for key, value in (tags or {}).items():
        if key.lower() == name.lower():
            return value
    return None


# ----- the monitor: hook handlers that record violations -----------------------------------------
class Monitor:
    """What the monitor remembers (``sim.monitor``)."""

    def __init__(self):
        self.secrets = SecretRegistry()
        self.originals: set = set()  # ids (lower case) of VMs known as originals
        self.reported_leaks: set = set()  # (resource, field, what): each leak reported once


def _is_original(sim, vm_id: str, vm: Optional[dict]) -> bool:
    return vm_id.lower() in sim.monitor.originals or tags_mark_original((vm or {}).get("tags"))


def on_generalized(sim, vm_id, vm, **_):
    if _is_original(sim, vm_id, vm):
        sim.violation("original_generalized", vm_id,
                      "Azure generalize was called on the original VM %s" % (vm or {}).get("name", vm_id))


def on_sysprep_started(sim, vm_id, vm, guest=None, **_):
    if _is_original(sim, vm_id, vm):
        sim.violation("original_sysprepped", vm_id,
                      "sysprep was run in the original VM %s" % (vm or {}).get("name", vm_id))


def on_extension_provisioning(sim, extension, protected_settings, **_):
    """Protected settings hold secrets (domain-join passwords, registration tokens)."""
    sim.monitor.secrets.learn_from_body({"properties": {"protectedSettings": protected_settings}},
                                    "protected settings of %s" % extension.get("name"))


def on_resource_written(sim, resource_id, resource, request_body=None, **_):
    monitor = sim.monitor
    rtype = str((resource or {}).get("type", "")).lower()
    if rtype == "microsoft.compute/virtualmachines" and tags_mark_original(resource.get("tags")):
        monitor.originals.add(resource_id.lower())
    source = tag_value((resource or {}).get("tags"), CLONE_OF_TAG)
    if isinstance(source, str) and "/virtualmachines/" in source.lower():
        monitor.originals.add(source.lower().rstrip("/"))  # a clone names the original it came from
    if request_body is not None:
        monitor.secrets.learn_from_body(request_body, "secret of %s" % resource_id.rsplit("/", 1)[-1])
    scan_for_secrets(sim, resource_id, resource)


def on_request_write(sim, req, **_):
    """What a client sends: secrets in secret fields are learned, elsewhere they are leaks
    (this also covers actions such as runCommand, whose bodies are never stored)."""
    try:
        body = json.loads(req.raw_body)
    except (ValueError, UnicodeDecodeError):
        return
    sim.monitor.secrets.learn_from_body(body, "secret sent to %s" % req.path.rsplit("/", 1)[-1])
    scan_for_secrets(sim, req.path, body)


def scan_for_secrets(sim, resource_id: str, resource: Any) -> None:
    monitor = sim.monitor
    monitor.secrets.add(sim.identity.client_secret, "the client secret")
    for field, label in monitor.secrets.leaks(resource):
        key = (resource_id.lower().rstrip("/"), field.lower(), label)
        if key in monitor.reported_leaks:
            continue  # the same leak seen in the request and in the stored resource
        monitor.reported_leaks.add(key)
        sim.violation("secret_in_plain_field", resource_id,
                      "%s written into the non-secret field '%s'" % (label, field))


def on_capacity_changed(sim, pool, floor, **_):
    """Recorded once per dip: when available hosts fall below the floor, not while they stay."""
    if pool.users.muted:
        return
    available = pool.users.available_hosts()
    if floor is None or available >= floor:
        pool.below_floor = False
        return
    if not pool.below_floor:
        pool.below_floor = True
        sim.violation("capacity_below_floor", pool.id,
                      "%d available session host(s) in host pool %s, below the floor of %d"
                      % (available, pool.name, floor))


def on_session_host_removing(sim, pool, host, resource_id, reason, **_):
    on_host = pool.users.sessions(host.name)
    if on_host:
        sim.violation("users_on_removed_host", resource_id,
                      "session host %s removed (%s) with %d user session(s) nobody logged off"
                      % (host.name, reason, len(on_host)))


def on_host_sessions_ending(sim, pool, host, reason, **_):
    sessions = pool.users.sessions(host.name)
    if sessions:
        sim.violation("users_on_removed_host", host.vm_id,
                      "VM of session host %s %s with %d user session(s) nobody logged off"
                      % (host.name, reason, len(sessions)))


def on_token_minted(sim, pool, token, **_):
    sim.monitor.secrets.add(token, "registration token of host pool %s" % pool.name)


def learn_originals(sim, **_) -> None:
    """VMs the scenario tags as originals (or that a clone names as its source) stay known as
    originals even if the tag goes."""
    for res in sim.store.list():
        on_resource_written(sim, res["id"], res)


def register(sim) -> None:
    """Hook the monitor onto the events where violations happen (called by ``avdsim.avd``)."""
    sim.monitor = Monitor()
    sim.hooks.on("vm.extension.provisioning", on_extension_provisioning)
    sim.hooks.on("vm.generalized", on_generalized)
    sim.hooks.on("guest.sysprep_started", on_sysprep_started)
    sim.hooks.on("resource.written", on_resource_written)
    sim.hooks.on("request.write", on_request_write)
    sim.hooks.on("avd.token_minted", on_token_minted)
    sim.hooks.on("avd.host_pools_loading", learn_originals)
    sim.hooks.on("avd.capacity_changed", on_capacity_changed)
    sim.hooks.on("avd.session_host_removing", on_session_host_removing)
    sim.hooks.on("avd.host_sessions_ending", on_host_sessions_ending)
