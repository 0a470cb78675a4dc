"""Microsoft.Compute disks, snapshots, restore point collections, restore points and disk
restore points. The guest model of an OS disk lives with the disk (internal state) and is
deep-copied by every copy (snapshot, Copy, Restore, FromImage, capture)."""

from __future__ import annotations

import copy
import uuid

from . import guest as _guest
from .arm import (RG, SUB, list_in_resource_group, list_in_subscription, norm_location, paged, require_rg,
                  validate_tags)
from .clock import iso
from .errors import ArmError, invalid_parameter, not_found
from .ids import parse, resource_id
from .routing import route
from .server import Response
from .vmstate import os_disk_id
from .vmstate import power as vm_power

DISK_TYPE = "Microsoft.Compute/disks"
SNAP_TYPE = "Microsoft.Compute/snapshots"
RPC_TYPE = "Microsoft.Compute/restorePointCollections"
RP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints"
DRP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints"
DISK = RG + "/providers/Microsoft.Compute/disks/{diskName}"
SNAP = RG + "/providers/Microsoft.Compute/snapshots/{snapshotName}"
RPC = RG + "/providers/Microsoft.Compute/restorePointCollections/{restorePointCollectionName}"
RP = RPC + "/restorePoints/{restorePointName}"

SKU_TIER = {"Premium_LRS": "Premium", "StandardSSD_LRS": "Standard", "Standard_LRS": "Standard",
            "Premium_ZRS": "Premium", "StandardSSD_ZRS": "Standard", "UltraSSD_LRS": "Ultra",
            "PremiumV2_LRS": "Premium"}


def _perf(sku: str, size: int) -> dict:
    if sku.startswith("Premium"):
        tiers = [(4, "P1", 120, 25), (8, "P2", 120, 25), (16, "P3", 120, 25), (32, "P4", 120, 25),
                 (64, "P6", 240, 50), (128, "P10", 500, 100), (256, "P15", 1100, 125),
                 (512, "P20", 2300, 150), (1024, "P30", 5000, 200)]
        for cap, tier, iops, mbps in tiers:
            if size <= cap:
                return {"tier": tier, "diskIOPSReadWrite": iops, "diskMBpsReadWrite": mbps}
        return {"tier": "P40", "diskIOPSReadWrite": 7500, "diskMBpsReadWrite": 250}
    return {"diskIOPSReadWrite": 500, "diskMBpsReadWrite": 60}


def new_disk_body(sim, did, location, tags, sku, size_gb, creation, *, os_type=None,
                  hyper_v=None, security_type=None, state="Succeeded") -> dict:
    size_gb = int(size_gb)
    body = {"id": did, "name": did.rsplit("/", 1)[-1], "type": DISK_TYPE,
            "location": norm_location(location),
            "sku": {"name": sku, "tier": SKU_TIER.get(sku, "Standard")},
            "properties": {
                "creationData": creation, "diskSizeGB": size_gb,
                "diskSizeBytes": size_gb * 1024 ** 3,
                "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
                "networkAccessPolicy": "AllowAll", "publicNetworkAccess": "Enabled",
                "timeCreated": iso(sim.now()), "provisioningState": state,
                "diskState": "Unattached", "uniqueId": str(uuid.uuid4()),
                "supportedCapabilities": {"architecture": "x64"}}}
    body["properties"].update(_perf(sku, size_gb))
    if os_type:
        body["properties"]["osType"] = os_type
    if hyper_v:
        body["properties"]["hyperVGeneration"] = hyper_v
    if security_type:
        body["properties"]["securityProfile"] = {"securityType": security_type}
    if tags:
        body["tags"] = tags
    return body


def _source(sim, source_id: str, target: str):
    """(source resource, kind) for a Copy/Restore source: disk, snapshot or disk restore
    point."""
    if not source_id:
        raise invalid_parameter(f"Required parameter '{target}' is missing (null).", target)
    src = sim.store.get(source_id)
    p = parse(source_id)
    if src is None or p is None:
        raise ArmError(404, "NotFound", f"Resource {source_id} is not found.")
    t = p["type"].lower()
    kind = {"microsoft.compute/disks": "disk", "microsoft.compute/snapshots": "snapshot",
            DRP_TYPE.lower(): "diskRestorePoint"}.get(t)
    if kind is None:
        raise invalid_parameter(f"The source {source_id} is not a disk, snapshot or disk "
                                "restore point.", target)
    return src, kind


def _disk_id(req, name_param="diskName"):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "disks", req.param(name_param))


