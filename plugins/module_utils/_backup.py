# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""VM backups as Azure restore points: create, prune, delete, and revert a VM's disks to one."""

from __future__ import annotations

import functools

from ._errors import (
    ConflictError,
    PreconditionError,
    get_or_none,
    ignore_not_found,
)
from ._ids import parse_resource_id, same_id, validate_name
from ._vm import get_vm, power_state
from ._wait import start_operation, wait_operation

TAG_RESTORED_FROM = "goldenimage.restored-from"
TAG_ROLE = "goldenimage.role"


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

def default_collection_name(vm_name):
    return "%s-restorepoints" % vm_name


def validate_backup_params(params):
    validate_name("resource_group", params["resource_group"])
    validate_name("vm", params["vm"], option="vm")
    collection = params.get("collection") or default_collection_name(params["vm"])
    validate_name("restore_point", collection, option="collection")
    if params.get("name"):
        validate_name("restore_point", params["name"], option="name")
    elif params.get("state", "present") in ("absent", "restored"):
        raise ValueError("Option 'name' is required with state=%s (the restore point to %s)." % (
            params["state"], "delete" if params["state"] == "absent" else "restore"))
    retain = params.get("retain")
    if retain is not None and retain < 1:
        raise ValueError("Option 'retain' must be at least 1 (the restore point just made is always kept), got %d."
                         % retain)


def restore_points_to_prune(restore_points, retain, keep_name=None):
    """The restore points to delete so that at most ``retain`` remain, oldest first.

    ``restore_points`` are wire dicts with ``properties.timeCreated``; ``keep_name`` is never pruned.
    Restore points still being created are never pruned.
    """
    if retain is None:
        return []
    ready = [rp for rp in restore_points
             if ((rp.get("properties") or {}).get("provisioningState") or "Succeeded") in ("Succeeded", "Failed")]
    ordered = sorted(ready, key=lambda rp: ((rp.get("properties") or {}).get("timeCreated") or "", rp.get("name")))
    excess = len(restore_points) - retain
    out = []
    for rp in ordered:
        if excess <= 0:
            break
        if keep_name and (rp.get("name") or "").lower() == keep_name.lower():
            continue
        out.append(rp)
        excess -= 1
    return out


def restored_disk_name(disk_name, restore_point_name):
    """Name of a disk re-created from a restore point; Azure disk names hold at most 80 characters."""
    suffix = "-rp-%s" % restore_point_name
    return (disk_name[:80 - len(suffix)] + suffix).strip(".-")


def disk_restore_points(restore_point):
    """``[(lun or None, source disk id, disk name, disk restore point id)]`` of a restore point."""
    storage = (((restore_point.get("properties") or {}).get("sourceMetadata") or {}).get("storageProfile") or {})
    out = []
    os_disk = storage.get("osDisk") or {}
    if os_disk:
        out.append((None, (os_disk.get("managedDisk") or {}).get("id"), os_disk.get("name"),
                    (os_disk.get("diskRestorePoint") or {}).get("id")))
    for data in storage.get("dataDisks") or []:
        out.append((int(data.get("lun", 0)), (data.get("managedDisk") or {}).get("id"), data.get("name"),
                    (data.get("diskRestorePoint") or {}).get("id")))
    return out


def describe_restore_point(rp):
    props = (rp or {}).get("properties") or {}
    return {
        "id": rp.get("id"),
        "name": rp.get("name"),
        "time_created": props.get("timeCreated"),
        "provisioning_state": props.get("provisioningState"),
        "consistency_mode": props.get("consistencyMode"),
        "disks": [{"lun": lun, "disk_id": disk_id, "name": name, "disk_restore_point_id": drp}
                  for lun, disk_id, name, drp in disk_restore_points(rp)],
    }


# ---------------------------------------------------------------------------------------------
# Azure operations
# ---------------------------------------------------------------------------------------------

