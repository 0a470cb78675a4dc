"""Gallery image versions: capture from a VM, snapshot or disk, update (regions, latest,
end of life), GET (``$expand=ReplicationStatus``), list, DELETE."""

from __future__ import annotations

import re

from .. import disks as _disks
from .. import guest as _guest
from ..arm import found, norm_location, paged, set_tags, validate_tags
from ..clock import iso, parse_iso
from ..errors import ArmError, invalid_parameter
from ..ids import parse
from ..routing import route
from ..server import Response
from ..vmstate import os_disk_id
from ..vmstate import state as vm_state
from .caps import caps_delete, render
from .common import IMG, VER, VER_TYPE, gal_id, ver_id
from .images import get_image
from .replication import replication_status, schedule_replication, target_regions

_VERSION = re.compile(r"^\d{1,10}\.\d{1,10}\.\d{1,10}$")


_SOURCE_TARGET = "galleryImageVersion.properties.storageProfile.source"


def _check_vm_state(vm: dict, st: dict, osstate: str) -> None:
    """The source VM's generalized and power state fit the definition's osState."""
    pw = st.get("power")
    if osstate == "Generalized" and not st.get("generalized"):
        raise invalid_parameter(
            f"The source virtual machine '{vm['id']}' is not generalized; a gallery image "
            f"definition with osState Generalized needs a generalized source (run sysprep, "
            f"deallocate the VM and mark it generalized).",
            _SOURCE_TARGET + ".virtualMachineId")
    if osstate == "Specialized" and st.get("generalized"):
        raise invalid_parameter(
            f"The source virtual machine '{vm['id']}' is generalized; the gallery image "
            f"definition's osState is Specialized.",
            _SOURCE_TARGET + ".virtualMachineId")
    if osstate == "Generalized" and pw != "deallocated":
        raise ArmError(409, "OperationNotAllowed",
                       f"The source virtual machine '{vm['id']}' must be deallocated to "
                       f"capture a generalized image version; it is {pw}.")
    if vm["properties"]["provisioningState"] not in ("Succeeded",):
        raise ArmError(409, "OperationNotAllowed",
                       f"The source virtual machine '{vm['id']}' is "
                       f"{vm['properties']['provisioningState']}.")


def _check_vm_fits(vm: dict, st: dict, dprops: dict) -> None:
    """The source VM's Hyper-V generation and security type fit the image definition."""
    feats = {f.get("name", "").lower(): str(f.get("value", "")).lower()
             for f in dprops.get("features") or []}
    vm_gen = st.get("hyper_v_generation", "V2")
    if dprops.get("hyperVGeneration", "V1") != vm_gen:
        raise invalid_parameter(
            f"The source virtual machine is Hyper-V generation {vm_gen}; the gallery image "
            f"definition is {dprops.get('hyperVGeneration', 'V1')}.", _SOURCE_TARGET)
    vm_sec = ((vm["properties"].get("securityProfile") or {}).get("securityType") or "")
    if vm_sec.lower() == "trustedlaunch" and not feats.get("securitytype", "").startswith(
            "trustedlaunch"):
        raise invalid_parameter(
            "The source virtual machine uses security type TrustedLaunch; the gallery image "
            "definition must have the feature SecurityType TrustedLaunchSupported or "
            "TrustedLaunch.", _SOURCE_TARGET)


def _vm_source(sim, definition, vm_id: str, src: dict) -> tuple:
    vm = sim.store.get(vm_id)
    if vm is None:
        raise ArmError(404, "NotFound", f"The source virtual machine '{vm_id}' was not found.")
    st = vm_state(sim, vm["id"])
    _check_vm_state(vm, st, definition["properties"]["osState"])
    _check_vm_fits(vm, st, definition["properties"])
    disk_id = os_disk_id(vm)
    disk = sim.store.get(disk_id)
    source_out = {"virtualMachineId": vm["id"]} if src.get("virtualMachineId") else \
        {"id": vm["id"]}
    return vm["id"], source_out, _guest.stored(sim, disk_id), \
        disk["properties"]["diskSizeGB"], {}


def _disk_source(sim, rid: str, other_id) -> tuple:
    res = sim.store.get(rid)
    if res is None or res["type"] not in (_disks.SNAP_TYPE, _disks.DISK_TYPE):
        raise ArmError(404, "NotFound", f"The source '{rid}' was not found or is not a "
                       "virtual machine, snapshot or managed disk.")
    osdisk = {"source": {"id": res["id"]}}
    return res["id"], ({"id": res["id"]} if other_id else {}), _guest.stored(
        sim, res["id"]), res["properties"]["diskSizeGB"], osdisk