def _lro_put(sim, req, res, duration, existed, finish=None):
    """DiskRP: PUT answers 202 with the resource (provisioningState Updating), the
    DiskOperations status carries properties.output."""
    props = res["properties"]
    props["provisioningState"] = "Updating"

    def complete():
        props["provisioningState"] = "Succeeded"
        if finish:
            finish()
        return copy.deepcopy(res)

    def fail(error):
        props["provisioningState"] = "Failed"

    op = sim.ops.start(req, duration, complete, fail, location=res["location"],
                       kind="DiskOperations", resource_id=res["id"], output_in_status=True)
    sim.hooks.emit("resource.written", resource_id=res["id"], resource=res)
    return Response(202, copy.deepcopy(res), sim.ops.headers(op))


def _creation_from(sim, req, creation: dict, target: str):
    """Returns (creation_out, source_guest, os_type, hyper_v, size, security, duration)."""
    opt = creation.get("createOption")
    if not opt:
        raise invalid_parameter("Required parameter 'creationData.createOption' is missing.",
                                "creationData.createOption")
    lo = opt.lower()
    if lo in ("copy", "restore", "copystart"):
        sid = creation.get("sourceResourceId") or creation.get("sourceUri")
        src, kind = _source(sim, sid, f"{target}.creationData.sourceResourceId")
        if lo == "restore" and kind != "diskRestorePoint":
            raise invalid_parameter("createOption Restore needs a disk restore point as "
                                    "sourceResourceId.", "creationData.sourceResourceId")
        if lo == "copy" and kind == "diskRestorePoint":
            raise invalid_parameter("Use createOption Restore with a disk restore point.",
                                    "creationData.createOption")
        if src["properties"].get("provisioningState") not in ("Succeeded", None):
            raise ArmError(409, "OperationNotAllowed",
                           f"The source {src['id']} is not ready (provisioningState "
                           f"{src['properties'].get('provisioningState')}).")
        sp = src["properties"]
        out = {"createOption": opt, "sourceResourceId": src["id"],
               "sourceUniqueId": sp.get("uniqueId") or sp.get("sourceUniqueId")}
        security = (sp.get("securityProfile") or {}).get("securityType")
        return (out, _guest.stored(sim, src["id"]), sp.get("osType"), sp.get("hyperVGeneration"),
                sp.get("diskSizeGB") or sp.get("sourceDiskSizeGB", 128), security,
                "disk_copy")
    if lo == "fromimage":
        ref = creation.get("galleryImageReference") or creation.get("imageReference") or {}
        version = sim.store.get(ref.get("id", ""))
        if version is None or not version["type"].lower().endswith("/versions"):
            raise ArmError(404, "NotFound", f"Gallery image version {ref.get('id')} not found.")
        definition = sim.store.get(version["id"].rsplit("/versions/", 1)[0])
        dprops = definition["properties"]
        features = {f["name"].lower(): f["value"] for f in dprops.get("features") or []}
        sec = "TrustedLaunch" if features.get("securitytype", "").lower().startswith(
            "trustedlaunch") else None
        return ({"createOption": "FromImage", "galleryImageReference": {"id": version["id"]}},
                _guest.stored(sim, version["id"]), dprops.get("osType"),
                dprops.get("hyperVGeneration"),
                version["properties"]["storageProfile"].get("osDiskImage", {}).get("sizeInGB",
                                                                                   128),
                sec, "disk_from_image")
    if lo == "empty":
        return ({"createOption": "Empty"}, None, None, None, None, None, "disk_empty")
    raise invalid_parameter(f"createOption '{opt}' is not supported by this simulator (Empty, "
                            "Copy, Restore, FromImage).", "creationData.createOption")


