# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Host pools as the rollout sees them: settings, marker binding, session hosts joined with their VMs.

Reads cost one host-pool GET, one session-host list, one VM list of the resource group - plus one
per other resource group that holds session-host VMs -, one VM GET with its instance view per
session-host or rollout VM (its power state: Azure refuses ``$expand=instanceView`` on a VM list without a
scale-set filter) and, when the pool follows a marker, one list of the image definition's versions.

Also the rollout lease kept in the host-pool tag ``goldenimage.rollout-lock``: a value
``owner=<run>;expires=<UTC ISO 8601>;hosts=<N>;in_service=<A>;floor=<F>;target=<version>``.
The lease expiry is written from the ARM clock. ``hosts``/``in_service``/``floor`` let a run that
takes over an expired lease (after a crash) aim at the same pool size and capacity floor.
"""

from __future__ import annotations

import datetime
import time

from ._errors import ConflictError, PreconditionError, ignore_not_found
from ._ids import parse_resource_id
from ._module import to_wire
from ._marker_plans import resolve_marker
from ._marker_tags import binding_of, parse_time, summarize_version
from ._rollout import normalize_id, short_name
from ._vm import find_vm, power_state
from ._wait import Deadline, wait_for

TAG_FOLLOW_IMAGE = "goldenimage.follow-image"
TAG_FOLLOW_MARKER = "goldenimage.follow-marker"
TAG_MIN_AVAILABLE = "goldenimage.min-available-hosts"
TAG_LOCK = "goldenimage.rollout-lock"
TAG_ROLLOUT = "goldenimage.rollout"

_LOCK_FIELDS = ("owner", "expires", "hosts", "in_service", "floor", "target")
_LOCK_INTS = ("hosts", "in_service", "floor")


# --------------------------------------------------------------------------- reads

def get_pool(desktop, resource_group, host_pool):
    return to_wire(desktop.host_pools.get(resource_group, host_pool))


def list_session_hosts(desktop, resource_group, host_pool):
    return [to_wire(item) for item in desktop.session_hosts.list(resource_group, host_pool)]


def list_vms(compute, resource_group):
    """Every VM of the resource group, in one paged list call, without instance views: Azure refuses
    ``$expand=instanceView`` on a VM list without a scale-set ``$filter`` (400 BadRequest "Expand
    Instance View is only supported when Virtual Machine Scale Set resource filter is applied");
    ``add_instance_views`` reads the power state of the VMs that need it."""
    return [to_wire(item) for item in compute.virtual_machines.list(resource_group)]


def add_instance_views(compute, vms):
    """Set ``properties.instanceView`` (power state) of each VM of ``vms``: one
    ``GET .../virtualMachines/{vm}?$expand=instanceView`` per VM, in the VM's own resource group
    (``virtualMachines/read``, the action the documented role already has; Compute's cheap
    LowCostGet policy). Not one ``statusOnly=true`` list of the subscription: that needs read
    access at subscription scope, and the documented role is assigned to resource groups (README,
    "Azure RBAC"). A VM deleted meanwhile keeps no view. Returns ``vms``."""
    for vm in vms:
        group = parse_resource_id(vm.get("id") or "")["resource_group"]
        fresh = find_vm(compute, group, vm.get("name"))
        view = ((fresh or {}).get("properties") or {}).get("instanceView")
        if view is not None:
            vm.setdefault("properties", {})["instanceView"] = view
    return vms


def vm_resource_groups(session_hosts, pool_id, resource_group):
    """Resource groups other than ``resource_group`` (same subscription as the pool) that hold VMs
    of ``session_hosts``, as their ``resourceId`` names them; sorted, each once."""
    try:
        subscription = parse_resource_id(pool_id or "")["subscription_id"].lower()
    except ValueError:
        subscription = None
    found = {}
    for session_host in session_hosts:
        try:
            parts = parse_resource_id((session_host.get("properties") or {}).get("resourceId") or "")
        except ValueError:
            continue
        group = parts["resource_group"]
        if not group or group.lower() == (resource_group or "").lower():
            continue
        if subscription is not None and parts["subscription_id"].lower() != subscription:
            continue  # the compute client reads one subscription
        found.setdefault(group.lower(), group)
    return [found[key] for key in sorted(found)]


def session_host_short_name(session_host):
    """``vm.domain`` from ``hostpool/vm.domain`` (the name the session-host API takes)."""
    return (session_host.get("name") or "").rsplit("/", 1)[-1]


def vm_provisioning_state(vm):
    return (vm.get("properties") or {}).get("provisioningState")


def vm_image(vm):
    """``{image_definition_id, image_version, image_version_id}`` of the gallery image a VM runs."""
    reference = ((vm.get("properties") or {}).get("storageProfile") or {}).get("imageReference") or {}
    ref_id = reference.get("id") or reference.get("sharedGalleryImageId") or reference.get("communityGalleryImageId")
    exact = reference.get("exactVersion")
    definition = version = None
    if ref_id:
        head, sep, tail = ref_id.rpartition("/versions/")
        if sep and tail and tail.lower() != "latest":
            definition, version = head, tail
        else:
            definition, version = (head if sep else ref_id), exact
    elif reference.get("publisher"):
        definition = "%s:%s:%s" % (reference.get("publisher"), reference.get("offer"), reference.get("sku"))
        version = exact or reference.get("version")
    version_id = "%s/versions/%s" % (definition, version) if definition and version and ref_id else None
    return {"image_definition_id": definition, "image_version": version, "image_version_id": version_id}


def list_image_versions(compute, definition_id):
    parts = parse_resource_id(definition_id)
    if parts["type"] is None or parts["type"].lower() != "galleries/images":
        raise ValueError("goldenimage.follow-image must be a gallery image definition id "
                         "(.../galleries/<gallery>/images/<image>), got %r" % definition_id)
    gallery, image = parts["names"][0], parts["names"][1]
    return [to_wire(item) for item in
            compute.gallery_image_versions.list_by_gallery_image(parts["resource_group"], gallery, image)]


def marker_holder(versions, marker):
    """The version (wire dict) that holds ``marker`` under the markers' newest-claim rule, or None."""
    name = resolve_marker([summarize_version(version) for version in versions], marker)
    for version in versions:
        if version.get("name") == name:
            return version
    return None


def parse_lock(value):
    """The lease fields of a ``goldenimage.rollout-lock`` tag value (unknown fields ignored)."""
    out = {}
    for part in (value or "").split(";"):
        key, sep, item = part.partition("=")
        key = key.strip()
        if not sep or key not in _LOCK_FIELDS:
            continue
        item = item.strip()
        if key in _LOCK_INTS:
            try:
                out[key] = int(item)
            except ValueError:
                continue
        else:
            out[key] = item
    return out


def format_lock(fields):
    return ";".join("%s=%s" % (key, fields[key]) for key in _LOCK_FIELDS if fields.get(key) not in (None, ""))


def format_time(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lock_state(tags, now):
    """``{present, owner, expires, expired, ...}`` of the pool's lease at ``now`` (ARM clock)."""
    value = (tags or {}).get(TAG_LOCK)
    if not value:
        return {"present": False, "expired": True}
    fields = parse_lock(value)
    expires = parse_time(fields.get("expires"))
    fields.update(present=True, expired=expires is None or expires <= now)
    return fields


# --------------------------------------------------------------------------- the joined view

def pool_settings(pool):
    props = pool.get("properties") or {}
    tags = pool.get("tags") or {}
    return {
        "id": pool.get("id"),
        "name": pool.get("name"),
        "location": pool.get("location"),
        "host_pool_type": props.get("hostPoolType"),
        "load_balancer_type": props.get("loadBalancerType"),
        "max_session_limit": props.get("maxSessionLimit"),
        "preferred_app_group_type": props.get("preferredAppGroupType"),
        "start_vm_on_connect": props.get("startVMOnConnect"),
        "validation_environment": props.get("validationEnvironment"),
        "tags": tags,
        "follow_image": (binding_of(tags) or {}).get("image_id"),
        "follow_marker": (binding_of(tags) or {}).get("marker"),
        "min_available_hosts": _int_or_none(tags.get(TAG_MIN_AVAILABLE)),
    }


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe_host(session_host, vm, target_version_id):
    props = session_host.get("properties") or {}
    vm = vm or {}
    image = vm_image(vm) if vm else {"image_definition_id": None, "image_version": None, "image_version_id": None}
    host = {
        "name": short_name(session_host.get("name")),
        "session_host_name": session_host_short_name(session_host),
        "id": session_host.get("id"),
        "vm_id": props.get("resourceId") or vm.get("id"),
        "vm_name": vm.get("name"),
        "vm_found": bool(vm),
        "sessions": int(props.get("sessions") or 0),
        "allow_new_session": bool(props.get("allowNewSession", True)),
        "status": props.get("status"),
        "update_state": props.get("updateState"),
        "agent_version": props.get("agentVersion"),
        "last_heartbeat": props.get("lastHeartBeat"),
        "power_state": power_state(vm, default=None) if vm else None,  # null, not "unknown", without a view
        "rollout": (vm.get("tags") or {}).get(TAG_ROLLOUT),
    }
    host.update(image)
    if target_version_id:
        host["outdated"] = normalize_id(host["image_version_id"]) != normalize_id(target_version_id)
    else:
        host["outdated"] = None
    return host


def host_vm(session_host, by_id, by_name):
    """The VM of a session host: by its ``resourceId``, else by its name."""
    props = session_host.get("properties") or {}
    return by_id.get(normalize_id(props.get("resourceId"))) or by_name.get(short_name(session_host.get("name")))


def needing_views(session_hosts, vms, by_id, by_name):
    """The VMs whose power state a report shows: session-host VMs and rollout VMs, each once."""
    found = {}
    for vm in [host_vm(sh, by_id, by_name) for sh in session_hosts]:
        if vm is not None:
            found.setdefault(normalize_id(vm.get("id")), vm)
    for vm in vms:
        if TAG_ROLLOUT in (vm.get("tags") or {}):
            found.setdefault(normalize_id(vm.get("id")), vm)
    return list(found.values())


def collect(desktop, compute, resource_group, host_pool, image_version_id=None, now=None):
    """Pool settings, binding, target version and every session host joined with its VM."""
    pool = get_pool(desktop, resource_group, host_pool)
    settings = pool_settings(pool)
    target = {"source": None, "image_version_id": None, "version": None}
    if image_version_id:
        target.update(source="image_version_id", image_version_id=image_version_id,
                      version=image_version_id.rstrip("/").rsplit("/", 1)[-1])
    elif settings["follow_image"] and settings["follow_marker"]:
        holder = marker_holder(list_image_versions(compute, settings["follow_image"]), settings["follow_marker"])
        target["source"] = "marker"
        if holder is not None:
            target.update(image_version_id=holder.get("id"), version=holder.get("name"))
    session_hosts = list_session_hosts(desktop, resource_group, host_pool)
    vms = list_vms(compute, resource_group)
    for other in vm_resource_groups(session_hosts, pool.get("id"), resource_group):
        # session-host VMs kept in resource groups of their own: one more list per group
        with ignore_not_found():
            vms += list_vms(compute, other)
    by_id = {normalize_id(vm.get("id")): vm for vm in vms}
    by_name = {(vm.get("name") or "").lower(): vm for vm in vms}
    add_instance_views(compute, needing_views(session_hosts, vms, by_id, by_name))
    hosts = []
    registered = set()
    for session_host in session_hosts:
        vm = host_vm(session_host, by_id, by_name)
        host = describe_host(session_host, vm, target["image_version_id"])
        hosts.append(host)
        registered.add(normalize_id(host["vm_id"]))
        registered.add(host["name"])
    hosts.sort(key=lambda h: h["name"])
    unregistered = []
    for vm in vms:
        tags = vm.get("tags") or {}
        if TAG_ROLLOUT not in tags or normalize_id(vm.get("id")) in registered or vm.get("name", "").lower() in registered:
            continue
        item = {"name": vm.get("name"), "id": vm.get("id"), "rollout": tags.get(TAG_ROLLOUT),
                "power_state": power_state(vm, default=None), "provisioning_state": vm_provisioning_state(vm)}
        item.update(vm_image(vm))
        unregistered.append(item)
    settings["lock"] = lock_state(settings["tags"], now) if now is not None else None
    return {
        "host_pool": settings,
        "target": target,
        "session_hosts": hosts,
        "unregistered_vms": sorted(unregistered, key=lambda v: v["name"]),
        "vm_names": sorted(vm.get("name") for vm in vms if vm.get("name")),
        "summary": summarize(hosts),
    }


def summarize(hosts):
    return {
        "hosts": len(hosts),
        "in_service": sum(1 for h in hosts if (h["status"] or "").lower() == "available" and h["allow_new_session"]),
        "drained": sum(1 for h in hosts if not h["allow_new_session"]),
        "sessions": sum(h["sessions"] for h in hosts),
        "outdated": sum(1 for h in hosts if h.get("outdated")),
    }


# --------------------------------------------------------------------------- lease writes

def update_pool_tags(desktop, resource_group, host_pool, tags):
    """PATCH the host pool's tags (the whole tag set, as ARM PATCH replaces it)."""
    return to_wire(desktop.host_pools.update(resource_group, host_pool, host_pool={"tags": tags}))


def plan_lease(tags, holder, now, lease_seconds, fields, floor=None, renew_below=None):
    """What taking the lease for ``holder`` does to the pool's ``tags`` (pure): ``(action, new_tags)``.

    ``action`` is ``take`` (no lease, an expired one, or another holder's expired one), ``renew`` (this
    holder's lease with less than ``renew_below`` seconds left, or new ``floor``/``target``) or ``keep``
    (nothing to write; ``new_tags`` is ``tags``). Raises ConflictError while another holder's lease is valid.
    """
    tags = dict(tags or {})
    current = lock_state(tags, now)
    if current["present"] and not current["expired"] and current.get("owner") != holder:
        raise ConflictError(
            "being rolled out by %s until %s (tag %s); wait for it to finish, or remove the "
            "tag if that run is known to be dead" % (current.get("owner"), current.get("expires"), TAG_LOCK),
            hint="Only one rollout may change a host pool at a time.")
    merged = {key: value for key, value in fields.items() if value is not None}
    if current["present"] and current.get("target") in (None, fields.get("target")):
        # resume data (pool size and in-service count at the start) survives a crashed run
        merged.update({key: current[key] for key in ("hosts", "in_service") if key in current})
    mine = current["present"] and not current["expired"] and current.get("owner") == holder
    if mine and _lease_holds(current, merged, tags, now, floor, lease_seconds if renew_below is None else renew_below):
        return "keep", tags
    merged["owner"] = holder
    merged["expires"] = format_time(now + datetime.timedelta(seconds=lease_seconds))
    tags[TAG_LOCK] = format_lock(merged)
    if floor is not None:
        tags[TAG_MIN_AVAILABLE] = str(floor)
    return ("renew" if mine else "take"), tags


def _lease_holds(current, merged, tags, now, floor, renew_below):
    """Whether this holder's valid lease ``current`` already says ``merged`` and lasts ``renew_below`` more seconds."""
    left = (parse_time(current.get("expires")) - now).total_seconds()
    same = all(current.get(key) == value for key, value in merged.items())
    return same and left >= renew_below and (floor is None or tags.get(TAG_MIN_AVAILABLE) == str(floor))


def acquire_lock(desktop, resource_group, host_pool, holder, now, lease_seconds, fields, floor=None,
                 settle_seconds=0.0, sleep=time.sleep, renew_below=None):
    """Take or renew the lease for ``holder`` (``plan_lease``); returns ``(changed, lock_fields, pool)``.

    Raises ConflictError when another holder's lease is still valid. Host pools have no
    conditional writes, so taking a free lease is Fischer's protocol: read, write, wait
    ``settle_seconds`` (longer than any run needs between its read and its write), read again;
    of two runs that raced, only the one whose value is still there (the last writer) goes on.
    """
    pool = get_pool(desktop, resource_group, host_pool)
    try:
        action, tags = plan_lease(pool.get("tags"), holder, now, lease_seconds, fields, floor, renew_below)
    except ConflictError as error:
        raise ConflictError("host pool %s: %s" % (host_pool, error.message), hint=error.hint) from None
    if action == "keep":
        return False, lock_state(pool.get("tags"), now), pool
    update_pool_tags(desktop, resource_group, host_pool, tags)
    if action == "take" and settle_seconds > 0:
        sleep(settle_seconds)
    check = get_pool(desktop, resource_group, host_pool)
    seen = parse_lock((check.get("tags") or {}).get(TAG_LOCK))
    if seen.get("owner") != holder:
        raise ConflictError("host pool %s: another run (%s) took the rollout lease at the same moment; this run "
                            "stops without changing anything" % (host_pool, seen.get("owner")))
    return True, lock_state(check.get("tags"), now), check


def wait_for_lock(desktop, resource_group, host_pool, holder, server_now, lease_seconds, fields, timeout,
                  poll_interval, floor=None, settle_seconds=0.0, renew_below=None):
    """``acquire_lock``, trying again every ``poll_interval`` while another run holds a valid lease.

    After ``timeout`` seconds (0: at once) the other run's ``ConflictError`` is raised as it is.
    """
    deadline = Deadline(timeout)

    def acquired():
        try:
            return acquire_lock(desktop, resource_group, host_pool, holder, server_now(), lease_seconds, fields,
                                floor=floor, settle_seconds=settle_seconds, renew_below=renew_below)
        except ConflictError:
            if deadline.expired():
                raise
            return None

    return wait_for(acquired, deadline, poll_interval, "the rollout lease of host pool %s" % host_pool)


def plan_release(tags, holder, now, finished):
    """What ending ``holder``'s lease does to the pool's ``tags`` (pure): ``(changed, new_tags)``.

    ``finished`` removes the lock and the floor tag; else the lease expires now and the resume data stays
    for the next run. A valid lease of another holder raises PreconditionError."""
    tags = dict(tags or {})
    current = lock_state(tags, now)
    if current["present"] and current.get("owner") not in (None, holder) and not current["expired"]:
        raise PreconditionError("the rollout lease belongs to %s, not to %s; left unchanged"
                                % (current.get("owner"), holder))
    changed = False
    if TAG_MIN_AVAILABLE in tags:
        del tags[TAG_MIN_AVAILABLE]
        changed = True
    if finished and TAG_LOCK in tags:
        del tags[TAG_LOCK]
        changed = True
    elif not finished and current["present"] and not current["expired"]:
        fields = parse_lock(tags[TAG_LOCK])
        fields["expires"] = format_time(now)
        tags[TAG_LOCK] = format_lock(fields)
        changed = True
    return changed, tags


def release_lock(desktop, resource_group, host_pool, holder, now, finished):
    """End the lease (``plan_release``); returns ``changed``. A lease of another holder is left alone."""
    pool = get_pool(desktop, resource_group, host_pool)
    try:
        changed, tags = plan_release(pool.get("tags"), holder, now, finished)
    except PreconditionError as error:
        raise PreconditionError("host pool %s: %s" % (host_pool, error.message)) from None
    if changed:
        update_pool_tags(desktop, resource_group, host_pool, tags)
    return changed
