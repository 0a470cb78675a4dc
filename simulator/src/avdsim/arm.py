"""ARM basics shared by every provider: subscriptions, resource groups, operation-status
resources, paging, tags, locations."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

from .errors import ArmError, not_found
from .ids import rg_id
from .routing import route
from .server import Response
from .vmstate import VM_TYPE, delete_vm_now

SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"

_RG_NAME = re.compile(r"^[-\w._()]{1,90}$")
_BAD_TAG_CHARS = set('<>%&\\?/')


def norm_location(loc: str) -> str:
    return str(loc).replace(" ", "").lower()


def require_rg(sim, sub: str, rg: str) -> dict:
    body = sim.store.get(rg_id(sub, rg))
    if body is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return body


def validate_tags(tags, target: str = "tags") -> dict:
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise ArmError(400, "InvalidRequestContent", "The tags must be a JSON object of strings.")
    if len(tags) > 50:
        raise ArmError(400, "InvalidTagCount",
                       "The number of tags exceeds the maximum of 50.")
    for k, v in tags.items():
        if not k or len(k) > 512 or any(c in _BAD_TAG_CHARS for c in k):
            raise ArmError(400, "InvalidTagNameCharacters",
                           f"The tag names '{k}' have reserved characters '<,>,%,&,\\,?,/' or "
                           "control characters.", target=target)
        if v is None:
            v = ""
        if not isinstance(v, str):
            raise ArmError(400, "InvalidRequestContent",
                           f"The value of tag '{k}' must be a string.")
        if len(v) > 256:
            raise ArmError(400, "InvalidTagValueLength",
                           f"The tag value '{v[:40]}...' exceeds the maximum length of 256.")
    return {k: ("" if v is None else v) for k, v in tags.items()}


def set_tags(res: dict, body: dict, replace: bool) -> None:
    """Tags of an update: ``body["tags"]`` replaces the resource's tags when sent (PATCH), or
    always (``replace``: PUT, where no tags means none)."""
    if "tags" in body or replace:
        tags = validate_tags(body.get("tags"))
        if tags:
            res["tags"] = tags
        else:
            res.pop("tags", None)


def paged(sim, req, items: list, page_size: int | None = None) -> dict:
    """One page of ``items`` with ``nextLink`` (``$skiptoken``) when more remain."""
    size = page_size or sim.page_size
    try:
        start = int(req.query.get("$skiptoken", "0") or 0)
    except ValueError:
        raise ArmError(400, "InvalidSkipToken", "The skip token is invalid.") from None
    page = items[start:start + size]
    body = {"value": page}
    if start + size < len(items):
        q = [(k, v) for k, v in _query_pairs(req) if k.lower() != "$skiptoken"]
        q.append(("$skiptoken", str(start + size)))
        body["nextLink"] = f"{sim.base_url}{req.path}?{urlencode(q, safe='$')}"
    return body


def _viewed(sim, items: list, view) -> list:
    return [view(sim, item) for item in items] if view else items


def list_in_resource_group(sim, req, resource_type: str, view=None) -> dict:
    """One page of ``resource_type`` in the request's resource group (404 when the group is
    missing), each shown through ``view(sim, resource)`` when given."""
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    prefix = f"/subscriptions/{req.subscription_id}/resourceGroups/{req.param('resourceGroupName')}/"
    return paged(sim, req, _viewed(sim, sim.store.list(resource_type, prefix), view))


def list_in_subscription(sim, req, resource_type: str, view=None) -> dict:
    """One page of ``resource_type`` across the request's subscription (``view`` as above)."""
    items = sim.store.list(resource_type, f"/subscriptions/{req.subscription_id}/")
    return paged(sim, req, _viewed(sim, items, view))


def find_in_rg(sim, req, rid: str) -> dict | None:
    """Resource ``rid`` of the request's resource group, or None (404 when the group is
    missing)."""
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    return sim.store.get(rid)


def found(res: dict | None, resource_type: str, name: str, rg: str) -> dict:
    """``res``; 404 ResourceNotFound for ``resource_type``/``name`` when it is None."""
    if res is None:
        raise not_found(resource_type, name, rg)
    return res


def get_in_rg(sim, req, rid: str, resource_type: str, name_param: str) -> dict:
    """Resource ``rid`` of the request's resource group; 404 ResourceNotFound names it by the
    request parameter ``name_param``."""
    return found(find_in_rg(sim, req, rid), resource_type, req.param(name_param),
                 req.param("resourceGroupName"))


def delete_with_children(sim, res: dict, rid: str | None = None) -> None:
    """Remove a resource and its child resources; ``resource.deleted`` for the resource (named
    ``rid`` when given, e.g. as the request spelled it)."""
    rid = rid or res["id"]
    for child in list(sim.store.children(rid)):
        sim.store.delete(child["id"])
    sim.store.delete(rid)
    sim.hooks.emit("resource.deleted", resource_id=rid, resource=res)


def list_routes(collection: str, resource_type: str, subscription: bool = True,
                view=None) -> None:
    """Register the GET list routes of ``resource_type`` in a resource group and, with
    ``subscription``, across the subscription; ``collection`` is the path after
    ``/providers/`` (``Microsoft.Compute/disks``); ``view(sim, resource)`` shapes each item."""
    def list_in_rg(sim, req):
        return list_in_resource_group(sim, req, resource_type, view)

    def list_in_sub(sim, req):
        return list_in_subscription(sim, req, resource_type, view)

    route("GET", f"{RG}/providers/{collection}")(list_in_rg)
    if subscription:
        route("GET", f"{SUB}/providers/{collection}")(list_in_sub)


def _query_pairs(req):
    from urllib.parse import parse_qsl
    return parse_qsl(req.raw_query, keep_blank_values=True)


