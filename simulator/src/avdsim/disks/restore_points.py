"""Microsoft.Compute restore point collections, restore points (of all disks of the source
VM) and their disk restore points."""

from __future__ import annotations

import copy
import uuid

from .. import guest as _guest
from ..arm import (delete_with_children, find_in_rg, found, get_in_rg, list_routes, norm_location, paged,
                   require_rg, set_tags, validate_tags)
from ..clock import iso
from ..errors import ArmError, invalid_parameter
from ..ids import resource_id
from ..routing import route
from ..server import Response
from ..vmstate import os_disk_id
from ..vmstate import power as vm_power
from .common import DRP_TYPE, RP, RP_TYPE, RPC, RPC_TYPE


def _rpc_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "restorePointCollections", req.param("restorePointCollectionName"))


def _get_rpc(sim, req):
    return get_in_rg(sim, req, _rpc_id(req), RPC_TYPE, "restorePointCollectionName")


def _render_rpc(sim, rpc, expand):
    body = copy.deepcopy(rpc)
    if expand:
        body["properties"]["restorePoints"] = [
            render_rp(r) for r in sim.store.list(RP_TYPE, rpc["id"].lower() + "/")]
    return body


@route("PUT", RPC)
def put_rpc(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    body = req.json()
    rid = _rpc_id(req)
    existing = sim.store.get(rid)
    src_id = ((body.get("properties") or {}).get("source") or {}).get("id")
    tags = validate_tags(body.get("tags"))
    if existing is not None:
        if src_id and src_id.lower() != existing["properties"]["source"]["id"].lower():
            raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'source.id' is "
                           "not allowed.", target="source.id")
        set_tags(existing, body, True)
        return existing
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required.")
    src = sim.store.get(src_id) if src_id else None
    if src is None:
        raise invalid_parameter(f"The source virtual machine '{src_id}' was not found.",
                                "source.id")
    rpc = {"id": rid, "name": req.param("restorePointCollectionName"), "type": RPC_TYPE,
           "location": norm_location(body["location"]),
           "properties": {"source": {"location": src["location"], "id": src["id"]},
                          "restorePointCollectionId": str(uuid.uuid4()),
                          "provisioningState": "Succeeded"}}
    if tags:
        rpc["tags"] = tags
    sim.store.put(rid, rpc)
    sim.hooks.emit("resource.written", resource_id=rid, resource=rpc)
    return Response(201, rpc)


@route("PATCH", RPC)
def patch_rpc(sim, req):
    rpc = _get_rpc(sim, req)
    set_tags(rpc, req.json(), False)
    return rpc


@route("GET", RPC)
def get_rpc(sim, req):
    return _render_rpc(sim, _get_rpc(sim, req),
                       (req.query.get("$expand") or "").lower() == "restorepoints")


list_routes("Microsoft.Compute/restorePointCollections", RPC_TYPE, subscription=False)


@route("DELETE", RPC)
def delete_rpc(sim, req):
    rpc = find_in_rg(sim, req, _rpc_id(req))
    if rpc is None:
        return Response(204, None)
    rpc["properties"]["provisioningState"] = "Deleting"

    def complete():
        delete_with_children(sim, rpc)
        return None

    n = len(sim.store.list(RP_TYPE, rpc["id"].lower() + "/"))
    op = sim.ops.start(req, sim.duration("restore_point_delete") * max(1, n), complete, None,
                       location=rpc["location"], resource_id=rpc["id"])
    return Response(202, None, sim.ops.headers(op))


def render_rp(rp):
    return copy.deepcopy(rp)


def _rp_id(req):
    return _rpc_id(req) + "/restorePoints/" + req.param("restorePointName")


def _source_vm(sim, req, rpc: dict, rid: str) -> dict:
    if sim.store.exists(rid):
        raise ArmError(409, "OperationNotAllowed",
                       f"Restore point {req.param('restorePointName')} already exists; restore "
                       "points cannot be updated.")
    vm = sim.store.get(rpc["properties"]["source"]["id"])
    if vm is None:
        raise ArmError(404, "NotFound", f"Source VM {rpc['properties']['source']['id']} of the "
                       "restore point collection was not found.")
    return vm


def _attached(vm: dict, excluded: set) -> list[tuple]:
    """(lun or None for the OS disk, disk id) of the VM's disks not excluded."""
    sp = vm["properties"]["storageProfile"]
    attached = [(None, os_disk_id(vm))] + [
        (int(dd.get("lun", 0)), (dd.get("managedDisk") or {}).get("id"))
        for dd in sp.get("dataDisks") or [] if (dd.get("managedDisk") or {}).get("id")]
    return [(lun, did) for lun, did in attached if did and did.lower() not in excluded]


