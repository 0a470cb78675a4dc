"""Azure Compute Gallery: galleries, image definitions and image versions with regional
replication that takes simulated time (``$expand=ReplicationStatus``)."""

from __future__ import annotations

import copy
import re
import uuid

from . import disks as _disks
from . import guest as _guest
from .arm import (RG, SUB, list_in_resource_group, list_in_subscription, norm_location, paged, require_rg,
                  validate_tags)
from .clock import iso, parse_iso
from .errors import ArmError, invalid_parameter, not_found
from .ids import parse, resource_id
from .routing import route
from .server import Response
from .vmstate import os_disk_id
from .vmstate import state as vm_state

GAL_TYPE = "Microsoft.Compute/galleries"
IMG_TYPE = "Microsoft.Compute/galleries/images"
VER_TYPE = "Microsoft.Compute/galleries/images/versions"
GAL = RG + "/providers/Microsoft.Compute/galleries/{galleryName}"
IMG = GAL + "/images/{galleryImageName}"
VER = IMG + "/versions/{galleryImageVersionName}"

REGION_NAMES = {"westeurope": "West Europe", "northeurope": "North Europe",
                "eastus": "East US", "eastus2": "East US 2", "westus": "West US",
                "westus2": "West US 2", "westus3": "West US 3", "centralus": "Central US",
                "uksouth": "UK South", "ukwest": "UK West", "francecentral": "France Central",
                "germanywestcentral": "Germany West Central", "swedencentral": "Sweden Central",
                "switzerlandnorth": "Switzerland North", "norwayeast": "Norway East",
                "southeastasia": "Southeast Asia", "australiaeast": "Australia East",
                "japaneast": "Japan East", "canadacentral": "Canada Central"}
_GALLERY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,78}[A-Za-z0-9]$|^[A-Za-z0-9]$")
_IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9]$|^[A-Za-z0-9]$")
_VERSION = re.compile(r"^\d{1,10}\.\d{1,10}\.\d{1,10}$")


def display_region(name: str) -> str:
    n = norm_location(name)
    return REGION_NAMES.get(n, name)


def version_key(v: dict) -> tuple:
    return tuple(int(x) for x in v["name"].split("."))


# -- helpers for other providers --------------------------------------------------------------
def _replication(sim, version) -> dict:
    return sim.store.internal(version["id"]).setdefault("replication", {})


def region_status(sim, version: dict, region: str, now: float | None = None) -> dict:
    now = sim.now() if now is None else now
    r = _replication(sim, version).get(norm_location(region))
    if r is None:
        return {"region": display_region(region), "state": "Unknown", "details": "",
                "progress": 0}
    if r.get("failed_at") is not None and now >= r["failed_at"]:
        return {"region": display_region(region), "state": "Failed",
                "details": r.get("failure", "Replication failed."),
                "progress": int(r.get("fail_progress", 50))}
    if now >= r["start"] + r["duration"]:
        return {"region": display_region(region), "state": "Completed", "details": "",
                "progress": 100}
    progress = 0 if now <= r["start"] else int((now - r["start"]) / r["duration"] * 100)
    return {"region": display_region(region), "state": "Replicating", "details": "",
            "progress": max(0, min(99, progress))}


def replication_status(sim, version: dict) -> dict:
    summary = [region_status(sim, version, t["name"])
               for t in version["properties"]["publishingProfile"]["targetRegions"]]
    states = {s["state"] for s in summary}
    if "Failed" in states:
        agg = "Failed"
    elif states == {"Completed"}:
        agg = "Completed"
    else:
        agg = "InProgress"
    return {"aggregatedState": agg, "summary": summary}


def available_in(sim, version: dict, location: str) -> bool:
    return region_status(sim, version, location)["state"] == "Completed"


def latest_version(sim, definition: dict, location: str) -> dict | None:
    best = None
    for v in sim.store.list(VER_TYPE, definition["id"].lower() + "/"):
        pp = v["properties"]["publishingProfile"]
        if pp.get("excludeFromLatest"):
            continue
        if v["properties"]["provisioningState"] not in ("Succeeded", "Updating"):
            continue
        if not available_in(sim, v, location):
            continue
        if best is None or version_key(v) > version_key(best):
            best = v
    return best


