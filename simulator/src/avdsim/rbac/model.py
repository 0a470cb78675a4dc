"""Role definitions and role assignments of the simulated tenant, and the effective permissions
of a principal at a scope (the union over its assignments at the scope and above it)."""

from __future__ import annotations

import uuid

from ..errors import ArmError
from .roles import allows, builtin_definitions, scope_covers

DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions/"
ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments/"
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"


def guid_of(ref: str) -> str:
    return str(ref).rstrip("/").rsplit("/", 1)[-1].lower()


def is_guid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return len(str(value)) == 36


class Rbac:
    def __init__(self, sim):
        self.sim = sim
        self.definitions = builtin_definitions()  # guid -> role definition body
        self.assignments: dict = {}  # assignment id (lower case) -> body

    # -- definitions -----------------------------------------------------------------------
    def definition(self, ref: str) -> dict | None:
        return self.definitions.get(guid_of(ref))

    def definition_named(self, role_name: str) -> dict | None:
        for body in self.definitions.values():
            if body["properties"]["roleName"].lower() == str(role_name).lower():
                return body
        return None

    def definition_id(self, guid: str) -> str:
        return f"/subscriptions/{self.sim.subscription_id}{DEFINITIONS}{guid}"

    # -- assignments -----------------------------------------------------------------------
    def assign(self, scope: str, name: str, role_guid: str, principal_id: str,
               principal_type: str = "ServicePrincipal") -> dict:
        scope = "/" + scope.strip("/")
        now = self.sim.now_iso()
        body = {"id": f"{scope}{ASSIGNMENTS}{name}", "type": ASSIGNMENT_TYPE, "name": name,
                "properties": {"roleDefinitionId": self.definition_id(role_guid),
                               "principalId": principal_id, "principalType": principal_type,
                               "scope": scope, "condition": None, "conditionVersion": None,
                               "createdOn": now, "updatedOn": now,
                               "createdBy": None, "updatedBy": None,
                               "delegatedManagedIdentityResourceId": None,
                               "description": None}}
        self.assignments[body["id"].lower()] = body
        return body

    def assign_default(self) -> None:
        """The simulator's service principal is Owner of the subscription (what the demo and
        every test without an ``rbac`` scenario section assume)."""
        sub = f"/subscriptions/{self.sim.subscription_id}"
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, sub + "/owner"))
        self.assign(sub, name, self.definition_named("Owner")["name"],
                    self.sim.identity.object_id)

    def assignments_of(self, principal_id: str | None) -> list:
        return [a for a in self.assignments.values()
                if principal_id is None or a["properties"]["principalId"].lower() ==
                str(principal_id).lower()]

    def uses_definition(self, guid: str) -> bool:
        return any(guid_of(a["properties"]["roleDefinitionId"]) == guid.lower()
                   for a in self.assignments.values())

    # -- effective permissions -------------------------------------------------------------
    def permission_blocks(self, principal_id: str, scope: str) -> list:
        """One permission block per role of the principal's assignments that apply at scope."""
        blocks = []
        for a in self.assignments_of(principal_id):
            if scope_covers(a["properties"]["scope"], scope):
                role = self.definition(a["properties"]["roleDefinitionId"])
                if role is not None:
                    blocks.extend(role["properties"]["permissions"])
        return blocks

    def allowed(self, principal_id: str, action: str, scope: str) -> bool:
        return allows(self.permission_blocks(principal_id, scope), action)

    def granted_below(self, principal_id: str, action: str, base: str) -> bool:
        """Some assignment strictly below ``base`` grants ``action`` (its list may be read,
        filtered to what the caller can see)."""
        base = base.rstrip("/").lower()
        for a in self.assignments_of(principal_id):
            scope = a["properties"]["scope"]
            if scope.lower().startswith(base + "/") and self.allowed(principal_id, action, scope):
                return True
        return False


def denied(claims: dict, action: str, scope: str) -> ArmError:
    """Azure's answer when the caller lacks the action (the message as ARM words it; see
    https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting)."""
    return ArmError(403, "AuthorizationFailed",
                    f"The client '{claims.get('appid')}' with object id '{claims.get('oid')}' "
                    f"does not have authorization to perform action '{action}' over scope "
                    f"'{scope}' or the scope is invalid. If access was recently granted, please "
                    "refresh your credentials.")


def linked_denied(claims: dict, action: str, scope: str, missing: list) -> ArmError:
    """Azure's answer when the caller may do the request but not on a resource it references
    (``LinkedAuthorizationFailed``; same troubleshooting page)."""
    actions = ",".join(a for a, _s in missing)
    scopes = ",".join(s for _a, s in missing)
    return ArmError(403, "LinkedAuthorizationFailed",
                    f"The client '{claims.get('appid')}' with object id '{claims.get('oid')}' has "
                    f"permission to perform action '{action}' on scope '{scope}'; however, it "
                    f"does not have permission to perform action(s) '{actions}' on the linked "
                    f"scope(s) '{scopes}' (respectively) or the linked scope(s) are invalid.")
