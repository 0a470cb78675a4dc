"""Azure Compute Gallery: galleries (PUT, PATCH, GET, list, DELETE)."""

from __future__ import annotations

import re

from ..arm import (find_in_rg, get_in_rg, list_routes, norm_location, require_rg, set_tags,
                   validate_tags)
from ..errors import ArmError, invalid_parameter
from ..ids import resource_id
from ..routing import route
from ..server import Response
from .caps import caps_delete_empty, caps_patch, caps_put
from .common import GAL, GAL_TYPE, IMG_TYPE, gal_id

_GALLERY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,78}[A-Za-z0-9]$|^[A-Za-z0-9]$")


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


@route("PUT", GAL, policy="CreateUpdateGallery")
def put_gallery(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    body = req.json()
    name = req.param("galleryName")
    existing = sim.store.get(gal_id(req))
    props = body.get("properties") or {}
    if existing is not None:
        if body.get("location") and norm_location(body["location"]) != existing["location"]:
            raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'location' is "
                           "not allowed.", target="location")
        set_tags(existing, body, True)
        if "description" in props:
            existing["properties"]["description"] = props["description"]
        return caps_put(sim, req, existing, sim.duration("gallery"), False)
    if not _GALLERY_NAME.match(name):
        raise invalid_parameter(f"The gallery name '{name}' is invalid. It can contain only "
                                "letters, digits, underscores and periods, and must start and "
                                "end with a letter or digit.", "galleryName")
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required.")
    g = create_gallery(sim, req.subscription_id, req.param("resourceGroupName"), name,
                       body["location"], props, validate_tags(body.get("tags")))
    return caps_put(sim, req, g, sim.duration("gallery"), True)


@route("PATCH", GAL, policy="CreateUpdateGallery")
def patch_gallery(sim, req):
    return caps_patch(sim, req, get_gallery(sim, req), ("description",))


@route("GET", GAL, policy="GetGallery")
def get_gallery(sim, req):
    return get_in_rg(sim, req, gal_id(req), GAL_TYPE, "galleryName")


list_routes("Microsoft.Compute/galleries", GAL_TYPE)


@route("DELETE", GAL, policy="DeleteGallery")
def delete_gallery(sim, req):
    g = find_in_rg(sim, req, gal_id(req))
    if g is None:
        return Response(204, None)
    return caps_delete_empty(sim, req, g, IMG_TYPE)


