"""Microsoft.Authorization REST API: role definitions, role assignments, permissions.

Source: azure-rest-api-specs, specification/authorization/resource-manager/
Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json (RoleAssignments_
Create/Get/Delete/ListForScope; examples RoleAssignments_CreateForResourceGroup.json etc.) and
authorization-RoleDefinitionsCalls.json (RoleDefinitions_CreateOrUpdate/Get/Delete/List,
Permissions_ListForResourceGroup/ListForResource). ``{scope}`` is a subscription, a resource
group or a resource (here: a top-level resource or its child).
"""

from __future__ import annotations

import re

from ..errors import ArmError
from ..routing import route
from .model import ASSIGNMENTS, DEFINITIONS, guid_of, is_guid
from .roles import ROLE_DEFINITION_TYPE, scope_covers

SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
RES = RG + "/providers/{resourceProviderNamespace}/{resourceType}/{resourceName}"
CHILD = RES + "/{childResourceType}/{childResourceName}"
SCOPES = (SUB, RG, RES, CHILD)


def _scope(req) -> str:
    return re.split(r"/providers/microsoft\.authorization/", req.path, flags=re.I)[0]


def _filter(req) -> str:
    return (req.query.get("$filter") or "").strip()


# -- role assignments ------------------------------------------------------------------------
def put_assignment(sim, req):
    name = req.param("roleAssignmentName")
    if not is_guid(name):
        raise ArmError(400, "InvalidRoleAssignmentId",
                       f"The role assignment ID '{name}' is not valid. The role assignment ID "
                       "must be a GUID.")
    props = req.json().get("properties") or {}
    role_ref, principal = props.get("roleDefinitionId"), props.get("principalId")
    if not role_ref or not principal:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: "
                       "'properties.roleDefinitionId' and 'properties.principalId' are required.")
    role = sim.rbac.definition(role_ref)
    if role is None:
        raise ArmError(400, "RoleDefinitionDoesNotExist",
                       f"The specified role definition with ID '{guid_of(role_ref)}' does not "
                       "exist.")
    scope = _scope(req)
    if not any(scope_covers(s, scope) for s in role["properties"]["assignableScopes"]):
        raise ArmError(403, "InvalidCreateRoleAssignmentRequest",
                       f"The role definition '{role['name']}' is not assignable at scope "
                       f"'{scope}': it is not within the role's assignableScopes.")
    key = (scope + ASSIGNMENTS + name).lower()
    for other in sim.rbac.assignments.values():
        p = other["properties"]
        if other["id"].lower() != key and p["scope"].lower() == scope.lower() and \
                p["principalId"].lower() == principal.lower() and \
                guid_of(p["roleDefinitionId"]) == role["name"]:
            raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")
    existed = key in sim.rbac.assignments
    body = sim.rbac.assign(scope, name, role["name"], principal,
                           props.get("principalType") or "ServicePrincipal")
    return (200 if existed else 201), body


def get_assignment(sim, req):
    body = sim.rbac.assignments.get(req.path.rstrip("/").lower())
    if body is None:
        raise ArmError(404, "RoleAssignmentNotFound", "The role assignment "
                       f"'{req.param('roleAssignmentName')}' is not found.")
    return body


def delete_assignment(sim, req):
    body = sim.rbac.assignments.pop(req.path.rstrip("/").lower(), None)
    return (200, body) if body is not None else (204, None)


def list_assignments(sim, req):
    """No filter: assignments at, above and below the scope; ``atScope()``: at or above;
    ``principalId eq '{id}'``: that principal's, at, above or below."""
    scope, flt = _scope(req), _filter(req)
    principal = None
    m = re.fullmatch(r"principalId\s+eq\s+'([^']+)'", flt, re.I)
    if m:
        principal = m.group(1)
    elif flt and flt.lower() != "atscope()":
        raise ArmError(400, "UnsupportedQuery", f"The filter '{flt}' is not supported. Supported "
                       "filters: atScope(), principalId eq '{id}'.")
    out = []
    for a in sim.rbac.assignments_of(principal):
        at = a["properties"]["scope"]
        above = scope_covers(at, scope)
        if above or (flt.lower() != "atscope()" and scope_covers(scope, at)):
            out.append(a)
    return {"value": out}


# -- role definitions ------------------------------------------------------------------------
def _visible(body: dict, scope: str) -> bool:
    return any(scope_covers(s, scope) or scope_covers(scope, s)
               for s in body["properties"]["assignableScopes"])


def _with_id(sim, body: dict) -> dict:
    if body["properties"]["type"] == "BuiltInRole":
        return {**body, "id": sim.rbac.definition_id(body["name"])}
    return body


