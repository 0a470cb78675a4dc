"""``storageProfile.dataDisks`` of a VM: plan (validate) and apply attachments."""

from __future__ import annotations

import copy
import uuid

from .. import disks as _disks
from ..arm import norm_location
from ..errors import ArmError, invalid_parameter
from ..ids import resource_id
from ..vmstate import detach


def _managed_id(entry: dict) -> str:
    return (entry.get("managedDisk") or {}).get("id") or ""


def _lun(dd: dict, luns: set) -> int:
    if "lun" not in dd:
        raise invalid_parameter("Required parameter 'dataDisks.lun' is missing (null).",
                                "dataDisks.lun")
    lun = int(dd["lun"])
    if lun in luns or not 0 <= lun <= 63:
        raise invalid_parameter(f"Data disk LUN {lun} is invalid or used twice.",
                                "dataDisks.lun")
    luns.add(lun)
    return lun


def check_attachable(disk: dict, location: str, shown_id: str, target: str) -> None:
    """An existing disk can be attached to a VM in ``location`` (not attached elsewhere)."""
    if disk.get("managedBy"):
        raise ArmError(409, "OperationNotAllowed", f"Disk {disk['name']} is already "
                       f"attached to VM {disk['managedBy']}.")
    if norm_location(disk["location"]) != location:
        raise invalid_parameter(f"Disk {shown_id} is in location {disk['location']}, the VM "
                                f"in {location}.", target)


def _attach_entry(sim, dd, lun, location) -> tuple[dict, dict]:
    mid = _managed_id(dd)
    disk = sim.store.get(mid) if mid else None
    if disk is None:
        raise ArmError(404, "NotFound", f"Disk {mid} was not found." if mid else
                       "Required parameter 'dataDisks.managedDisk.id' is missing.")
    check_attachable(disk, location, mid, "dataDisks.managedDisk.id")
    return disk, {"lun": lun, "name": disk["name"], "createOption": "Attach",
                  "caching": dd.get("caching", "None"),
                  "managedDisk": {"storageAccountType": disk["sku"]["name"], "id": disk["id"]},
                  "deleteOption": dd.get("deleteOption", "Detach"),
                  "diskSizeGB": disk["properties"].get("diskSizeGB"), "toBeDetached": False}


def _empty_entry(sim, sub, rg, vm_name, dd, lun) -> tuple[tuple, dict]:
    size = dd.get("diskSizeGB")
    if not size:
        raise invalid_parameter("Required parameter 'dataDisks.diskSizeGB' is missing.",
                                "dataDisks.diskSizeGB")
    name = dd.get("name") or f"{vm_name}_disk{lun + 2}_{uuid.uuid4().hex}"
    did = resource_id(sub, rg, "Microsoft.Compute", "disks", name)
    if sim.store.exists(did):
        raise ArmError(409, "Conflict", f"Disk {name} already exists.")
    sku = (dd.get("managedDisk") or {}).get("storageAccountType", "Premium_LRS")
    return (did, sku, int(size)), {"lun": lun, "name": name, "createOption": "Empty",
                                   "caching": dd.get("caching", "None"),
                                   "managedDisk": {"storageAccountType": sku, "id": did},
                                   "deleteOption": dd.get("deleteOption", "Detach"),
                                   "diskSizeGB": int(size), "toBeDetached": False}


def plan_data_disks(sim, sub, rg, vm_name, location, requested, current):
    """Validate ``storageProfile.dataDisks`` against the current attachments. Returns
    (entries, to_attach, to_create, to_detach); nothing is changed yet."""
    cur_by_id = {_managed_id(d).lower(): d for d in current}
    luns = set()
    entries, to_attach, to_create = [], [], []
    for dd in requested or []:
        lun = _lun(dd, luns)
        opt = (dd.get("createOption") or "Attach").lower()
        mid = _managed_id(dd)
        if mid.lower() in cur_by_id:
            entry = copy.deepcopy(cur_by_id[mid.lower()])
            if dd.get("deleteOption"):
                entry["deleteOption"] = dd["deleteOption"]
            entries.append(entry)
        elif opt == "attach":
            disk, entry = _attach_entry(sim, dd, lun, location)
            to_attach.append(disk)
            entries.append(entry)
        elif opt == "empty":
            created, entry = _empty_entry(sim, sub, rg, vm_name, dd, lun)
            to_create.append(created)
            entries.append(entry)
        else:
            raise invalid_parameter(f"Data disk createOption '{dd.get('createOption')}' is not "
                                    "supported (Attach, Empty).", "dataDisks.createOption")
    kept = {_managed_id(e).lower() for e in entries}
    to_detach = [d for k, d in cur_by_id.items() if k not in kept]
    return entries, to_attach, to_create, to_detach


def apply_data_disks(sim, vm_id, location, plan, allocated):
    entries, to_attach, to_create, to_detach = plan
    state_name = "Attached" if allocated else "Reserved"
    for did, sku, size in to_create:
        disk = _disks.new_disk_body(sim, did, location, {}, sku, size, {"createOption": "Empty"})
        disk["managedBy"] = vm_id
        disk["properties"]["diskState"] = state_name
        sim.store.put(did, disk)
    for disk in to_attach:
        disk["managedBy"] = vm_id
        disk["properties"]["diskState"] = state_name
    for entry in to_detach:
        detach(sim.store.get(_managed_id(entry)))
    return entries