def _validate_source(sim, definition, props):
    """(source id, storageProfile.source out, source guest, size GB, osDiskImage source) of a
    capture from a VM, snapshot or managed disk."""
    sp = props.get("storageProfile") or {}
    src = sp.get("source") or {}
    vm_id = src.get("virtualMachineId")
    other_id = src.get("id")
    os_src = ((sp.get("osDiskImage") or {}).get("source") or {})
    if not vm_id and other_id and (parse(other_id) or {}).get("type", "").lower() == \
            "microsoft.compute/virtualmachines":
        vm_id = other_id
    if vm_id:
        return _vm_source(sim, definition, vm_id, src)
    if other_id or os_src.get("id"):
        return _disk_source(sim, other_id or os_src["id"], other_id)
    raise invalid_parameter("Required parameter 'storageProfile.source' is missing (null).",
                            _SOURCE_TARGET)


def _check_name_location(name: str, body: dict, gallery: dict) -> str:
    """The version name is Major.Minor.Patch and it lives in the gallery's region."""
    if not _VERSION.match(name):
        raise invalid_parameter(f"The gallery image version name '{name}' is invalid. The "
                                "version name should follow Major(int32).Minor(int32).Patch"
                                "(int32) format, where the integers are between 0 and "
                                "2,147,483,647 inclusive.", "galleryImageVersionName")
    location = norm_location(body.get("location") or gallery["location"])
    if location != gallery["location"]:
        raise invalid_parameter(f"The gallery image version must be created in the gallery's "
                                f"region '{gallery['location']}'.", "location")
    return location


def _check_same_source(sim, vid: str, props: dict) -> None:
    src = (props.get("storageProfile") or {}).get("source") or {}
    new_id = src.get("virtualMachineId") or src.get("id")
    cur_id = sim.store.internal(vid).get("source_id")
    if new_id and cur_id and new_id.lower() != cur_id.lower():
        raise ArmError(409, "PropertyChangeNotAllowed",
                       "Changing property 'galleryImageVersion.properties.storageProfile."
                       "source.id' is not allowed.",
                       target="galleryImageVersion.properties.storageProfile.source.id")


def _parse_eol(value: str) -> float:
    try:
        return parse_iso(value)
    except ValueError:
        raise invalid_parameter("endOfLifeDate is not a valid date-time.",
                                "publishingProfile.endOfLifeDate") from None


def _publishing_profile(pp_in: dict, regions: list, now: float) -> dict:
    pp = {"targetRegions": regions,
          "replicaCount": int(pp_in.get("replicaCount") or 1),
          "excludeFromLatest": bool(pp_in.get("excludeFromLatest", False)),
          "publishedDate": iso(now),
          "storageAccountType": pp_in.get("storageAccountType") or "Standard_LRS",
          "replicationMode": pp_in.get("replicationMode") or "Full"}
    if pp_in.get("endOfLifeDate"):
        eol = _parse_eol(pp_in["endOfLifeDate"])
        if eol <= now:
            raise invalid_parameter("The end of life date must be in the future.",
                                    "publishingProfile.endOfLifeDate")
        pp["endOfLifeDate"] = iso(eol)
    return pp


def version_body(vid, name, location, pp, storage, tags, *, allow_deletion=True,
                 state="Succeeded") -> dict:
    ver = {"id": vid, "name": name, "type": VER_TYPE, "location": location,
           "properties": {"publishingProfile": pp, "storageProfile": storage,
                          "safetyProfile": {"allowDeletionOfReplicatedLocations": allow_deletion,
                                            "reportedForPolicyViolation": False},
                          "provisioningState": state}}
    if tags:
        ver["tags"] = tags
    return ver


def _start_capture(sim, req, ver: dict, regions: list, now: float):
    """Capture, then replication to every target region; an lro_fail fault fails the last
    region's replication."""
    fault = req.lro_fault
    req.lro_fault = None
    start = now + sim.duration("gallery_version_capture")
    end = schedule_replication(sim, ver, regions, start, fault)

    def complete():
        if fault is not None:
            ver["properties"]["provisioningState"] = "Failed"
            status = replication_status(sim, ver)
            failed = [s for s in status["summary"] if s["state"] == "Failed"]
            raise ArmError(500, fault.get("code") or "ReplicationFailed",
                           f"Replication to region(s) {', '.join(s['region'] for s in failed)} "
                           f"failed: {failed[0]['details'] if failed else ''}")
        ver["properties"]["provisioningState"] = "Succeeded"
        return None

    def fail(error):
        ver["properties"]["provisioningState"] = "Failed"

    return sim.ops.start(req, end - now, complete, fail, location=ver["location"],
                         kind="capsOperations", resource_id=ver["id"])


