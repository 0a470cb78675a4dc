"""Microsoft.Compute disks: PUT (create or update), PATCH, GET, list, DELETE."""

from __future__ import annotations

from .. import guest as _guest
from ..arm import (find_in_rg, get_in_rg, list_routes, norm_location, require_rg, set_tags,
                   validate_tags)
from ..errors import ArmError, invalid_parameter
from ..ids import resource_id
from ..routing import route
from ..server import Response
from .common import DISK, DISK_TYPE, creation_from, delete_lro, lro_put, new_disk_body


def _disk_id(req, name_param="diskName"):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "disks", req.param(name_param))


@route("PUT", DISK, policy="CreateUpdateDisks")
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
    out, src_guest, os_type, hyper_v, size, sec, dur = creation_from(sim, req, creation,
                                                                        "disk")
    size = props.get("diskSizeGB") or size
    if not size:
        raise invalid_parameter("Required parameter 'diskSizeGB' is missing (null).",
                                "diskSizeGB")
    if props.get("diskSizeGB") and creation.get("createOption", "").lower() != "empty":
        src_size = creation_from(sim, req, creation, "disk")[4]
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
    return lro_put(sim, req, disk, sim.duration(dur), False)


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
    set_tags(disk, body, not patch)
    return lro_put(sim, req, disk, sim.duration("disk_update"), True)


@route("PATCH", DISK, policy="CreateUpdateDisks")
def patch_disk(sim, req):
    disk = get_disk(sim, req)
    return _update_disk(sim, req, disk, req.json(), patch=True)


@route("GET", DISK, policy="LowCostGet")
def get_disk(sim, req):
    return get_in_rg(sim, req, _disk_id(req), DISK_TYPE, "diskName")


list_routes("Microsoft.Compute/disks", DISK_TYPE)


@route("DELETE", DISK, policy="DeleteDisks")
def delete_disk(sim, req):
    disk = find_in_rg(sim, req, _disk_id(req))
    if disk is None:
        return Response(204, None)
    if disk.get("managedBy"):
        raise ArmError(409, "OperationNotAllowed",
                       f"Disk {disk['name']} is attached to VM {disk['managedBy']}.")
    return delete_lro(sim, req, disk, "disk_delete")