class Backup:
    def __init__(self, compute, to_wire, resource_group, vm_name, collection):
        self.compute = compute
        self.to_wire = to_wire
        self.resource_group = resource_group
        self.vm_name = vm_name
        self.collection = collection

    def _get(self, operation, *args, **kwargs):
        found = get_or_none(operation, *args, **kwargs)
        return None if found is None else self.to_wire(found)

    def get_vm(self):
        return get_vm(self.compute, self.resource_group, self.vm_name)

    def get_collection(self):
        return self._get(self.compute.restore_point_collections.get, self.resource_group, self.collection,
                         expand="restorePoints")

    def get_restore_point(self, name):
        return self._get(self.compute.restore_points.get, self.resource_group, self.collection, name)

    def list_restore_points(self, collection=None):
        collection = collection if collection is not None else self.get_collection()
        return list(((collection or {}).get("properties") or {}).get("restorePoints") or [])

    def ensure_collection(self, vm, tags):
        existing = self.get_collection()
        if existing is not None:
            source = ((existing.get("properties") or {}).get("source") or {}).get("id")
            if source and not same_id(source, vm["id"]):
                raise ConflictError("Restore point collection '%s' belongs to %s, not to VM '%s'; choose another "
                                    "'collection'." % (self.collection, source, self.vm_name))
            return existing, False
        body = {"location": vm["location"], "tags": dict(tags or {}),
                "properties": {"source": {"id": vm["id"]}}}
        created = self.to_wire(self.compute.restore_point_collections.create_or_update(
            self.resource_group, self.collection, body))
        return created, True

    def create_restore_point(self, name, deadline, exclude_disks=None):
        body = {"properties": {}}
        if exclude_disks:
            body["properties"]["excludeDisks"] = [{"id": disk_id} for disk_id in exclude_disks]
        wait_operation(functools.partial(self.compute.restore_points.begin_create, self.resource_group, self.collection,
                                         name, body), deadline, "create restore point '%s'" % name, restart=True)
        return self.get_restore_point(name)

    def delete_restore_point(self, name, deadline):
        with ignore_not_found() as outcome:
            wait_operation(functools.partial(self.compute.restore_points.begin_delete, self.resource_group,
                                             self.collection, name), deadline, "delete restore point '%s'" % name,
                           restart=True)
        return outcome.found

    # -- restore -----------------------------------------------------------------------------
    def tag_value(self, restore_point):
        """``<collection>/<restore point>``: short enough for a tag value (256 characters), unlike the ids."""
        return ("%s/%s" % (self.collection, restore_point["name"]))[:256]

    def restore_plan(self, vm, restore_point):
        """``[(lun, current disk id, new disk name, disk restore point id)]`` for the disks to swap.

        Empty when the VM already runs on disks restored from this restore point.
        """
        storage = (vm.get("properties") or {}).get("storageProfile") or {}
        current = {None: ((storage.get("osDisk") or {}).get("managedDisk") or {}).get("id")}
        for data in storage.get("dataDisks") or []:
            current[int(data.get("lun", 0))] = (data.get("managedDisk") or {}).get("id")
        plan = []
        for lun, _disk_id, disk_name, drp_id in disk_restore_points(restore_point):
            if not drp_id:
                continue
            current_id = current.get(lun)
            if current_id:
                disk = self._get(self.compute.disks.get, *_rg_and_name(current_id))
                if disk is not None and (disk.get("tags") or {}).get(TAG_RESTORED_FROM) == self.tag_value(
                        restore_point):
                    continue
            name = restored_disk_name(disk_name or "%s-disk-%s" % (self.vm_name, "os" if lun is None else lun),
                                      restore_point["name"])
            plan.append((lun, current_id, name, drp_id))
        return plan

    def restore(self, vm, restore_point, plan, deadline):
        """Create disks from the disk restore points and attach them in place of the current ones.

        The replaced disks are left in place (returned) so nothing is lost; delete them when done.
        """
        if power_state(vm) != "deallocated":
            raise PreconditionError("VM '%s' must be deallocated to restore its disks (power state: %s); deallocate "
                                    "it with goldenimage.avd.vm_power first." % (self.vm_name, power_state(vm)))
        pollers = []
        new_ids = {}
        for lun, current_id, name, drp_id in plan:
            existing = self._get(self.compute.disks.get, self.resource_group, name)
            if existing is not None and (existing.get("tags") or {}).get(TAG_RESTORED_FROM) == \
                    self.tag_value(restore_point):
                new_ids[lun] = existing["id"]
                continue
            source = self._get(self.compute.disks.get, *_rg_and_name(current_id)) if current_id else None
            body = restored_disk_body(vm, source, drp_id, self.tag_value(restore_point))
            start = functools.partial(self.compute.disks.begin_create_or_update, self.resource_group, name, body)
            pollers.append((lun, name, start_operation(start, "create disk '%s'" % name), start))
        for lun, name, poller, start in pollers:
            new_ids[lun] = self.to_wire(wait_operation(poller, deadline, "create disk '%s'" % name, restart=start))["id"]
        update = {"properties": {"storageProfile": swapped_storage(vm, new_ids)}}
        wait_operation(functools.partial(self.compute.virtual_machines.begin_update, self.resource_group, self.vm_name,
                                         update), deadline, "swap the disks of VM '%s'" % self.vm_name, restart=True)
        return [current_id for _lun, current_id, _name, _drp in plan if current_id]


def restored_disk_body(vm, source, disk_restore_point_id, tag_value):
    """The disk made from a disk restore point; boots like ``source`` (the disk it replaces) did."""
    body = {
        "location": vm["location"],
        "tags": {TAG_RESTORED_FROM: tag_value},
        "properties": {"creationData": {"createOption": "Restore", "sourceResourceId": disk_restore_point_id}},
    }
    if source is not None:
        for key in ("osType", "hyperVGeneration", "securityProfile"):
            if (source.get("properties") or {}).get(key) is not None:
                body["properties"][key] = source["properties"][key]
        if source.get("sku"):
            body["sku"] = {"name": source["sku"].get("name")}
    if vm.get("zones"):
        body["zones"] = list(vm["zones"])
    return body


def swapped_storage(vm, new_ids):
    """The VM's storage profile with the disks of ``new_ids`` (``{lun or None: disk id}``) swapped in."""
    storage = (vm.get("properties") or {}).get("storageProfile") or {}
    os_disk = dict(storage.get("osDisk") or {})
    if None in new_ids:
        os_disk["managedDisk"] = {"id": new_ids[None]}
        os_disk["name"] = parse_resource_id(new_ids[None])["name"]
    data_disks = []
    for data in storage.get("dataDisks") or []:
        data = dict(data)
        lun = int(data.get("lun", 0))
        if lun in new_ids:
            data["managedDisk"] = {"id": new_ids[lun]}
            data["name"] = parse_resource_id(new_ids[lun])["name"]
            data["createOption"] = "Attach"
        data_disks.append(data)
    return {"osDisk": os_disk, "dataDisks": data_disks}


def _rg_and_name(resource_id):
    parts = parse_resource_id(resource_id)
    return parts["resource_group"], parts["name"]
