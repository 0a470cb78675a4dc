"""Shared by disks, snapshots and restore points: resource types and path templates, the
disk body, creation sources (Copy, Restore, FromImage, Empty) and the DiskRP long-running PUT and
DELETE. The guest model of an OS disk lives with the disk (internal state) and is deep-copied by
every copy (snapshot, Copy, Restore, FromImage, capture)."""

from __future__ import annotations

import copy
import uuid

from .. import guest as _guest
from ..arm import RG, norm_location
from ..clock import iso
from ..errors import ArmError, invalid_parameter
from ..ids import parse
from ..server import Response

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
                  hyper_v=None, security_type=None, state="Succeeded", rtype=DISK_TYPE,
                  incremental=None, extra=None) -> dict:
    """A managed disk body; with ``rtype=SNAP_TYPE`` a snapshot's (``incremental`` set, and
    ``extra`` properties in place of the disk performance tier)."""
    size_gb = int(size_gb)
    body = {"id": did, "name": did.rsplit("/", 1)[-1], "type": rtype,
            "location": norm_location(location),
            "sku": {"name": sku, "tier": SKU_TIER.get(sku, "Standard")},
            "properties": {
                "creationData": creation, "diskSizeGB": size_gb,
                "diskSizeBytes": size_gb * 1024 ** 3,
                "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
                **({} if incremental is None else {"incremental": incremental}),
                "networkAccessPolicy": "AllowAll", "publicNetworkAccess": "Enabled",
                "timeCreated": iso(sim.now()), "provisioningState": state,
                "diskState": "Unattached", "uniqueId": str(uuid.uuid4()),
                "supportedCapabilities": {"architecture": "x64"}}}
    body["properties"].update(_perf(sku, size_gb) if extra is None else extra)
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


def lro_put(sim, req, res, duration, existed, finish=None):
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


def _copy_from(sim, creation: dict, target: str, opt: str) -> tuple:
    lo = opt.lower()
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


def _from_image(sim, creation: dict) -> tuple:
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


def creation_from(sim, req, creation: dict, target: str):
    """Returns (creation_out, source_guest, os_type, hyper_v, size, security, duration)."""
    opt = creation.get("createOption")
    if not opt:
        raise invalid_parameter("Required parameter 'creationData.createOption' is missing.",
                                "creationData.createOption")
    lo = opt.lower()
    if lo in ("copy", "restore", "copystart"):
        return _copy_from(sim, creation, target, opt)
    if lo == "fromimage":
        return _from_image(sim, creation)
    if lo == "empty":
        return ({"createOption": "Empty"}, None, None, None, None, None, "disk_empty")
    raise invalid_parameter(f"createOption '{opt}' is not supported by this simulator (Empty, "
                            "Copy, Restore, FromImage).", "creationData.createOption")


def delete_lro(sim, req, res, duration_name):
    def complete():
        sim.store.delete(res["id"])
        sim.hooks.emit("resource.deleted", resource_id=res["id"], resource=res)
        return None

    op = sim.ops.start(req, sim.duration(duration_name), complete, None,
                       location=res["location"], kind="DiskOperations", resource_id=res["id"])
    return Response(202, None, sim.ops.headers(op))