def put_definition(sim, req):
    guid = req.param("roleDefinitionId").lower()
    props = req.json().get("properties") or {}
    scopes, perms = props.get("assignableScopes"), props.get("permissions")
    if not props.get("roleName") or not isinstance(scopes, list) or not scopes or \
            not isinstance(perms, list):
        raise ArmError(400, "InvalidRoleDefinition", "A role definition needs "
                       "'properties.roleName', 'properties.permissions' and a non-empty "
                       "'properties.assignableScopes'.")
    existing = sim.rbac.definitions.get(guid)
    if existing is not None and existing["properties"]["type"] == "BuiltInRole":
        raise ArmError(403, "RoleDefinitionModificationNotAllowed",
                       "Built-in role definitions cannot be modified.")
    same = sim.rbac.definition_named(props["roleName"])
    if same is not None and same["name"] != guid:
        raise ArmError(409, "RoleDefinitionWithSameNameExists",
                       f"A custom role with the same name '{props['roleName']}' already exists "
                       "in this directory. Use a different name.")
    body = custom_definition(sim, guid, props)
    sim.rbac.definitions[guid] = body
    return (200 if existing else 201), body


def custom_definition(sim, guid: str, props: dict) -> dict:
    now = sim.now_iso()
    perms = [{"actions": list(p.get("actions") or []),
              "notActions": list(p.get("notActions") or []),
              "dataActions": list(p.get("dataActions") or []),
              "notDataActions": list(p.get("notDataActions") or [])}
             for p in props.get("permissions") or []]
    return {"id": sim.rbac.definition_id(guid), "type": ROLE_DEFINITION_TYPE, "name": guid,
            "properties": {"roleName": props["roleName"], "type": "CustomRole",
                           "description": props.get("description") or "",
                           "assignableScopes": ["/" + s.strip("/") for s in
                                                props["assignableScopes"]],
                           "permissions": perms, "createdOn": now, "updatedOn": now,
                           "createdBy": None, "updatedBy": None}}


def get_definition(sim, req):
    body = sim.rbac.definition(req.param("roleDefinitionId"))
    if body is None:
        raise ArmError(404, "RoleDefinitionDoesNotExist", "The specified role definition with "
                       f"ID '{req.param('roleDefinitionId')}' does not exist.")
    return _with_id(sim, body)


def delete_definition(sim, req):
    guid = req.param("roleDefinitionId").lower()
    body = sim.rbac.definitions.get(guid)
    if body is None:
        return 204, None
    if body["properties"]["type"] == "BuiltInRole":
        raise ArmError(403, "RoleDefinitionModificationNotAllowed",
                       "Built-in role definitions cannot be deleted.")
    if sim.rbac.uses_definition(guid):
        raise ArmError(409, "RoleDefinitionHasAssignments",
                       "There are existing role assignments referencing role (code: "
                       "RoleDefinitionHasAssignments).")
    return 200, sim.rbac.definitions.pop(guid)


def list_definitions(sim, req):
    """``$filter=roleName eq '{name}'`` or ``type eq 'BuiltInRole'|'CustomRole'``."""
    scope, flt = _scope(req), _filter(req)
    m = re.fullmatch(r"(roleName|type)\s+eq\s+'([^']+)'", flt, re.I)
    if flt and not m:
        raise ArmError(400, "UnsupportedQuery", f"The filter '{flt}' is not supported.")
    out = []
    for body in sim.rbac.definitions.values():
        if not _visible(body, scope):
            continue
        if m:
            field = "roleName" if m.group(1).lower() == "rolename" else "type"
            if body["properties"][field].lower() != m.group(2).lower():
                continue
        out.append(_with_id(sim, body))
    return {"value": out}


# -- the caller's permissions ----------------------------------------------------------------
def list_permissions(sim, req):
    """Permissions_ListForResourceGroup / ListForResource: the caller's effective permission
    blocks at the scope (one per role that applies there)."""
    principal = (req.claims or {}).get("oid")
    return {"value": [dict(b) for b in sim.rbac.permission_blocks(principal, _scope(req))]}


def _register():
    for scope in SCOPES:
        ra = scope + ASSIGNMENTS.rstrip("/")
        rd = scope + DEFINITIONS.rstrip("/")
        route("PUT", ra + "/{roleAssignmentName}")(put_assignment)
        route("GET", ra + "/{roleAssignmentName}")(get_assignment)
        route("DELETE", ra + "/{roleAssignmentName}")(delete_assignment)
        route("GET", ra)(list_assignments)
        route("PUT", rd + "/{roleDefinitionId}")(put_definition)
        route("GET", rd + "/{roleDefinitionId}")(get_definition)
        route("DELETE", rd + "/{roleDefinitionId}")(delete_definition)
        route("GET", rd)(list_definitions)
        if scope != SUB:
            route("GET", scope + "/providers/Microsoft.Authorization/permissions")(
                list_permissions)


_register()