@route("PUT", VER, policy="CreateUpdateGalleryImageVersion")
def put_version(sim, req):
    definition = get_image(sim, req)
    gallery = sim.store.get(gal_id(req))
    body = req.json()
    props = body.get("properties") or {}
    name = req.param("galleryImageVersionName")
    vid = ver_id(req)
    existing = sim.store.get(vid)
    location = _check_name_location(name, body, gallery)
    if existing is not None:
        _check_same_source(sim, vid, props)
        return _update_version(sim, req, existing, body, replace=True)
    source_id, source_out, src_guest, size, osdisk_src = _validate_source(sim, definition, props)
    pp_in = props.get("publishingProfile") or {}
    regions = target_regions(pp_in, location)
    now = sim.now()
    pp = _publishing_profile(pp_in, regions, now)
    storage = {"osDiskImage": {"sizeInGB": int(size), "hostCaching": "ReadWrite",
                               **({"source": osdisk_src["source"]} if osdisk_src else {})},
               "dataDiskImages": []}
    if source_out:
        storage["source"] = source_out
    ver = version_body(vid, name, location, pp, storage, validate_tags(body.get("tags")),
                       allow_deletion=bool((props.get("safetyProfile") or {}).get(
                           "allowDeletionOfReplicatedLocations", True)), state="Creating")
    sim.store.put(vid, ver)
    internal = sim.store.internal(vid)
    internal["source_id"] = source_id
    internal["guest"] = _guest.clone(src_guest)
    op = _start_capture(sim, req, ver, regions, now)
    sim.hooks.emit("resource.written", resource_id=vid, resource=ver)
    return Response(201, render(sim, ver, False), sim.ops.headers(op, location=False))


def _update_version(sim, req, ver, body, replace):
    props = body.get("properties") or {}
    pp_in = props.get("publishingProfile") or {}
    pp = ver["properties"]["publishingProfile"]
    now = sim.now()
    if ver["properties"]["provisioningState"] in ("Creating", "Updating", "Deleting"):
        raise ArmError(409, "OperationNotAllowed",
                       f"Gallery image version {ver['name']} is "
                       f"{ver['properties']['provisioningState']}; wait for the ongoing operation "
                       "to finish.")
    if "excludeFromLatest" in pp_in:
        pp["excludeFromLatest"] = bool(pp_in["excludeFromLatest"])
    if "endOfLifeDate" in pp_in:
        if pp_in["endOfLifeDate"]:
            pp["endOfLifeDate"] = iso(_parse_eol(pp_in["endOfLifeDate"]))
        else:
            pp.pop("endOfLifeDate", None)
    end = now + sim.duration("gallery_update")
    fault = req.lro_fault
    req.lro_fault = None
    if pp_in.get("targetRegions"):
        regions = target_regions(pp_in, ver["location"])
        removed = {norm_location(r["name"]) for r in pp["targetRegions"]} - \
            {norm_location(r["name"]) for r in regions}
        if removed and not ver["properties"]["safetyProfile"].get(
                "allowDeletionOfReplicatedLocations", True):
            raise ArmError(409, "OperationNotAllowed", "Removing replicated regions is not "
                           "allowed by the version's safetyProfile.")
        pp["targetRegions"] = regions
        end = max(end, schedule_replication(sim, ver, regions, now, fault))
    set_tags(ver, body, replace)
    ver["properties"]["provisioningState"] = "Updating"

    def complete():
        if replication_status(sim, ver)["aggregatedState"] == "Failed":
            ver["properties"]["provisioningState"] = "Failed"
            raise ArmError(500, (fault or {}).get("code") or "ReplicationFailed",
                           "Replication to one or more regions failed.")
        ver["properties"]["provisioningState"] = "Succeeded"
        return None

    def fail(error):
        ver["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, end - now, complete, fail, location=ver["location"],
                       kind="capsOperations", resource_id=ver["id"])
    sim.hooks.emit("resource.written", resource_id=ver["id"], resource=ver)
    return Response(200, render(sim, ver, False), sim.ops.headers(op, location=False))


@route("PATCH", VER, policy="CreateUpdateGalleryImageVersion")
def patch_version(sim, req):
    ver = get_version_res(sim, req)
    return _update_version(sim, req, ver, req.json(), replace=False)


def get_version_res(sim, req):
    get_image(sim, req)
    return found(sim.store.get(ver_id(req)), VER_TYPE,
                 f"{req.param('galleryName')}/{req.param('galleryImageName')}/"
                 f"{req.param('galleryImageVersionName')}", req.param("resourceGroupName"))


@route("GET", VER, policy="GetGalleryImageVersion")
def get_version(sim, req):
    ver = get_version_res(sim, req)
    return render(sim, ver, (req.query.get("$expand") or "").lower() == "replicationstatus")


@route("GET", IMG + "/versions")
def list_versions(sim, req):
    img = get_image(sim, req)
    return paged(sim, req, [render(sim, v, False)
                            for v in sim.store.list(VER_TYPE, img["id"].lower() + "/")])


@route("DELETE", VER, policy="DeleteGalleryImageVersion")
def delete_version(sim, req):
    get_image(sim, req)
    ver = sim.store.get(ver_id(req))
    if ver is None:
        return Response(204, None)
    return caps_delete(sim, req, ver, sim.duration("gallery_version_delete"))