# -- galleries -----------------------------------------------------------------------------
def _gal_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "galleries", req.param("galleryName"))


def _caps_put(sim, req, res, duration, created):
    res["properties"]["provisioningState"] = "Creating" if created else "Updating"

    def complete():
        res["properties"]["provisioningState"] = "Succeeded"
        return None

    def fail(error):
        res["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, duration, complete, fail, location=res["location"],
                       kind="capsOperations", resource_id=res["id"])
    sim.hooks.emit("resource.written", resource_id=res["id"], resource=res)
    return Response(201 if created else 200, render(sim, res, False),
                    sim.ops.headers(op, location=False))


def _caps_delete(sim, req, res, duration):
    res["properties"]["provisioningState"] = "Deleting"

    def complete():
        for child in list(sim.store.children(res["id"])):
            sim.store.delete(child["id"])
        sim.store.delete(res["id"])
        sim.hooks.emit("resource.deleted", resource_id=res["id"], resource=res)
        return None

    op = sim.ops.start(req, duration, complete, None, location=res["location"],
                       kind="capsOperations", resource_id=res["id"])
    return Response(202, None, sim.ops.headers(op))


def _set_tags(res, body, replace):
    if "tags" in body or replace:
        tags = validate_tags(body.get("tags"))
        if tags:
            res["tags"] = tags
        else:
            res.pop("tags", None)


def create_gallery(sim, sub, rg, name, location, props, tags):
    gid = resource_id(sub, rg, "Microsoft.Compute", "galleries", name)
    body = {"id": gid, "name": name, "type": GAL_TYPE, "location": norm_location(location),
            "properties": {"identifier": {"uniqueName": f"{sub}-{name.upper()}"},
                           "provisioningState": "Succeeded"}}
    if props.get("description"):
        body["properties"]["description"] = props["description"]
    if tags:
        body["tags"] = tags
    return sim.store.put(gid, body)


@route("PUT", GAL)
def put_gallery(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    body = req.json()
    name = req.param("galleryName")
    existing = sim.store.get(_gal_id(req))
    props = body.get("properties") or {}
    if existing is not None:
        if body.get("location") and norm_location(body["location"]) != existing["location"]:
            raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'location' is "
                           "not allowed.", target="location")
        _set_tags(existing, body, True)
        if "description" in props:
            existing["properties"]["description"] = props["description"]
        return _caps_put(sim, req, existing, sim.duration("gallery"), False)
    if not _GALLERY_NAME.match(name):
        raise invalid_parameter(f"The gallery name '{name}' is invalid. It can contain only "
                                "letters, digits, underscores and periods, and must start and "
                                "end with a letter or digit.", "galleryName")
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required.")
    g = create_gallery(sim, req.subscription_id, req.param("resourceGroupName"), name,
                       body["location"], props, validate_tags(body.get("tags")))
    return _caps_put(sim, req, g, sim.duration("gallery"), True)


@route("PATCH", GAL)
def patch_gallery(sim, req):
    g = get_gallery(sim, req)
    body = req.json()
    _set_tags(g, body, False)
    if "description" in (body.get("properties") or {}):
        g["properties"]["description"] = body["properties"]["description"]
    return _caps_put(sim, req, g, sim.duration("gallery_update"), False)