# -- disks -------------------------------------------------------------------------------------
@route("PUT", DISK)
def put_disk(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    body = req.json()
    did = _disk_id(req)
    existing = sim.store.get(did)
    props = body.get("properties") or {}
    if existing is not None:
        return _update_disk(sim, req, existing, body)
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required.")
    creation = props.get("creationData") or {}
    out, src_guest, os_type, hyper_v, size, sec, dur = _creation_from(sim, req, creation,
                                                                        "disk")
    size = props.get("diskSizeGB") or size
    if not size:
        raise invalid_parameter("Required parameter 'diskSizeGB' is missing (null).",
                                "diskSizeGB")
    if props.get("diskSizeGB") and creation.get("createOption", "").lower() != "empty":
        src_size = _creation_from(sim, req, creation, "disk")[4]
        if src_size and int(props["diskSizeGB"]) < int(src_size):
            raise ArmError(400, "BadRequest", f"Disk size reduction is not supported: the source "
                           f"is {src_size} GB, requested {props['diskSizeGB']} GB.")
    sku = (body.get("sku") or {}).get("name", "Premium_LRS")
    disk = new_disk_body(sim, did, body["location"], validate_tags(body.get("tags")), sku, size,
                         out, os_type=props.get("osType") or os_type,
                         hyper_v=props.get("hyperVGeneration") or hyper_v,
                         security_type=((props.get("securityProfile") or {}).get("securityType")
                                        or sec))
    sim.store.put(did, disk)
    _guest.store(sim, did, _guest.clone(src_guest))
    return _lro_put(sim, req, disk, sim.duration(dur), False)


def _update_disk(sim, req, disk, body, patch=False):
    props = body.get("properties") or {}
    if not patch and body.get("location") and norm_location(body["location"]) != disk["location"]:
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'location' is not "
                       "allowed.", target="location")
    creation = props.get("creationData")
    if creation and creation.get("createOption", "").lower() != disk["properties"][
            "creationData"]["createOption"].lower():
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'createOption' is "
                       "not allowed.", target="creationData.createOption")
    if props.get("diskSizeGB"):
        new = int(props["diskSizeGB"])
        if new < disk["properties"]["diskSizeGB"]:
            raise ArmError(400, "BadRequest", f"Disk size reduction is not supported. Current "
                           f"size is {disk['properties']['diskSizeGB']} GB, requested size is "
                           f"{new} GB.")
        disk["properties"]["diskSizeGB"] = new
        disk["properties"]["diskSizeBytes"] = new * 1024 ** 3
    if "tags" in body or not patch:
        tags = validate_tags(body.get("tags"))
        if tags:
            disk["tags"] = tags
        else:
            disk.pop("tags", None)
    return _lro_put(sim, req, disk, sim.duration("disk_update"), True)


@route("PATCH", DISK)
def patch_disk(sim, req):
    disk = get_disk(sim, req)
    return _update_disk(sim, req, disk, req.json(), patch=True)


