"""VM extensions: PUT, PATCH, GET, list, DELETE. Whether an extension succeeds and how long it
takes is decided by the ``vm.extension.provisioning`` hook (part 2)."""

from __future__ import annotations

import copy

from ..arm import validate_tags
from ..errors import ArmError, invalid_parameter, operation_not_allowed
from ..routing import route
from ..server import Response
from ..vmstate import EXT_TYPE, power
from .common import VM, child_id, get_child, get_vm, render_extension


def _ext_id(req):
    return child_id(req, "extensions", "vmExtensionName")


@route("PUT", VM + "/extensions/{vmExtensionName}")
def put_extension(sim, req):
    return _write_extension(sim, req, req.json())


@route("PATCH", VM + "/extensions/{vmExtensionName}")
def patch_extension(sim, req):
    """Update: what is sent replaces, the rest stays; the extension runs again (as Azure
    re-applies an extension on update)."""
    _vm, ext = get_child(sim, req, "extensions", "vmExtensionName", EXT_TYPE)
    patch = req.json()
    cur = ext["properties"]
    props = {k: copy.deepcopy(cur[k]) for k in ("publisher", "type", "typeHandlerVersion",
                                                 "autoUpgradeMinorVersion", "settings")
             if k in cur}
    props["protectedSettings"] = copy.deepcopy(
        sim.store.internal(ext["id"]).get("protectedSettings") or {})
    props.update(copy.deepcopy(patch.get("properties") or {}))
    body = {"location": ext["location"], "properties": props,
            "tags": patch["tags"] if "tags" in patch else ext.get("tags")}
    resp = _write_extension(sim, req, body, request_body=patch)
    resp.status = 200
    return resp


def _write_extension(sim, req, body, request_body=None):
    vm = get_vm(sim, req)
    props = body.get("properties") or {}
    for key in ("publisher", "type", "typeHandlerVersion"):
        if not props.get(key):
            raise invalid_parameter(f"Required parameter '{key}' is missing (null).", key)
    if power(sim, vm["id"]) != "running" or vm["properties"]["provisioningState"] in (
            "Creating", "Deleting"):
        raise operation_not_allowed("Cannot modify extensions in the VM when the VM is not "
                                    "running.")
    rid = _ext_id(req)
    existing = sim.store.get(rid)
    if existing and existing["properties"]["publisher"].lower() != props["publisher"].lower():
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'publisher' is not "
                       "allowed.", target="publisher")
    tags = validate_tags(body.get("tags"))
    ext = {"id": rid, "name": req.param("vmExtensionName"), "type": EXT_TYPE,
           "location": vm["location"],
           "properties": {"autoUpgradeMinorVersion": bool(props.get("autoUpgradeMinorVersion",
                                                                    False)),
                          "provisioningState": "Updating" if existing else "Creating",
                          "publisher": props["publisher"], "type": props["type"],
                          "typeHandlerVersion": props["typeHandlerVersion"],
                          "settings": copy.deepcopy(props.get("settings") or {})}}
    for k in ("enableAutomaticUpgrade", "suppressFailures", "forceUpdateTag"):
        if k in props:
            ext["properties"][k] = props[k]
    if tags:
        ext["tags"] = tags
    protected = copy.deepcopy(props.get("protectedSettings") or {})
    sim.store.put(rid, ext)
    sim.store.internal(rid)["protectedSettings"] = protected
    outcome = {"duration_s": sim.duration("vm_extension"), "error": None}
    sim.hooks.emit("vm.extension.provisioning", vm_id=vm["id"], vm=vm, extension=ext,
                   protected_settings=protected, outcome=outcome)
    sim.hooks.emit("resource.written", resource_id=rid, resource=ext,
                   request_body=request_body if request_body is not None else body)

    def complete():
        if outcome.get("error"):
            ext["properties"]["provisioningState"] = "Failed"
            err = outcome["error"]
            raise ArmError(400, err.get("code", "VMExtensionProvisioningError"),
                           err.get("message", "VM has reported a failure when processing "
                                   "extension."))
        ext["properties"]["provisioningState"] = "Succeeded"
        sim.hooks.emit("vm.extension.created", vm_id=vm["id"], vm=vm, extension=ext,
                       protected_settings=protected)
        return None

    def fail(error):
        ext["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, float(outcome["duration_s"]), complete, fail,
                       location=vm["location"], resource_id=rid)
    return Response(200 if existing else 201, render_extension(ext),
                    sim.ops.headers(op, location=False))


@route("GET", VM + "/extensions/{vmExtensionName}")
def get_extension(sim, req):
    return render_extension(get_child(sim, req, "extensions", "vmExtensionName", EXT_TYPE)[1])


@route("GET", VM + "/extensions")
def list_extensions(sim, req):
    vm = get_vm(sim, req)
    return {"value": [render_extension(e)
                      for e in sim.store.list(EXT_TYPE, vm["id"].lower() + "/")]}


@route("DELETE", VM + "/extensions/{vmExtensionName}")
def delete_extension(sim, req):
    vm = get_vm(sim, req)
    rid = _ext_id(req)
    ext = sim.store.get(rid)
    if ext is None:
        return Response(204, None)
    ext["properties"]["provisioningState"] = "Deleting"

    def complete():
        sim.store.delete(rid)
        sim.hooks.emit("vm.extension.deleted", vm_id=vm["id"], extension=ext)
        return None

    op = sim.ops.start(req, sim.duration("vm_extension_delete"), complete, None,
                       location=vm["location"], resource_id=rid)
    return Response(202, None, sim.ops.headers(op))

