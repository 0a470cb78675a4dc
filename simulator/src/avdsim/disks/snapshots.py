"""Microsoft.Compute snapshots (full and incremental): PUT, PATCH, GET, list, DELETE. A
snapshot is point-in-time: it keeps a copy of the source's guest model."""

from __future__ import annotations

import uuid

from .. import guest as _guest
from ..arm import find_in_rg, get_in_rg, list_routes, set_tags, validate_tags
from ..errors import ArmError, invalid_parameter
from ..ids import resource_id
from ..routing import route
from ..server import Response
from .common import SNAP, SNAP_TYPE, creation_from, delete_lro, lro_put, new_disk_body


def _snap_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "snapshots", req.param("snapshotName"))


def _new_snapshot(sim, req, sid, body: dict) -> dict:
    props = body.get("properties") or {}
    creation = props.get("creationData") or {}
    if (creation.get("createOption") or "").lower() not in ("copy", "copystart"):
        raise invalid_parameter("Snapshots support createOption Copy (from a disk or snapshot).",
                                "creationData.createOption")
    out, _src_guest, os_type, hyper_v, size, sec, _dur = creation_from(sim, req, creation,
                                                                          "snapshot")
    src = sim.store.get(out["sourceResourceId"])
    incremental = bool(props.get("incremental", False))
    sku = (body.get("sku") or {}).get("name", "Standard_LRS" if not incremental else
                                      "Standard_ZRS")
    extra = {}
    if incremental:
        extra = {"completionPercent": 0.0, "incrementalSnapshotFamilyId": str(uuid.uuid5(
            uuid.NAMESPACE_URL, src["id"].lower()))}
    snap = new_disk_body(sim, sid, body["location"], validate_tags(body.get("tags")), sku, size,
                         out, os_type=os_type, hyper_v=hyper_v, security_type=sec,
                         rtype=SNAP_TYPE, incremental=incremental, extra=extra)
    sim.store.put(sid, snap)
    # point-in-time: the content is what the source holds now
    _guest.store(sim, sid, _guest.clone(_guest.stored(sim, src["id"])))
    return snap


@route("PUT", SNAP, policy="HighCostSnapshotCreateHydrate")
def put_snapshot(sim, req):
    sid = _snap_id(req)
    existing = find_in_rg(sim, req, sid)
    body = req.json()
    if existing is not None:
        set_tags(existing, body, False)
        return lro_put(sim, req, existing, sim.duration("disk_update"), True)
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required.")
    snap = _new_snapshot(sim, req, sid, body)

    def finish():
        if snap["properties"]["incremental"]:
            snap["properties"]["completionPercent"] = 100.0

    return lro_put(sim, req, snap, sim.duration("snapshot"), False, finish)


@route("PATCH", SNAP, policy="CreateUpdateDisks")
def patch_snapshot(sim, req):
    snap = get_snapshot(sim, req)
    set_tags(snap, req.json(), False)
    return lro_put(sim, req, snap, sim.duration("disk_update"), True)


@route("GET", SNAP, policy="LowCostGet")
def get_snapshot(sim, req):
    return get_in_rg(sim, req, _snap_id(req), SNAP_TYPE, "snapshotName")


list_routes("Microsoft.Compute/snapshots", SNAP_TYPE)


@route("DELETE", SNAP, policy="DeleteDisks")
def delete_snapshot(sim, req):
    snap = find_in_rg(sim, req, _snap_id(req))
    if snap is None:
        return Response(204, None)
    return delete_lro(sim, req, snap, "snapshot_delete")