@route("GET", DISK)
def get_disk(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    disk = sim.store.get(_disk_id(req))
    if disk is None:
        raise not_found(DISK_TYPE, req.param("diskName"), req.param("resourceGroupName"))
    return disk


@route("GET", RG + "/providers/Microsoft.Compute/disks")
def list_disks(sim, req):
    return list_in_resource_group(sim, req, DISK_TYPE)


@route("GET", SUB + "/providers/Microsoft.Compute/disks")
def list_all_disks(sim, req):
    return list_in_subscription(sim, req, DISK_TYPE)


def _delete(sim, req, res, duration_name):
    def complete():
        sim.store.delete(res["id"])
        sim.hooks.emit("resource.deleted", resource_id=res["id"], resource=res)
        return None

    op = sim.ops.start(req, sim.duration(duration_name), complete, None,
                       location=res["location"], kind="DiskOperations", resource_id=res["id"])
    return Response(202, None, sim.ops.headers(op))


@route("DELETE", DISK)
def delete_disk(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    disk = sim.store.get(_disk_id(req))
    if disk is None:
        return Response(204, None)
    if disk.get("managedBy"):
        raise ArmError(409, "OperationNotAllowed",
                       f"Disk {disk['name']} is attached to VM {disk['managedBy']}.")
    return _delete(sim, req, disk, "disk_delete")


# -- snapshots -------------------------------------------------------------------------------
def _snap_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "snapshots", req.param("snapshotName"))


@route("PUT", SNAP)
def put_snapshot(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    body = req.json()
    sid = _snap_id(req)
    props = body.get("properties") or {}
    existing = sim.store.get(sid)
    if existing is not None:
        if "tags" in body:
            tags = validate_tags(body.get("tags"))
            if tags:
                existing["tags"] = tags
            else:
                existing.pop("tags", None)
        return _lro_put(sim, req, existing, sim.duration("disk_update"), True)
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required.")
    creation = props.get("creationData") or {}
    if (creation.get("createOption") or "").lower() not in ("copy", "copystart"):
        raise invalid_parameter("Snapshots support createOption Copy (from a disk or snapshot).",
                                "creationData.createOption")
    out, src_guest, os_type, hyper_v, size, sec, _dur = _creation_from(sim, req, creation,
                                                                         "snapshot")
    src = sim.store.get(out["sourceResourceId"])
    incremental = bool(props.get("incremental", False))
    sku = (body.get("sku") or {}).get("name", "Standard_LRS" if not incremental else
                                      "Standard_ZRS")
    now = iso(sim.now())
    snap = {"id": sid, "name": req.param("snapshotName"), "type": SNAP_TYPE,
            "location": norm_location(body["location"]),
            "sku": {"name": sku, "tier": SKU_TIER.get(sku, "Standard")},
            "properties": {"creationData": out, "diskSizeGB": int(size),
                           "diskSizeBytes": int(size) * 1024 ** 3,
                           "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
                           "incremental": incremental, "networkAccessPolicy": "AllowAll",
                           "publicNetworkAccess": "Enabled", "timeCreated": now,
                           "provisioningState": "Succeeded", "diskState": "Unattached",
                           "uniqueId": str(uuid.uuid4()),
                           "supportedCapabilities": {"architecture": "x64"}}}
    if incremental:
        snap["properties"]["completionPercent"] = 0.0
        snap["properties"]["incrementalSnapshotFamilyId"] = str(uuid.uuid5(
            uuid.NAMESPACE_URL, src["id"].lower()))
    if os_type:
        snap["properties"]["osType"] = os_type
    if hyper_v:
        snap["properties"]["hyperVGeneration"] = hyper_v
    if sec:
        snap["properties"]["securityProfile"] = {"securityType": sec}
    tags = validate_tags(body.get("tags"))
    if tags:
        snap["tags"] = tags
    sim.store.put(sid, snap)
    # point-in-time: the content is what the source holds now
    _guest.store(sim, sid, _guest.clone(_guest.stored(sim, src["id"])))

    def finish():
        if incremental:
            snap["properties"]["completionPercent"] = 100.0

    return _lro_put(sim, req, snap, sim.duration("snapshot"), False, finish)


@route("PATCH", SNAP)
def patch_snapshot(sim, req):
    snap = get_snapshot(sim, req)
    body = req.json()
    if "tags" in body:
        tags = validate_tags(body.get("tags"))
        if tags:
            snap["tags"] = tags
        else:
            snap.pop("tags", None)
    return _lro_put(sim, req, snap, sim.duration("disk_update"), True)


@route("GET", SNAP)
def get_snapshot(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    snap = sim.store.get(_snap_id(req))
    if snap is None:
        raise not_found(SNAP_TYPE, req.param("snapshotName"), req.param("resourceGroupName"))
    return snap


@route("GET", RG + "/providers/Microsoft.Compute/snapshots")
def list_snapshots(sim, req):
    return list_in_resource_group(sim, req, SNAP_TYPE)


@route("GET", SUB + "/providers/Microsoft.Compute/snapshots")
def list_all_snapshots(sim, req):
    return list_in_subscription(sim, req, SNAP_TYPE)


@route("DELETE", SNAP)
def delete_snapshot(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    snap = sim.store.get(_snap_id(req))
    if snap is None:
        return Response(204, None)
    return _delete(sim, req, snap, "snapshot_delete")


# -- restore point collections and restore points ---------------------------------------------
def _rpc_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "restorePointCollections", req.param("restorePointCollectionName"))


def _get_rpc(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    rpc = sim.store.get(_rpc_id(req))
    if rpc is None:
        raise not_found(RPC_TYPE, req.param("restorePointCollectionName"),
                        req.param("resourceGroupName"))
    return rpc


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
        if tags:
            existing["tags"] = tags
        else:
            existing.pop("tags", None)
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
    body = req.json()
    if "tags" in body:
        tags = validate_tags(body.get("tags"))
        if tags:
            rpc["tags"] = tags
        else:
            rpc.pop("tags", None)
    return rpc


@route("GET", RPC)
def get_rpc(sim, req):
    return _render_rpc(sim, _get_rpc(sim, req),
                       (req.query.get("$expand") or "").lower() == "restorepoints")


@route("GET", RG + "/providers/Microsoft.Compute/restorePointCollections")
def list_rpcs(sim, req):
    return list_in_resource_group(sim, req, RPC_TYPE)


@route("DELETE", RPC)
def delete_rpc(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    rpc = sim.store.get(_rpc_id(req))
    if rpc is None:
        return Response(204, None)
    rpc["properties"]["provisioningState"] = "Deleting"

    def complete():
        for child in list(sim.store.children(rpc["id"])):
            sim.store.delete(child["id"])
        sim.store.delete(rpc["id"])
        sim.hooks.emit("resource.deleted", resource_id=rpc["id"], resource=rpc)
        return None

    n = len(sim.store.list(RP_TYPE, rpc["id"].lower() + "/"))
    op = sim.ops.start(req, sim.duration("restore_point_delete") * max(1, n), complete, None,
                       location=rpc["location"], resource_id=rpc["id"])
    return Response(202, None, sim.ops.headers(op))


def render_rp(rp):
    return copy.deepcopy(rp)


def _rp_id(req):
    return _rpc_id(req) + "/restorePoints/" + req.param("restorePointName")


@route("PUT", RP)
def put_restore_point(sim, req):
    rpc = _get_rpc(sim, req)
    body = req.json_or_empty()
    props = body.get("properties") or {}
    rid = _rp_id(req)
    if sim.store.exists(rid):
        raise ArmError(409, "OperationNotAllowed",
                       f"Restore point {req.param('restorePointName')} already exists; restore "
                       "points cannot be updated.")
    vm = sim.store.get(rpc["properties"]["source"]["id"])
    if vm is None:
        raise ArmError(404, "NotFound", f"Source VM {rpc['properties']['source']['id']} of the "
                       "restore point collection was not found.")
    excluded = {(d.get("id") or "").lower() for d in props.get("excludeDisks") or []}
    power = vm_power(sim, vm["id"])
    mode = props.get("consistencyMode") or ("ApplicationConsistent" if power == "running"
                                            else "CrashConsistent")
    now = sim.now()
    sp = vm["properties"]["storageProfile"]
    disk_entries = []
    drps = []
    attached = [(None, os_disk_id(vm))] + [
        (int(dd.get("lun", 0)), (dd.get("managedDisk") or {}).get("id"))
        for dd in sp.get("dataDisks") or [] if (dd.get("managedDisk") or {}).get("id")]
    for lun, did in attached:
        if not did or did.lower() in excluded:
            continue
        disk = sim.store.get(did)
        if disk is None:
            continue
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
        disk_entries.append(entry)
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
        drps.append(drp)
    os_entry = next((e for e in disk_entries if "lun" not in e), {})
    rp = {"id": rid, "name": req.param("restorePointName"), "type": RP_TYPE,
          "properties": {
              "excludeDisks": copy.deepcopy(props.get("excludeDisks") or []),
              "sourceMetadata": {
                  "hardwareProfile": copy.deepcopy(vm["properties"]["hardwareProfile"]),
                  "storageProfile": {"osDisk": os_entry,
                                     "dataDisks": [e for e in disk_entries if "lun" in e],
                                     "diskControllerType": sp.get("diskControllerType",
                                                                  "SCSI")},
                  "osProfile": {k: v for k, v in (vm["properties"].get("osProfile") or {})
                                .items() if k in ("computerName", "adminUsername")},
                  "vmId": vm["properties"]["vmId"], "location": vm["location"],
                  "securityProfile": copy.deepcopy(vm["properties"].get("securityProfile"))
                  if vm["properties"].get("securityProfile") else None,
                  "hyperVGeneration": sim.store.internal(vm["id"]).get("hyper_v_generation",
                                                                       "V2")},
              "provisioningState": "Creating", "consistencyMode": mode,
              "timeCreated": iso(now)}}
    if rp["properties"]["sourceMetadata"]["securityProfile"] is None:
        del rp["properties"]["sourceMetadata"]["securityProfile"]
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
    rp = sim.store.get(_rp_id(req))
    if rp is None:
        raise not_found(RP_TYPE, f"{req.param('restorePointCollectionName')}/"
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
        for child in list(sim.store.children(rid)):
            sim.store.delete(child["id"])
        sim.store.delete(rid)
        sim.hooks.emit("resource.deleted", resource_id=rid, resource=rp)
        return None

    op = sim.ops.start(req, sim.duration("restore_point_delete"), complete, None,
                       location=rpc["location"], resource_id=rid)
    return Response(202, None, sim.ops.headers(op))


@route("GET", RP + "/diskRestorePoints/{diskRestorePointName}")
def get_disk_restore_point(sim, req):
    _get_rpc(sim, req)
    drp = sim.store.get(_rp_id(req) + "/diskRestorePoints/" + req.param("diskRestorePointName"))
    if drp is None:
        raise not_found(DRP_TYPE, req.param("diskRestorePointName"),
                        req.param("resourceGroupName"))
    return drp


@route("GET", RP + "/diskRestorePoints")
def list_disk_restore_points(sim, req):
    _get_rpc(sim, req)
    return paged(sim, req, sim.store.list(DRP_TYPE, _rp_id(req).lower() + "/"))