# -- subscriptions -------------------------------------------------------------------------
def subscription_body(sub: dict) -> dict:
    """``Subscription`` (Microsoft.Resources subscriptions.json 2022-12-01)."""
    return {"id": f"/subscriptions/{sub['subscriptionId']}", **sub, "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                     "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
            "authorizationSource": "RoleBased", "managedByTenants": []}


@route("GET", SUB)
def get_subscription(sim, req):
    return subscription_body(sim.subscriptions.get(req.subscription_id.lower()))


# -- resource groups -----------------------------------------------------------------------
def rg_body(sub, name, location, tags, state="Succeeded"):
    body = {"id": rg_id(sub, name), "name": name, "type": "Microsoft.Resources/resourceGroups",
            "location": norm_location(location), "properties": {"provisioningState": state}}
    if tags:
        body["tags"] = tags
    return body


def create_resource_group(sim, sub, name, location, tags=None):
    return sim.store.put(rg_id(sub, name), rg_body(sub, name, location, tags or {}))


@route("PUT", RG)
def put_resource_group(sim, req):
    sub, name = req.subscription_id, req.param("resourceGroupName")
    if not _RG_NAME.match(name) or name.endswith("."):
        raise ArmError(400, "InvalidResourceGroupName",
                       f"The resource group name '{name}' is invalid.")
    body = req.json()
    existing = sim.store.get(rg_id(sub, name))
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this "
                       "definition.")
    tags = validate_tags(body.get("tags"))
    if existing:
        if norm_location(body["location"]) != existing["location"]:
            raise ArmError(409, "InvalidResourceGroupLocation",
                           f"Invalid resource group location '{norm_location(body['location'])}'. "
                           f"The Resource group already exists in location "
                           f"'{existing['location']}'.")
        existing["tags"] = tags
        if not tags:
            existing.pop("tags", None)
        return existing
    return 201, create_resource_group(sim, sub, name, body["location"], tags)


@route("GET", RG)
def get_resource_group(sim, req):
    return require_rg(sim, req.subscription_id, req.param("resourceGroupName"))


@route("HEAD", RG)
def head_resource_group(sim, req):
    """CheckExistence: 204 when the group exists, 404 (no body) otherwise."""
    exists = sim.store.exists(rg_id(req.subscription_id, req.param("resourceGroupName")))
    return Response(204 if exists else 404, None)


@route("PATCH", RG)
def patch_resource_group(sim, req):
    rg = require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    body = req.json()
    if "tags" in body:
        tags = validate_tags(body["tags"])
        if tags:
            rg["tags"] = tags
        else:
            rg.pop("tags", None)
    return rg


@route("GET", SUB + "/resourcegroups")
def list_resource_groups(sim, req):
    items = sim.store.list("Microsoft.Resources/resourceGroups",
                           f"/subscriptions/{req.subscription_id}/")
    return paged(sim, req, items)


@route("DELETE", RG)
def delete_resource_group(sim, req):
    sub, name = req.subscription_id, req.param("resourceGroupName")
    rg = sim.store.get(rg_id(sub, name))
    if rg is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
    rg["properties"]["provisioningState"] = "Deleting"
    token = uuid.uuid4().hex
    sim.rg_deletions[token] = {"done": False, "id": rg["id"]}

    def done():
        prefix = rg["id"].lower() + "/"
        for vm in list(sim.store.list(VM_TYPE, prefix)):
            delete_vm_now(sim, vm)
        for res in list(sim.store.list(prefix=prefix)):
            sim.store.delete(res["id"])
            sim.hooks.emit("resource.deleted", resource_id=res["id"], resource=res)
        sim.store.delete(rg["id"])
        sim.rg_deletions[token]["done"] = True

    sim.schedule(sim.duration("resource_group_delete"), done)
    sim.pacer.expect(rg["id"], sim.now() + sim.duration("resource_group_delete"))
    loc = f"{sim.base_url}/subscriptions/{sub}/operationresults/{token}?api-version={req.api_version}"
    return Response(202, None, {"Location": loc, **sim.ops.retry_headers()})


@route("GET", SUB + "/operationresults/{operationId}")
def get_operation_result(sim, req):
    d = sim.rg_deletions.get(req.param("operationId"))
    if d is None:
        raise ArmError(404, "NotFound", "The operation was not found.")
    if not d["done"]:
        return Response(202, None, {"Location": sim.base_url + req.path + "?" + req.raw_query,
                                    **sim.ops.retry_headers()})
    return Response(200, None)


# -- operation status (Azure-AsyncOperation and Location URLs) -----------------------------
@route("GET", SUB + "/providers/{namespace}/locations/{location}/{operationKind}/{operationId}",
       policy="GetOperation")
def get_operation(sim, req):
    op = sim.ops.get(req.param("operationId"))
    if op is None or op.subscription.lower() != req.subscription_id.lower():
        raise ArmError(404, "NotFound", f"The operation '{req.param('operationId')}' was not "
                       "found.")
    if req.query.get("monitor", "").lower() == "true":
        async_url, location_url = sim.ops.urls(op)
        if op.status == "InProgress":
            return Response(202, None, {"Location": location_url, **sim.ops.retry_headers(op)})
        if op.status == "Failed":
            return Response(op.error_status, {"error": op.error})
        return Response(200, op.result)
    headers = {} if op.status != "InProgress" else sim.ops.retry_headers(op)
    return Response(200, op.status_body(), headers)


def register(sim):
    sim.rg_deletions = {}

    def load_resource_groups(sim, groups):
        for g in groups:
            create_resource_group(sim, sim.subscription_id, g["name"], g["location"],
                                  validate_tags(g.get("tags")))

    sim.scenario_section("resource_groups", load_resource_groups, 10)
