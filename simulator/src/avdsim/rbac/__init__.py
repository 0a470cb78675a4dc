"""Azure RBAC: role definitions, role assignments, the Permissions API (``api``) and the
authorization of every ARM request (``enforce``, a stage of ``server.ARM_STAGES``).

Scenario section ``rbac`` (optional)::

    rbac:
      role_definitions:           # custom roles, in the form `az role definition create` takes
        - {Name: ..., Actions: [...], NotActions: [], DataActions: [], NotDataActions: [],
           AssignableScopes: [/subscriptions/...]}
      role_assignments:           # replace the default (the service principal is Owner of
                                  # the subscription; an entra_users entry with ``role``
                                  # holds it at its ``scope``, the subscription by default)
        - {role: <role name or GUID>, scope: /subscriptions/.../resourceGroups/rg,
           principal_id: <object id; default: the scenario's service principal>,
           user: <UPN of one of the scenario's entra_users, instead of principal_id>}
"""

from __future__ import annotations

import uuid

from . import api  # noqa: F401  (registers the routes)
from .model import Rbac

_ROLE_KEYS = {"Name", "Description", "IsCustom", "Id", "Actions", "NotActions", "DataActions",
              "NotDataActions", "AssignableScopes"}


def _load_definition(sim, entry: dict) -> None:
    unknown = set(entry) - _ROLE_KEYS
    if unknown or not entry.get("Name") or not entry.get("AssignableScopes"):
        raise ValueError("scenario rbac.role_definitions: each entry needs Name and "
                         "AssignableScopes (keys: " + ", ".join(sorted(_ROLE_KEYS)) + ")"
                         + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else ""))
    guid = str(entry.get("Id") or uuid.uuid5(uuid.NAMESPACE_URL, "role:" + entry["Name"]))
    sim.rbac.definitions[guid] = api.custom_definition(sim, guid, {
        "roleName": entry["Name"], "description": entry.get("Description"),
        "assignableScopes": entry["AssignableScopes"],
        "permissions": [{"actions": entry.get("Actions"), "notActions": entry.get("NotActions"),
                         "dataActions": entry.get("DataActions"),
                         "notDataActions": entry.get("NotDataActions")}]})


def _load(sim, section: dict) -> None:
    unknown = set(section) - {"role_definitions", "role_assignments"}
    if unknown:
        raise ValueError("scenario rbac: unknown keys " + ", ".join(sorted(unknown))
                         + "; known: role_assignments, role_definitions")
    for entry in section.get("role_definitions") or []:
        _load_definition(sim, entry)
    if section.get("role_assignments") is None:
        return
    sim.rbac.assignments.clear()
    for entry in section["role_assignments"]:
        _load_assignment(sim, entry)


def _load_assignment(sim, entry: dict) -> None:
    role = sim.rbac.definition(str(entry.get("role", ""))) or \
        sim.rbac.definition_named(entry.get("role", ""))
    if role is None or not entry.get("scope"):
        raise ValueError(f"scenario rbac.role_assignments: {entry!r} needs 'scope' and a "
                         "'role' that names a built-in or scenario role (name or GUID)")
    principal, kind = _principal(sim, entry)
    name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{entry['scope']}|{role['name']}|{principal}"))
    sim.rbac.assign(entry["scope"], name, role["name"], principal, kind)


def _principal(sim, entry: dict) -> tuple[str, str]:
    """(object id, principalType) of an assignment: ``user`` names a scenario Entra user by its
    UPN, ``principal_id`` any object id, else the scenario's service principal."""
    if entry.get("user"):
        user = sim.identity.users.get(str(entry["user"]).lower())
        if user is None:
            raise ValueError(f"scenario rbac.role_assignments: user {entry['user']!r} is not "
                             "one of the scenario's entra_users")
        return user["oid"], "User"
    return entry.get("principal_id") or sim.identity.object_id, "ServicePrincipal"


def _assign_users(sim, users: list) -> None:
    """Part of the default: a scenario Entra user with a ``role`` (and an optional ``scope``,
    the subscription by default) holds that role."""
    for user in users:
        if not user.get("role"):
            continue
        _load_assignment(sim, {"role": user["role"], "user": user.get("user_principal_name"),
                               "scope": user.get("scope") or f"/subscriptions/{sim.subscription_id}"})


def register(sim) -> None:
    sim.rbac = Rbac(sim)
    sim.rbac.assign_default()
    sim.scenario_section("entra_users", _assign_users, 6)  # after identity loaded them (5)
    sim.scenario_section("rbac", _load, 7)  # replaces all of the default; may name the users
    sim.state_sections["rbac"] = lambda s: {"role_assignments": list(s.rbac.assignments.values())}