def _disk_restore_point(sim, rid: str, lun, did: str, disk: dict, now: float) -> tuple:
    """Store the disk restore point of ``disk`` (with a copy of its guest); returns (the
    restore point's disk entry, the disk restore point)."""
    drp_name = f"{disk['name']}_{uuid.uuid4()}"
    drp_id = f"{rid}/diskRestorePoints/{drp_name}"
    entry = {"name": disk["name"], "caching": "ReadWrite", "diskSizeGB":
             disk["properties"]["diskSizeGB"],
             "managedDisk": {"storageAccountType": disk["sku"]["name"], "id": did},
             "diskRestorePoint": {"id": drp_id}}
    if lun is None:
        entry["osType"] = disk["properties"].get("osType", "Windows")
    else:
        entry["lun"] = lun
    drp = {"id": drp_id, "name": drp_name, "type": DRP_TYPE,
           "properties": {"timeCreated": iso(now), "sourceResourceId": did,
                          "osType": disk["properties"].get("osType"),
                          "hyperVGeneration": disk["properties"].get("hyperVGeneration"),
                          "supportedCapabilities": {"architecture": "x64"},
                          "familyId": str(uuid.uuid5(uuid.NAMESPACE_URL, did.lower())),
                          "sourceUniqueId": disk["properties"]["uniqueId"],
                          "diskSizeGB": disk["properties"]["diskSizeGB"],
                          "networkAccessPolicy": "AllowAll",
                          "publicNetworkAccess": "Enabled",
                          "completionPercent": 0.0, "provisioningState": "Creating",
                          "encryption": {"type": "EncryptionAtRestWithPlatformKey"}},
           "location": disk["location"]}
    if (disk["properties"].get("securityProfile") or {}).get("securityType"):
        drp["properties"]["securityProfile"] = copy.deepcopy(disk["properties"][
            "securityProfile"])
    sim.store.put(drp_id, drp)
    _guest.store(sim, drp_id, _guest.clone(_guest.stored(sim, did)))
    return entry, drp


def _disk_entries(sim, rid: str, vm: dict, excluded: set, now: float) -> tuple[list, list]:
    disk_entries, drps = [], []
    for lun, did in _attached(vm, excluded):
        disk = sim.store.get(did)
        if disk is None:
            continue
        entry, drp = _disk_restore_point(sim, rid, lun, did, disk, now)
        disk_entries.append(entry)
        drps.append(drp)
    return disk_entries, drps


def _source_metadata(sim, vm: dict, disk_entries: list) -> dict:
    sp = vm["properties"]["storageProfile"]
    os_entry = next((e for e in disk_entries if "lun" not in e), {})
    meta = {"hardwareProfile": copy.deepcopy(vm["properties"]["hardwareProfile"]),
            "storageProfile": {"osDisk": os_entry,
                               "dataDisks": [e for e in disk_entries if "lun" in e],
                               "diskControllerType": sp.get("diskControllerType", "SCSI")},
            "osProfile": {k: v for k, v in (vm["properties"].get("osProfile") or {}).items()
                          if k in ("computerName", "adminUsername")},
            "vmId": vm["properties"]["vmId"], "location": vm["location"],
            "securityProfile": copy.deepcopy(vm["properties"].get("securityProfile"))
            if vm["properties"].get("securityProfile") else None,
            "hyperVGeneration": sim.store.internal(vm["id"]).get("hyper_v_generation", "V2")}
    if meta["securityProfile"] is None:
        del meta["securityProfile"]
    return meta


@route("PUT", RP)
def put_restore_point(sim, req):
    rpc = _get_rpc(sim, req)
    body = req.json_or_empty()
    props = body.get("properties") or {}
    rid = _rp_id(req)
    vm = _source_vm(sim, req, rpc, rid)
    excluded = {(d.get("id") or "").lower() for d in props.get("excludeDisks") or []}
    power = vm_power(sim, vm["id"])
    mode = props.get("consistencyMode") or ("ApplicationConsistent" if power == "running"
                                            else "CrashConsistent")
    now = sim.now()
    disk_entries, drps = _disk_entries(sim, rid, vm, excluded, now)
    rp = {"id": rid, "name": req.param("restorePointName"), "type": RP_TYPE,
          "properties": {
              "excludeDisks": copy.deepcopy(props.get("excludeDisks") or []),
              "sourceMetadata": _source_metadata(sim, vm, disk_entries),
              "provisioningState": "Creating", "consistencyMode": mode,
              "timeCreated": iso(now)}}
    sim.store.put(rid, rp)

    def complete():
        rp["properties"]["provisioningState"] = "Succeeded"
        for d in drps:
            d["properties"]["provisioningState"] = "Succeeded"
            d["properties"]["completionPercent"] = 100.0
        return None

    def fail(error):
        rp["properties"]["provisioningState"] = "Failed"
        for d in drps:
            d["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, sim.duration("restore_point"), complete, fail,
                       location=rpc["location"], resource_id=rid)
    return Response(201, render_rp(rp), sim.ops.headers(op, location=False))


@route("GET", RP)
def get_restore_point(sim, req):
    _get_rpc(sim, req)
    rp = found(sim.store.get(_rp_id(req)), RP_TYPE, f"{req.param('restorePointCollectionName')}/"
               f"{req.param('restorePointName')}", req.param("resourceGroupName"))
    return render_rp(rp)


@route("DELETE", RP)
def delete_restore_point(sim, req):
    rpc = _get_rpc(sim, req)
    rid = _rp_id(req)
    rp = sim.store.get(rid)
    if rp is None:
        return Response(204, None)
    rp["properties"]["provisioningState"] = "Deleting"

    def complete():
        delete_with_children(sim, rp, rid)
        return None

    op = sim.ops.start(req, sim.duration("restore_point_delete"), complete, None,
                       location=rpc["location"], resource_id=rid)
    return Response(202, None, sim.ops.headers(op))


@route("GET", RP + "/diskRestorePoints/{diskRestorePointName}")
def get_disk_restore_point(sim, req):
    _get_rpc(sim, req)
    return found(sim.store.get(_rp_id(req) + "/diskRestorePoints/" +
                               req.param("diskRestorePointName")),
                 DRP_TYPE, req.param("diskRestorePointName"), req.param("resourceGroupName"))


@route("GET", RP + "/diskRestorePoints")
def list_disk_restore_points(sim, req):
    _get_rpc(sim, req)
    return paged(sim, req, sim.store.list(DRP_TYPE, _rp_id(req).lower() + "/"))

