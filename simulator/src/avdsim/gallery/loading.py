"""Scenario ``galleries``: galleries, image definitions and versions that exist (replicated)
at load time."""

from __future__ import annotations

import uuid

from .. import guest as _guest
from ..arm import norm_location, require_rg, validate_tags
from ..clock import iso, parse_iso
from .galleries import create_gallery
from .images import create_image, validate_image_props
from .replication import replication, target_regions
from .versions import version_body

def _load_version(sim, img: dict, os_state: str, v: dict, location: str) -> None:
    """A version replicated to its target regions a moment before it was published."""
    regions = target_regions({"targetRegions": [
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
    g_model["generalized"] = os_state == "Generalized"
    g_model.setdefault("sysprep_count", 1)
    storage = {"osDiskImage": {"sizeInGB": v.get("size_gb", 128), "hostCaching": "ReadWrite"},
               "dataDiskImages": []}
    if v.get("source_vm_id"):
        storage["source"] = {"virtualMachineId": v["source_vm_id"]}
    ver = version_body(vid, v["name"], location, pp, storage, validate_tags(v.get("tags")))
    sim.store.put(vid, ver)
    internal = sim.store.internal(vid)
    internal["guest"] = g_model
    internal["source_id"] = v.get("source_vm_id") or f"scenario:{uuid.uuid4()}"
    rep = replication(sim, ver)
    for r in regions:
        rep[norm_location(r["name"])] = {"start": published - 1.0, "duration": 0.5,
                                         "failed_at": None}


def _load_image(sim, gal: dict, im: dict, location: str) -> None:
    props = {"osType": im.get("os_type", "Windows"),
             "osState": im.get("os_state", "Generalized"),
             "hyperVGeneration": im.get("hyper_v_generation", "V2"),
             "identifier": im["identifier"],
             "features": [{"name": "SecurityType",
                           "value": im.get("security_type", "TrustedLaunchSupported")}]}
    if im.get("description"):
        props["description"] = im["description"]
    validate_image_props(props)
    img = create_image(sim, gal, im["name"], location, props, validate_tags(im.get("tags")))
    for v in im.get("versions") or []:
        _load_version(sim, img, props["osState"], v, location)


def load_galleries(sim, galleries):
    sub = sim.subscription_id
    for g in galleries:
        rg = require_rg(sim, sub, g["resource_group"])
        location = g.get("location", rg["location"])
        gal = create_gallery(sim, sub, g["resource_group"], g["name"], location,
                             {"description": g.get("description")},
                             validate_tags(g.get("tags")))
        for im in g.get("images") or []:
            _load_image(sim, gal, im, location)
