"""Gallery resources: rendering and the capsOperations long-running PUT and DELETE."""

from __future__ import annotations

import copy

from ..arm import delete_with_children, set_tags
from ..errors import ArmError
from ..server import Response
from .common import VER_TYPE
from .replication import replication_status


def render(sim, res: dict, expand_replication: bool) -> dict:
    body = copy.deepcopy(res)
    if res["type"] == VER_TYPE:
        if expand_replication:
            body["properties"]["replicationStatus"] = replication_status(sim, res)
    return body


def caps_put(sim, req, res, duration, created):
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


def caps_patch(sim, req, res, keys: tuple):
    """PATCH of a gallery or image definition: tags, and those of ``keys`` the body's
    properties carry."""
    body = req.json()
    set_tags(res, body, False)
    for k in keys:
        if k in (body.get("properties") or {}):
            res["properties"][k] = body["properties"][k]
    return caps_put(sim, req, res, sim.duration("gallery_update"), False)


def caps_delete_empty(sim, req, res, child_type: str):
    """Delete a gallery or image definition: 409 while it has nested resources."""
    if sim.store.list(child_type, res["id"].lower() + "/"):
        raise ArmError(409, "CannotDeleteResource", "Can not delete resource before nested "
                       "resources are deleted.")
    return caps_delete(sim, req, res, sim.duration("gallery_delete"))


def caps_delete(sim, req, res, duration):
    res["properties"]["provisioningState"] = "Deleting"

    def complete():
        delete_with_children(sim, res)
        return None

    op = sim.ops.start(req, duration, complete, None, location=res["location"],
                       kind="capsOperations", resource_id=res["id"])
    return Response(202, None, sim.ops.headers(op))
