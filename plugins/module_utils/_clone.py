# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Clone a VM: snapshot its managed disks, create disks from the snapshots, create a VM on them.

Every resource made for a clone is named after the clone and tagged with
``goldenimage.role: clone`` and ``goldenimage.clone-of: <source VM id>``, so that a re-run after a
crash reuses what exists and ``state: absent`` finds everything again. The source VM is only read.
"""

from __future__ import annotations

import collections
import functools
import re

from ._errors import (
    ConflictError,
    NotFoundError,
    PreconditionError,
    azure_errors,
    get_or_none,
    ignore_not_found,
)
from ._ids import parse_resource_id, same_id, validate_name
from ._vm import power_state
from ._wait import start_operation, wait_operation

TAG_ROLE = "goldenimage.role"
TAG_CLONE_OF = "goldenimage.clone-of"
ROLE_CLONE = "clone"
ROLE_ORIGINAL = "original"

# Copied from the source disk so that the clone's disks boot the same way (Gen2, Trusted Launch).
_DISK_PROPERTIES_KEPT = ("osType", "hyperVGeneration", "securityProfile", "supportedCapabilities",
                         "diskSizeGB", "networkAccessPolicy", "publicNetworkAccess", "dataAccessAuthMode")


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

def clone_names(name, data_luns=()):
    """Names of everything made for clone ``name``; data disks are keyed by LUN."""
    return {
        "vm": name,
        "nic": "%s-nic" % name,
        "os_disk": "%s-osdisk" % name,
        "os_snapshot": "%s-snap-os" % name,
        "data_disks": {int(lun): "%s-datadisk-%d" % (name, int(lun)) for lun in data_luns},
        "data_snapshots": {int(lun): "%s-snap-data-%d" % (name, int(lun)) for lun in data_luns},
    }


def clone_resource_pattern(name):
    """Regex matching the disk and snapshot names ``clone_names`` gives clone ``name``."""
    return re.compile(r"^%s-(osdisk|datadisk-[0-9]+|snap-os|snap-data-[0-9]+)$" % re.escape(name), re.IGNORECASE)


def validate_clone_params(params):
    validate_name("resource_group", params["resource_group"])
    validate_name("vm", params["name"], option="name")
    if params.get("source_vm"):
        validate_name("vm", params["source_vm"], option="source_vm")
    if params.get("source_resource_group"):
        validate_name("resource_group", params["source_resource_group"], option="source_resource_group")
    names = clone_names(params["name"], range(64))
    longest = max([names["os_disk"], names["nic"], names["os_snapshot"]] + list(names["data_snapshots"].values()),
                  key=len)
    # Disk, snapshot and NIC names are derived from 'name' and must stay valid Azure names too.
    validate_name("disk", longest, option="name (used for '%s')" % longest)
    if params.get("subnet_id"):
        parts = parse_resource_id(params["subnet_id"])
        if (parts["type"] or "").lower() != "virtualnetworks/subnets":
            raise ValueError("Option 'subnet_id' must be a subnet id (.../providers/Microsoft.Network/"
                             "virtualNetworks/<vnet>/subnets/<subnet>), got %r." % params["subnet_id"])
    if params.get("state", "present") == "present" and not params.get("source_vm"):
        raise ValueError("Option 'source_vm' is required with state=present.")
    if params.get("source_vm") and params["source_vm"].lower() == params["name"].lower() and \
            (params.get("source_resource_group") or params["resource_group"]).lower() == \
            params["resource_group"].lower():
        raise ValueError("Option 'name' must differ from 'source_vm': the clone is a new VM.")


def clone_tags(source_vm_id, extra=None):
    tags = dict(extra or {})
    tags[TAG_ROLE] = ROLE_CLONE
    tags[TAG_CLONE_OF] = source_vm_id
    return tags


def is_clone_of(resource, source_vm_id=None):
    tags = (resource or {}).get("tags") or {}
    if tags.get(TAG_ROLE) != ROLE_CLONE or not tags.get(TAG_CLONE_OF):
        return False
    return source_vm_id is None or same_id(tags[TAG_CLONE_OF], source_vm_id)


def source_disks(vm):
    """``[(lun or None for the OS disk, disk id, caching)]`` of a VM's managed disks."""
    storage = (vm.get("properties") or {}).get("storageProfile") or {}
    os_disk = storage.get("osDisk") or {}
    managed = os_disk.get("managedDisk") or {}
    if not managed.get("id"):
        raise PreconditionError("VM '%s' has no managed OS disk; only VMs on managed disks can be cloned."
                                % vm.get("name"))
    disks = [(None, managed["id"], os_disk.get("caching"))]
    for data in sorted(storage.get("dataDisks") or [], key=lambda d: d.get("lun", 0)):
        data_managed = data.get("managedDisk") or {}
        if not data_managed.get("id"):
            raise PreconditionError("Data disk at LUN %s of VM '%s' is not a managed disk; it cannot be cloned."
                                    % (data.get("lun"), vm.get("name")))
        disks.append((int(data["lun"]), data_managed["id"], data.get("caching")))
    return disks


