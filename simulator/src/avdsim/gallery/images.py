"""Gallery image definitions (PUT, PATCH, GET, list, DELETE)."""

from __future__ import annotations

import copy
import re

from ..arm import found, norm_location, paged, set_tags, validate_tags
from ..errors import ArmError, invalid_parameter
from ..routing import route
from ..server import Response
from .caps import caps_delete_empty, caps_patch, caps_put
from .common import GAL, IMG, IMG_TYPE, VER_TYPE, img_id
from .galleries import get_gallery

_IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9]$|^[A-Za-z0-9]$")


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


def validate_image_props(props):
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


@route("PUT", IMG, policy="CreateUpdateGalleryImage")
def put_image(sim, req):
    gallery = get_gallery(sim, req)
    body = req.json()
    props = body.get("properties") or {}
    name = req.param("galleryImageName")
    existing = sim.store.get(img_id(req))
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
        set_tags(existing, body, True)
        return caps_put(sim, req, existing, sim.duration("gallery_image"), False)
    if not _IMAGE_NAME.match(name):
        raise invalid_parameter(f"The gallery image name '{name}' is invalid.",
                                "galleryImageName")
    validate_image_props(props)
    img = create_image(sim, gallery, name, body.get("location") or gallery["location"], props,
                       validate_tags(body.get("tags")))
    return caps_put(sim, req, img, sim.duration("gallery_image"), True)


@route("PATCH", IMG, policy="CreateUpdateGalleryImage")
def patch_image(sim, req):
    return caps_patch(sim, req, get_image(sim, req),
                      ("description", "eula", "releaseNoteUri", "endOfLifeDate", "recommended"))


@route("GET", IMG, policy="GetGalleryImage")
def get_image(sim, req):
    get_gallery(sim, req)
    return found(sim.store.get(img_id(req)), IMG_TYPE,
                 f"{req.param('galleryName')}/{req.param('galleryImageName')}",
                 req.param("resourceGroupName"))


@route("GET", GAL + "/images")
def list_images(sim, req):
    g = get_gallery(sim, req)
    return paged(sim, req, sim.store.list(IMG_TYPE, g["id"].lower() + "/"))


@route("DELETE", IMG, policy="DeleteGalleryImage")
def delete_image(sim, req):
    get_gallery(sim, req)
    img = sim.store.get(img_id(req))
    if img is None:
        return Response(204, None)
    return caps_delete_empty(sim, req, img, VER_TYPE)