@route("GET", GAL)
def get_gallery(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    g = sim.store.get(_gal_id(req))
    if g is None:
        raise not_found(GAL_TYPE, req.param("galleryName"), req.param("resourceGroupName"))
    return g


@route("GET", RG + "/providers/Microsoft.Compute/galleries")
def list_galleries(sim, req):
    return list_in_resource_group(sim, req, GAL_TYPE)


@route("GET", SUB + "/providers/Microsoft.Compute/galleries")
def list_all_galleries(sim, req):
    return list_in_subscription(sim, req, GAL_TYPE)


@route("DELETE", GAL)
def delete_gallery(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    g = sim.store.get(_gal_id(req))
    if g is None:
        return Response(204, None)
    if sim.store.list(IMG_TYPE, g["id"].lower() + "/"):
        raise ArmError(409, "CannotDeleteResource", "Can not delete resource before nested "
                       "resources are deleted.")
    return _caps_delete(sim, req, g, sim.duration("gallery_delete"))


# -- image definitions ---------------------------------------------------------------------
def _img_id(req):
    return _gal_id(req) + "/images/" + req.param("galleryImageName")


def create_image(sim, gallery, name, location, props, tags):
    iid = gallery["id"] + "/images/" + name
    body = {"id": iid, "name": name, "type": IMG_TYPE, "location": norm_location(location),
            "properties": {"hyperVGeneration": props.get("hyperVGeneration", "V1"),
                           "architecture": props.get("architecture", "x64"),
                           "osType": props["osType"], "osState": props["osState"],
                           "identifier": copy.deepcopy(props["identifier"]),
                           "provisioningState": "Succeeded"}}
    for k in ("features", "description", "eula", "releaseNoteUri", "privacyStatementUri",
              "recommended", "endOfLifeDate", "purchasePlan", "disallowed"):
        if props.get(k) is not None:
            body["properties"][k] = copy.deepcopy(props[k])
    if tags:
        body["tags"] = tags
    return sim.store.put(iid, body)


def _validate_image_props(props):
    for key in ("osType", "osState", "identifier"):
        if not props.get(key):
            raise invalid_parameter(f"Required parameter '{key}' is missing (null).",
                                    f"galleryImage.properties.{key}")
    ident = props["identifier"]
    for key in ("publisher", "offer", "sku"):
        if not ident.get(key):
            raise invalid_parameter(f"Required parameter 'identifier.{key}' is missing (null).",
                                    f"galleryImage.properties.identifier.{key}")
    if props["osType"] not in ("Windows", "Linux"):
        raise invalid_parameter(f"The value '{props['osType']}' of osType is invalid.",
                                "galleryImage.properties.osType")
    if props["osState"] not in ("Generalized", "Specialized"):
        raise invalid_parameter(f"The value '{props['osState']}' of osState is invalid.",
                                "galleryImage.properties.osState")
    feats = {f.get("name", "").lower(): f.get("value", "") for f in props.get("features") or []}
    if feats.get("securitytype", "").lower().startswith("trustedlaunch") and \
            props.get("hyperVGeneration", "V1") != "V2":
        raise invalid_parameter("SecurityType TrustedLaunch requires hyperVGeneration V2.",
                                "galleryImage.properties.features")


@route("PUT", IMG)
def put_image(sim, req):
    gallery = get_gallery(sim, req)
    body = req.json()
    props = body.get("properties") or {}
    name = req.param("galleryImageName")
    existing = sim.store.get(_img_id(req))
    if existing is not None:
        cur = existing["properties"]
        for key in ("osType", "osState", "hyperVGeneration"):
            if props.get(key) and props[key] != cur.get(key):
                raise ArmError(409, "PropertyChangeNotAllowed", f"Changing property "
                               f"'galleryImage.properties.{key}' is not allowed.", target=key)
        if props.get("identifier") and {k.lower(): str(v).lower() for k, v in
                                        props["identifier"].items()} != \
                {k.lower(): str(v).lower() for k, v in cur["identifier"].items()}:
            raise ArmError(409, "PropertyChangeNotAllowed", "Changing property "
                           "'galleryImage.properties.identifier' is not allowed.",
                           target="identifier")
        for k in ("description", "eula", "releaseNoteUri", "endOfLifeDate", "recommended",
                  "features"):
            if k in props:
                cur[k] = copy.deepcopy(props[k])
        _set_tags(existing, body, True)
        return _caps_put(sim, req, existing, sim.duration("gallery_image"), False)
    if not _IMAGE_NAME.match(name):
        raise invalid_parameter(f"The gallery image name '{name}' is invalid.",
                                "galleryImageName")
    _validate_image_props(props)
    img = create_image(sim, gallery, name, body.get("location") or gallery["location"], props,
                       validate_tags(body.get("tags")))
    return _caps_put(sim, req, img, sim.duration("gallery_image"), True)


@route("PATCH", IMG)
def patch_image(sim, req):
    img = get_image(sim, req)
    body = req.json()
    _set_tags(img, body, False)
    for k in ("description", "eula", "releaseNoteUri", "endOfLifeDate", "recommended"):
        if k in (body.get("properties") or {}):
            img["properties"][k] = body["properties"][k]
    return _caps_put(sim, req, img, sim.duration("gallery_update"), False)


@route("GET", IMG)
def get_image(sim, req):
    get_gallery(sim, req)
    img = sim.store.get(_img_id(req))
    if img is None:
        raise not_found(IMG_TYPE, f"{req.param('galleryName')}/{req.param('galleryImageName')}",
                        req.param("resourceGroupName"))
    return img


@route("GET", GAL + "/images")
def list_images(sim, req):
    g = get_gallery(sim, req)
    return paged(sim, req, sim.store.list(IMG_TYPE, g["id"].lower() + "/"))


@route("DELETE", IMG)
def delete_image(sim, req):
    get_gallery(sim, req)
    img = sim.store.get(_img_id(req))
    if img is None:
        return Response(204, None)
    if sim.store.list(VER_TYPE, img["id"].lower() + "/"):
        raise ArmError(409, "CannotDeleteResource", "Can not delete resource before nested "
                       "resources are deleted.")
    return _caps_delete(sim, req, img, sim.duration("gallery_delete"))


# -- image versions ------------------------------------------------------------------------
def _ver_id(req):
    return _img_id(req) + "/versions/" + req.param("galleryImageVersionName")


def render(sim, res: dict, expand_replication: bool) -> dict:
    body = copy.deepcopy(res)
    if res["type"] == VER_TYPE:
        if expand_replication:
            body["properties"]["replicationStatus"] = replication_status(sim, res)
    return body


def _target_regions(pp: dict, location: str) -> list[dict]:
    regions = pp.get("targetRegions")
    replica = int(pp.get("replicaCount") or 1)
    sat = pp.get("storageAccountType") or "Standard_LRS"
    if not regions:
        regions = [{"name": location}]
    out = []
    seen = set()
    for r in regions:
        if not r.get("name"):
            raise invalid_parameter("Each target region needs a name.",
                                    "galleryImageVersion.properties.publishingProfile."
                                    "targetRegions")
        n = norm_location(r["name"])
        if n in seen:
            raise invalid_parameter(f"Target region '{r['name']}' is listed more than once.",
                                    "galleryImageVersion.properties.publishingProfile."
                                    "targetRegions")
        seen.add(n)
        count = int(r.get("regionalReplicaCount") or replica)
        if not 1 <= count <= 100:
            raise invalid_parameter("regionalReplicaCount must be between 1 and 100.",
                                    "regionalReplicaCount")
        entry = {"name": display_region(n), "regionalReplicaCount": count,
                 "storageAccountType": r.get("storageAccountType") or sat}
        if r.get("excludeFromLatest") is not None:
            entry["excludeFromLatest"] = bool(r["excludeFromLatest"])
        out.append(entry)
    if norm_location(location) not in seen:
        raise invalid_parameter(f"The source region '{display_region(location)}' must be one "
                                "of the target regions.",
                                "galleryImageVersion.properties.publishingProfile.targetRegions")
    return out


def _schedule_replication(sim, version, regions, start, fault):
    rep = _replication(sim, version)
    ends = []
    for i, r in enumerate(regions):
        n = norm_location(r["name"])
        if n in rep and rep[n].get("failed_at") is None:
            ends.append(rep[n]["start"] + rep[n]["duration"])
            continue
        dur = sim.duration("replication_per_region") * (1 + 0.1 * (r["regionalReplicaCount"] -
                                                                  1))
        rep[n] = {"start": start, "duration": dur, "failed_at": None}
        ends.append(start + dur)
    for n in list(rep):
        if n not in {norm_location(r["name"]) for r in regions}:
            del rep[n]
    end = max(ends) if ends else start
    if fault is not None:
        last = norm_location(regions[-1]["name"])
        r = rep[last]
        r["failed_at"] = r["start"] + r["duration"] / 2
        r["fail_progress"] = 50
        r["failure"] = fault.get("message") or ("Replication job failed: the operation to copy "
                                                "the image to the target region encountered "
                                                "an internal error.")
        end = r["failed_at"]
    return end


def _validate_source(sim, definition, props):
    sp = props.get("storageProfile") or {}
    src = sp.get("source") or {}
    vm_id = src.get("virtualMachineId")
    other_id = src.get("id")
    os_src = ((sp.get("osDiskImage") or {}).get("source") or {})
    if not vm_id and other_id and (parse(other_id) or {}).get("type", "").lower() == \
            "microsoft.compute/virtualmachines":
        vm_id = other_id
    osstate = definition["properties"]["osState"]
    if vm_id:
        vm = sim.store.get(vm_id)
        if vm is None:
            raise ArmError(404, "NotFound", f"The source virtual machine '{vm_id}' was not found.")
        st = vm_state(sim, vm["id"])
        pw = st.get("power")
        if osstate == "Generalized" and not st.get("generalized"):
            raise invalid_parameter(
                f"The source virtual machine '{vm['id']}' is not generalized; a gallery image "
                f"definition with osState Generalized needs a generalized source (run sysprep, "
                f"deallocate the VM and mark it generalized).",
                "galleryImageVersion.properties.storageProfile.source.virtualMachineId")
        if osstate == "Specialized" and st.get("generalized"):
            raise invalid_parameter(
                f"The source virtual machine '{vm['id']}' is generalized; the gallery image "
                f"definition's osState is Specialized.",
                "galleryImageVersion.properties.storageProfile.source.virtualMachineId")
        if osstate == "Generalized" and pw != "deallocated":
            raise ArmError(409, "OperationNotAllowed",
                           f"The source virtual machine '{vm['id']}' must be deallocated to "
                           f"capture a generalized image version; it is {pw}.")
        if vm["properties"]["provisioningState"] not in ("Succeeded",):
            raise ArmError(409, "OperationNotAllowed",
                           f"The source virtual machine '{vm['id']}' is "
                           f"{vm['properties']['provisioningState']}.")
        dprops = definition["properties"]
        feats = {f.get("name", "").lower(): str(f.get("value", "")).lower()
                 for f in dprops.get("features") or []}
        vm_gen = st.get("hyper_v_generation", "V2")
        if dprops.get("hyperVGeneration", "V1") != vm_gen:
            raise invalid_parameter(
                f"The source virtual machine is Hyper-V generation {vm_gen}; the gallery image "
                f"definition is {dprops.get('hyperVGeneration', 'V1')}.",
                "galleryImageVersion.properties.storageProfile.source")
        vm_sec = ((vm["properties"].get("securityProfile") or {}).get("securityType") or "")
        if vm_sec.lower() == "trustedlaunch" and not feats.get("securitytype", "").startswith(
                "trustedlaunch"):
            raise invalid_parameter(
                "The source virtual machine uses security type TrustedLaunch; the gallery image "
                "definition must have the feature SecurityType TrustedLaunchSupported or "
                "TrustedLaunch.", "galleryImageVersion.properties.storageProfile.source")
        disk_id = os_disk_id(vm)
        disk = sim.store.get(disk_id)
        source_out = {"virtualMachineId": vm["id"]} if src.get("virtualMachineId") else \
            {"id": vm["id"]}
        return vm["id"], source_out, _guest.stored(sim, disk_id), \
            disk["properties"]["diskSizeGB"], {}
    if other_id or os_src.get("id"):
        rid = other_id or os_src["id"]
        res = sim.store.get(rid)
        if res is None or res["type"] not in (_disks.SNAP_TYPE, _disks.DISK_TYPE):
            raise ArmError(404, "NotFound", f"The source '{rid}' was not found or is not a "
                           "virtual machine, snapshot or managed disk.")
        osdisk = {"source": {"id": res["id"]}}
        return res["id"], ({"id": res["id"]} if other_id else {}), _guest.stored(
            sim, res["id"]), res["properties"]["diskSizeGB"], osdisk
    raise invalid_parameter("Required parameter 'storageProfile.source' is missing (null).",
                            "galleryImageVersion.properties.storageProfile.source")


@route("PUT", VER)
def put_version(sim, req):
    definition = get_image(sim, req)
    gallery = sim.store.get(_gal_id(req))
    body = req.json()
    props = body.get("properties") or {}
    name = req.param("galleryImageVersionName")
    vid = _ver_id(req)
    existing = sim.store.get(vid)
    if not _VERSION.match(name):
        raise invalid_parameter(f"The gallery image version name '{name}' is invalid. The "
                                "version name should follow Major(int32).Minor(int32).Patch"
                                "(int32) format, where the integers are between 0 and "
                                "2,147,483,647 inclusive.", "galleryImageVersionName")
    location = norm_location(body.get("location") or gallery["location"])
    if location != gallery["location"]:
        raise invalid_parameter(f"The gallery image version must be created in the gallery's "
                                f"region '{gallery['location']}'.", "location")
    pp_in = props.get("publishingProfile") or {}
    if existing is not None:
        src = (props.get("storageProfile") or {}).get("source") or {}
        new_id = src.get("virtualMachineId") or src.get("id")
        cur_id = sim.store.internal(vid).get("source_id")
        if new_id and cur_id and new_id.lower() != cur_id.lower():
            raise ArmError(409, "PropertyChangeNotAllowed",
                           "Changing property 'galleryImageVersion.properties.storageProfile."
                           "source.id' is not allowed.",
                           target="galleryImageVersion.properties.storageProfile.source.id")
        return _update_version(sim, req, existing, body, replace=True)
    source_id, source_out, src_guest, size, osdisk_src = _validate_source(sim, definition, props)
    regions = _target_regions(pp_in, location)
    now = sim.now()
    pp = {"targetRegions": regions,
          "replicaCount": int(pp_in.get("replicaCount") or 1),
          "excludeFromLatest": bool(pp_in.get("excludeFromLatest", False)),
          "publishedDate": iso(now),
          "storageAccountType": pp_in.get("storageAccountType") or "Standard_LRS",
          "replicationMode": pp_in.get("replicationMode") or "Full"}
    if pp_in.get("endOfLifeDate"):
        try:
            eol = parse_iso(pp_in["endOfLifeDate"])
        except ValueError:
            raise invalid_parameter("endOfLifeDate is not a valid date-time.",
                                    "publishingProfile.endOfLifeDate") from None
        if eol <= now:
            raise invalid_parameter("The end of life date must be in the future.",
                                    "publishingProfile.endOfLifeDate")
        pp["endOfLifeDate"] = iso(eol)
    storage = {"osDiskImage": {"sizeInGB": int(size), "hostCaching": "ReadWrite",
                               **({"source": osdisk_src["source"]} if osdisk_src else {})},
               "dataDiskImages": []}
    if source_out:
        storage["source"] = source_out
    ver = {"id": vid, "name": name, "type": VER_TYPE, "location": location,
           "properties": {"publishingProfile": pp, "storageProfile": storage,
                          "safetyProfile": {"allowDeletionOfReplicatedLocations": bool(
                              (props.get("safetyProfile") or {}).get(
                                  "allowDeletionOfReplicatedLocations", True)),
                              "reportedForPolicyViolation": False},
                          "provisioningState": "Creating"}}
    tags = validate_tags(body.get("tags"))
    if tags:
        ver["tags"] = tags
    sim.store.put(vid, ver)
    internal = sim.store.internal(vid)
    internal["source_id"] = source_id
    internal["guest"] = _guest.clone(src_guest)
    fault = req.lro_fault
    req.lro_fault = None
    start = now + sim.duration("gallery_version_capture")
    end = _schedule_replication(sim, ver, regions, start, fault)

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

    op = sim.ops.start(req, end - now, complete, fail, location=location,
                       kind="capsOperations", resource_id=vid)
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
            try:
                pp["endOfLifeDate"] = iso(parse_iso(pp_in["endOfLifeDate"]))
            except ValueError:
                raise invalid_parameter("endOfLifeDate is not a valid date-time.",
                                        "publishingProfile.endOfLifeDate") from None
        else:
            pp.pop("endOfLifeDate", None)
    end = now + sim.duration("gallery_update")
    fault = req.lro_fault
    req.lro_fault = None
    if pp_in.get("targetRegions"):
        regions = _target_regions(pp_in, ver["location"])
        removed = {norm_location(r["name"]) for r in pp["targetRegions"]} - \
            {norm_location(r["name"]) for r in regions}
        if removed and not ver["properties"]["safetyProfile"].get(
                "allowDeletionOfReplicatedLocations", True):
            raise ArmError(409, "OperationNotAllowed", "Removing replicated regions is not "
                           "allowed by the version's safetyProfile.")
        pp["targetRegions"] = regions
        end = max(end, _schedule_replication(sim, ver, regions, now, fault))
    _set_tags(ver, body, replace)
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


@route("PATCH", VER)
def patch_version(sim, req):
    ver = get_version_res(sim, req)
    return _update_version(sim, req, ver, req.json(), replace=False)


def get_version_res(sim, req):
    get_image(sim, req)
    ver = sim.store.get(_ver_id(req))
    if ver is None:
        raise not_found(VER_TYPE, f"{req.param('galleryName')}/{req.param('galleryImageName')}/"
                        f"{req.param('galleryImageVersionName')}", req.param("resourceGroupName"))
    return ver


@route("GET", VER)
def get_version(sim, req):
    ver = get_version_res(sim, req)
    return render(sim, ver, (req.query.get("$expand") or "").lower() == "replicationstatus")


@route("GET", IMG + "/versions")
def list_versions(sim, req):
    img = get_image(sim, req)
    return paged(sim, req, [render(sim, v, False)
                            for v in sim.store.list(VER_TYPE, img["id"].lower() + "/")])


@route("DELETE", VER)
def delete_version(sim, req):
    get_image(sim, req)
    ver = sim.store.get(_ver_id(req))
    if ver is None:
        return Response(204, None)
    return _caps_delete(sim, req, ver, sim.duration("gallery_version_delete"))


# -- scenario ------------------------------------------------------------------------------
def load_galleries(sim, galleries):
    sub = sim.subscription_id
    for g in galleries:
        rg = require_rg(sim, sub, g["resource_group"])
        location = g.get("location", rg["location"])
        gal = create_gallery(sim, sub, g["resource_group"], g["name"], location,
                             {"description": g.get("description")},
                             validate_tags(g.get("tags")))
        for im in g.get("images") or []:
            props = {"osType": im.get("os_type", "Windows"),
                     "osState": im.get("os_state", "Generalized"),
                     "hyperVGeneration": im.get("hyper_v_generation", "V2"),
                     "identifier": im["identifier"],
                     "features": [{"name": "SecurityType",
                                   "value": im.get("security_type", "TrustedLaunchSupported")}]}
            if im.get("description"):
                props["description"] = im["description"]
            _validate_image_props(props)
            img = create_image(sim, gal, im["name"], location, props,
                               validate_tags(im.get("tags")))
            for v in im.get("versions") or []:
                regions = _target_regions({"targetRegions": [
                    {"name": r["name"], "regionalReplicaCount": r.get("replicas", 1)}
                    for r in v.get("target_regions") or [{"name": location}]]}, location)
                published = parse_iso(v["published"]) if v.get("published") else sim.now()
                pp = {"targetRegions": regions, "replicaCount": 1,
                      "excludeFromLatest": bool(v.get("exclude_from_latest", False)),
                      "publishedDate": iso(published), "storageAccountType": "Standard_LRS",
                      "replicationMode": "Full"}
                if v.get("end_of_life"):
                    pp["endOfLifeDate"] = iso(parse_iso(v["end_of_life"]))
                vid = img["id"] + "/versions/" + v["name"]
                g_model = _guest.make_guest(v.get("guest"))
                g_model["generalized"] = props["osState"] == "Generalized"
                g_model.setdefault("sysprep_count", 1)
                ver = {"id": vid, "name": v["name"], "type": VER_TYPE, "location": location,
                       "properties": {
                           "publishingProfile": pp,
                           "storageProfile": {"osDiskImage": {"sizeInGB": v.get("size_gb", 128),
                                                              "hostCaching": "ReadWrite"},
                                              "dataDiskImages": []},
                           "safetyProfile": {"allowDeletionOfReplicatedLocations": True,
                                             "reportedForPolicyViolation": False},
                           "provisioningState": "Succeeded"}}
                if v.get("source_vm_id"):
                    ver["properties"]["storageProfile"]["source"] = {
                        "virtualMachineId": v["source_vm_id"]}
                tags = validate_tags(v.get("tags"))
                if tags:
                    ver["tags"] = tags
                sim.store.put(vid, ver)
                internal = sim.store.internal(vid)
                internal["guest"] = g_model
                internal["source_id"] = v.get("source_vm_id") or f"scenario:{uuid.uuid4()}"
                rep = _replication(sim, ver)
                for r in regions:
                    rep[norm_location(r["name"])] = {"start": published - 1.0, "duration": 0.5,
                                                     "failed_at": None}


def register(sim):
    sim.scenario_section("galleries", load_galleries, 30)