def source_subnet(vm):
    """Subnet of the source VM's primary VM-owned NIC configuration, or None."""
    network = (vm.get("properties") or {}).get("networkProfile") or {}
    configs = network.get("networkInterfaceConfigurations") or []
    configs = sorted(configs, key=lambda c: not (c.get("properties") or {}).get("primary", False))
    for config in configs:
        ip_configs = (config.get("properties") or {}).get("ipConfigurations") or []
        ip_configs = sorted(ip_configs, key=lambda c: not (c.get("properties") or {}).get("primary", False))
        for ip_config in ip_configs:
            subnet = ((ip_config.get("properties") or {}).get("subnet") or {}).get("id")
            if subnet:
                return subnet
    return None


def snapshot_body(location, source_disk_id, tags):
    return {
        "location": location,
        "tags": dict(tags),
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": source_disk_id}},
    }


def disk_body(location, snapshot_id, source_disk, tags, zones=None):
    props = {"creationData": {"createOption": "Copy", "sourceResourceId": snapshot_id}}
    source_props = source_disk.get("properties") or {}
    for key in _DISK_PROPERTIES_KEPT:
        if source_props.get(key) is not None:
            props[key] = source_props[key]
    body = {"location": location, "tags": dict(tags), "properties": props}
    if source_disk.get("sku"):
        body["sku"] = {"name": source_disk["sku"].get("name")}
    if zones:
        body["zones"] = list(zones)
    return body


def vm_body(source_vm, names, os_disk_id, data_disk_ids, subnet_id, vm_size, tags):
    """The clone VM: attached disks, one VM-owned NIC without public IP, same security settings."""
    props = source_vm.get("properties") or {}
    storage = props.get("storageProfile") or {}
    os_disk = storage.get("osDisk") or {}
    data_by_lun = {int(d["lun"]): d for d in storage.get("dataDisks") or []}
    body_props = {
        "hardwareProfile": {"vmSize": vm_size or (props.get("hardwareProfile") or {}).get("vmSize")},
        "storageProfile": {
            "osDisk": {
                "name": names["os_disk"],
                "osType": os_disk.get("osType") or "Windows",
                "createOption": "Attach",
                "caching": os_disk.get("caching") or "ReadWrite",
                "managedDisk": {"id": os_disk_id},
                "deleteOption": "Delete",
            },
            "dataDisks": [
                {
                    "lun": lun,
                    "name": names["data_disks"][lun],
                    "createOption": "Attach",
                    "caching": (data_by_lun.get(lun) or {}).get("caching") or "None",
                    "managedDisk": {"id": disk_id},
                    "deleteOption": "Delete",
                }
                for lun, disk_id in sorted(data_disk_ids.items())
            ],
        },
        "networkProfile": {
            "networkApiVersion": "2020-11-01",
            # The configuration name is unique per clone, so the NIC Azure derives from it is too.
            "networkInterfaceConfigurations": [{
                "name": names["nic"],
                "properties": {
                    "primary": True,
                    "deleteOption": "Delete",
                    "ipConfigurations": [{
                        "name": "ipconfig1",
                        "properties": {"primary": True, "subnet": {"id": subnet_id}},
                    }],
                },
            }],
        },
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
    }
    if props.get("securityProfile"):
        body_props["securityProfile"] = props["securityProfile"]
    if props.get("licenseType"):
        body_props["licenseType"] = props["licenseType"]
    body = {"location": source_vm["location"], "tags": dict(tags), "properties": body_props}
    if source_vm.get("zones"):
        body["zones"] = list(source_vm["zones"])
    return body


def planned_resources(names, data_luns):
    """Every resource a clone consists of, as ``(kind, name)`` pairs in creation order."""
    out = [("snapshot", names["os_snapshot"])]
    out += [("snapshot", names["data_snapshots"][lun]) for lun in data_luns]
    out += [("disk", names["os_disk"])]
    out += [("disk", names["data_disks"][lun]) for lun in data_luns]
    out += [("vm", names["vm"])]
    return out


# ---------------------------------------------------------------------------------------------
# Azure operations
# ---------------------------------------------------------------------------------------------

_ClonePlan = collections.namedtuple("_ClonePlan", "source_vm disks names tags created deadline check_mode")


class Cloner:
    """Clone operations on a ``ComputeManagementClient``; ``to_wire`` turns SDK models into dicts."""

    def __init__(self, compute, to_wire, resource_group):
        self.compute = compute
        self.to_wire = to_wire
        self.resource_group = resource_group

    def _get(self, operation, *args, **kwargs):
        found = get_or_none(operation, *args, **kwargs)
        return None if found is None else self.to_wire(found)

    def get_vm(self, resource_group, name):
        return self._get(self.compute.virtual_machines.get, resource_group, name, expand="instanceView")

    def get_disk_by_id(self, disk_id):
        parts = parse_resource_id(disk_id)
        return self._get(self.compute.disks.get, parts["resource_group"], parts["name"])

    def get_disk(self, name):
        return self._get(self.compute.disks.get, self.resource_group, name)

    def get_snapshot(self, name):
        return self._get(self.compute.snapshots.get, self.resource_group, name)

    def list_clone_disks(self, name):
        pattern = clone_resource_pattern(name)
        return [d for d in (self.to_wire(x) for x in self.compute.disks.list_by_resource_group(self.resource_group))
                if pattern.match(d.get("name") or "") and is_clone_of(d)]

    def list_clone_snapshots(self, name):
        pattern = clone_resource_pattern(name)
        return [s for s in (self.to_wire(x) for x in
                            self.compute.snapshots.list_by_resource_group(self.resource_group))
                if pattern.match(s.get("name") or "") and is_clone_of(s)]

    # -- present -----------------------------------------------------------------------------
    def ensure(self, source_vm, name, vm_size, subnet_id, extra_tags, deadline, check_mode):
        """Create what is missing of clone ``name`` of ``source_vm`` (a wire dict read with instanceView).

        Returns ``(created, resources)``: ``created`` lists ``{"kind", "name"}`` made (or that
        would be made in check mode), ``resources`` the names and ids of the clone's parts.
        """
        source_id = source_vm["id"]
        disks = source_disks(source_vm)
        names = clone_names(name, [lun for lun, _disk_id, _caching in disks if lun is not None])
        tags = clone_tags(source_id, extra_tags)
        created = []

        existing_vm = self.get_vm(self.resource_group, name)
        if existing_vm is not None:
            if not is_clone_of(existing_vm):
                raise ConflictError("VM '%s' already exists in resource group '%s' and is not a clone made by "
                                    "vm_clone; choose another name." % (name, self.resource_group))
            if not is_clone_of(existing_vm, source_id):
                raise ConflictError("VM '%s' is a clone of %s, not of %s; remove it (state=absent) or choose "
                                    "another name." % (name, existing_vm["tags"][TAG_CLONE_OF], source_id))
            return created, self.describe(existing_vm, names)

        plan = _ClonePlan(source_vm, disks, names, tags, created, deadline, check_mode)
        snapshot_ids, source_disk_objs = self._ensure_snapshots(plan)
        disk_ids = self._ensure_disks(plan, snapshot_ids, source_disk_objs)
        created.append({"kind": "vm", "name": name})
        if check_mode:
            return created, {"names": names}
        data_ids = {lun: disk_id for lun, disk_id in disk_ids.items() if lun is not None}
        body = vm_body(source_vm, names, disk_ids[None], data_ids, subnet_id, vm_size, tags)
        self._finish(lambda: self.compute.virtual_machines.begin_create_or_update(self.resource_group, name, body),
                     deadline, "create clone VM '%s'" % name, created, restart=True)
        vm = self.get_vm(self.resource_group, name)
        return created, self.describe(vm, names)

    def _ensure_snapshots(self, plan):
        """Snapshots of the source disks, all started at once, then waited for together.

        Returns ``({lun: snapshot id}, {lun: source disk})``; a snapshot left mid-creation by a crash
        is PUT again with the same body, to wait on it.
        """
        source_id = plan.source_vm["id"]
        snapshot_ids, source_disk_objs, pollers = {}, {}, []
        for lun, disk_id, _caching in plan.disks:
            snap_name = plan.names["os_snapshot"] if lun is None else plan.names["data_snapshots"][lun]
            source_disk = self.get_disk_by_id(disk_id)
            if source_disk is None:
                raise NotFoundError("Disk %s of source VM '%s' was not found." % (disk_id, plan.source_vm["name"]))
            source_disk_objs[lun] = source_disk
            existing = self.get_snapshot(snap_name)
            if existing is not None:
                self._check_reusable(existing, "snapshot", snap_name, source_id, disk_id)
                if (existing.get("properties") or {}).get("provisioningState") in (None, "Succeeded"):
                    snapshot_ids[lun] = existing["id"]
                    continue
            plan.created.append({"kind": "snapshot", "name": snap_name})
            if plan.check_mode:
                continue
            start = functools.partial(self.compute.snapshots.begin_create_or_update, self.resource_group, snap_name,
                                      snapshot_body(plan.source_vm["location"], disk_id, plan.tags))
            pollers.append((lun, snap_name, start_operation(start, "create snapshot '%s'" % snap_name,
                                                            partial={"created": plan.created}), start))
        for lun, snap_name, poller, start in pollers:
            snapshot_ids[lun] = self._finish(poller, plan.deadline, "create snapshot '%s'" % snap_name,
                                             plan.created, restart=start)["id"]
        return snapshot_ids, source_disk_objs

    def _ensure_disks(self, plan, snapshot_ids, source_disk_objs):
        """The clone's disks from the snapshots: ``{lun: disk id}`` (empty for what check mode would make)."""
        source_id = plan.source_vm["id"]
        disk_ids, pollers = {}, []
        for lun, _disk_id, _caching in plan.disks:
            disk_name = plan.names["os_disk"] if lun is None else plan.names["data_disks"][lun]
            existing = self.get_disk(disk_name)
            if existing is not None:
                self._check_reusable(existing, "disk", disk_name, source_id, snapshot_ids.get(lun))
                if (existing.get("properties") or {}).get("provisioningState") in (None, "Succeeded"):
                    disk_ids[lun] = existing["id"]
                    continue
            plan.created.append({"kind": "disk", "name": disk_name})
            if plan.check_mode:
                continue
            body = disk_body(plan.source_vm["location"], snapshot_ids[lun], source_disk_objs[lun], plan.tags,
                             plan.source_vm.get("zones"))
            start = functools.partial(self.compute.disks.begin_create_or_update, self.resource_group, disk_name, body)
            pollers.append((lun, disk_name, start_operation(start, "create disk '%s'" % disk_name,
                                                            partial={"created": plan.created}), start))
        for lun, disk_name, poller, start in pollers:
            disk_ids[lun] = self._finish(poller, plan.deadline, "create disk '%s'" % disk_name, plan.created,
                                         restart=start)["id"]
        return disk_ids

    def _check_reusable(self, existing, kind, name, source_id, expected_source):
        if not is_clone_of(existing, source_id):
            raise ConflictError("%s '%s' already exists in resource group '%s' and was not made by vm_clone for "
                                "%s; remove it or choose another clone name." % (
                                    kind.capitalize(), name, self.resource_group, source_id))
        creation = (existing.get("properties") or {}).get("creationData") or {}
        if expected_source and creation.get("sourceResourceId") and \
                not same_id(creation["sourceResourceId"], expected_source):
            raise ConflictError("%s '%s' left by an earlier run was copied from %s, but the source is now %s; "
                                "remove the clone (state=absent) and run again." % (
                                    kind.capitalize(), name, creation["sourceResourceId"], expected_source))

    def _finish(self, poller, deadline, operation, created, restart=None):
        """Wait for ``operation`` (started again by ``restart`` after a transient failure, see
        ``wait_operation``); on a timeout, running the task again reuses what was made."""
        return self.to_wire(wait_operation(poller, deadline, operation, partial={"created": created}, restart=restart))

    def check_os_disk(self, vm):
        """Refuse a VM tagged as a clone whose OS disk vm_clone did not make for the same source.

        Tags are easy to copy onto the wrong VM; the disk vm_clone made carries the same clone tags.
        """
        tags = (vm or {}).get("tags") or {}
        os_disk = ((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {}
        disk_id = (os_disk.get("managedDisk") or {}).get("id")
        disk = self.get_disk_by_id(disk_id) if disk_id else None
        if disk is not None and not is_clone_of(disk, tags.get(TAG_CLONE_OF)):
            raise PreconditionError(
                "VM '%s' is tagged as a clone, but its OS disk '%s' was not made by vm_clone for %s; refusing to "
                "touch it: it may be an original VM with copied tags."
                % (vm.get("name"), disk.get("name"), tags.get(TAG_CLONE_OF)))

    # -- absent ------------------------------------------------------------------------------
    def find(self, name):
        """Everything that belongs to clone ``name``: ``{"vm", "disks", "snapshots"}`` (wire dicts)."""
        vm = self.get_vm(self.resource_group, name)
        disks = {d["id"].lower(): d for d in self.list_clone_disks(name)}
        if vm is not None and is_clone_of(vm):
            storage = (vm.get("properties") or {}).get("storageProfile") or {}
            attached = [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or [])
            for entry in attached:
                disk_id = (entry.get("managedDisk") or {}).get("id")
                if disk_id and disk_id.lower() not in disks:
                    disk = self.get_disk_by_id(disk_id)
                    if disk is not None and is_clone_of(disk):
                        disks[disk_id.lower()] = disk
        return {"vm": vm, "disks": list(disks.values()), "snapshots": self.list_clone_snapshots(name)}

    def remove(self, name, found, deadline, source_id=None):
        """Delete the clone VM (with its NIC), then its disks and snapshots; returns what was deleted."""
        vm = found["vm"]
        deleted = []
        if vm is not None:
            if not is_clone_of(vm):
                raise PreconditionError(
                    "VM '%s' in resource group '%s' is not a clone made by vm_clone (no '%s: %s' tag); refusing to "
                    "delete it." % (name, self.resource_group, TAG_ROLE, ROLE_CLONE))
            if source_id is not None and not is_clone_of(vm, source_id):
                raise PreconditionError("VM '%s' is a clone of %s, not of %s; refusing to delete it." % (
                    name, vm["tags"][TAG_CLONE_OF], source_id))
            with ignore_not_found() as outcome:
                self._finish(functools.partial(self.compute.virtual_machines.begin_delete, self.resource_group, name),
                             deadline, "delete clone VM '%s'" % name, deleted, restart=True)
            if outcome.found:
                deleted.append({"kind": "vm", "name": name})
        pollers = []
        for kind, items, operations in (("disk", found["disks"], self.compute.disks),
                                        ("snapshot", found["snapshots"], self.compute.snapshots)):
            for item in items:
                if source_id is not None and not is_clone_of(item, source_id):
                    continue
                parts = parse_resource_id(item["id"])
                start = functools.partial(operations.begin_delete, parts["resource_group"], parts["name"])
                with ignore_not_found(), azure_errors("delete %s '%s'" % (kind, parts["name"])):
                    pollers.append((kind, parts["name"], start(), start))
        for kind, item_name, poller, start in pollers:
            with ignore_not_found() as outcome:
                self._finish(poller, deadline, "delete %s '%s'" % (kind, item_name), deleted, restart=start)
            if outcome.found:
                deleted.append({"kind": kind, "name": item_name})
        return deleted

    @staticmethod
    def describe(vm, names):
        props = (vm or {}).get("properties") or {}
        storage = props.get("storageProfile") or {}
        network = props.get("networkProfile") or {}
        return {
            "id": (vm or {}).get("id"),
            "name": (vm or {}).get("name"),
            "location": (vm or {}).get("location"),
            "vm_size": (props.get("hardwareProfile") or {}).get("vmSize"),
            "power_state": power_state(vm),
            "os_disk_id": ((storage.get("osDisk") or {}).get("managedDisk") or {}).get("id"),
            "data_disk_ids": [((d.get("managedDisk") or {}).get("id")) for d in storage.get("dataDisks") or []],
            "nic_ids": [n.get("id") for n in network.get("networkInterfaces") or []],
            "tags": (vm or {}).get("tags") or {},
            "names": names,
        }
