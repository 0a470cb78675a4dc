"""The RBAC action Azure checks for one ARM request, derived from its route.

The rule (https://learn.microsoft.com/en-us/azure/role-based-access-control/resource-provider-operations):
``{namespace}/{type}[/{child type}...]/{verb}`` with GET/HEAD -> ``read``, PUT/PATCH -> ``write``,
DELETE -> ``delete`` and POST ``.../{name}/{verb}`` -> ``{verb}/action``. Paths without a provider
are Microsoft.Resources (``Microsoft.Resources/subscriptions/resourceGroups/read``). The
operation-status resources of a provider (``/subscriptions/{id}/providers/{namespace}/locations/
{location}/{operationKind}/{id}``) need ``{namespace}/locations/{operationKind}/read``, e.g.
``Microsoft.Compute/locations/operations/read`` or ``.../diskOperations/read`` (both listed on the
Compute operations page). Extension resources (``{resource id}/providers/{namespace}/...``) use the
last provider segment. The derivation works for any route; nothing is listed per route.
"""

from __future__ import annotations

VERB = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}

# Operation-status resources of Compute: which one a poll hits depends on the operation (VMs,
# disks and snapshots, galleries), and the metrics count them under one template.
COMPUTE_OPERATION_STATUS = {
    "microsoft.compute/locations/operations/read",
    "microsoft.compute/locations/diskoperations/read",
    "microsoft.compute/locations/capsoperations/read",
}

# Routes Azure lets any authenticated caller use: the caller's own permissions
# (Permissions_ListForResourceGroup / ListForResource; the REST reference lists no permission
# for them, and the portal calls them for every user).
UNCHECKED_SUFFIX = "/providers/microsoft.authorization/permissions"


def _segments(path: str) -> list:
    return [s for s in path.split("?")[0].strip("/").split("/") if s]


def derive(method: str, segments: list) -> tuple[str, int]:
    """(action, length of the scope in segments) for a concrete request path's segments."""
    method = method.upper()
    lower = [s.lower() for s in segments]
    if "providers" not in lower:
        types = [s for i, s in enumerate(segments) if i % 2 == 0]
        if method == "POST" and len(segments) % 2 == 1:
            verb = types.pop()
            return "Microsoft.Resources/" + "/".join(types) + f"/{verb}/action", len(segments) - 1
        return "Microsoft.Resources/" + "/".join(types) + "/" + VERB[method], len(segments)
    at = len(lower) - 1 - lower[::-1].index("providers")
    if at + 2 >= len(segments):  # the provider list or one provider (avdsim.arm_basics)
        return "Microsoft.Resources/subscriptions/providers/" + VERB[method], len(segments)
    namespace, rest = segments[at + 1], segments[at + 2:]
    types = [s for i, s in enumerate(rest) if i % 2 == 0]
    if method == "POST" and len(rest) % 2 == 1:
        verb = types.pop()  # a provider's own action (``Microsoft.Compute/register/action``)
        return "/".join([namespace, *types, verb, "action"]), len(segments) - 1
    if method == "POST":
        raise ValueError(f"POST to a resource (not an action): {'/'.join(segments)}")
    return f"{namespace}/" + "/".join(types) + "/" + VERB[method], len(segments)


def request_action(method: str, path: str) -> tuple[str, str]:
    """(action, scope) Azure authorizes for a request: the scope is the resource (or
    collection) the request addresses, without a trailing action verb."""
    segments = _segments(path)
    action, scope_len = derive(method, segments)
    return action, "/" + "/".join(segments[:scope_len])


# Tenant-level lists answer every signed-in caller with what it may see (``GET /subscriptions``,
# ``GET /tenants``: Subscriptions_List / Tenants_List name no permission).
UNCHECKED_PATHS = ("/subscriptions", "/tenants")


def unchecked(path: str) -> bool:
    path = path.split("?")[0].rstrip("/").lower()
    return path.endswith(UNCHECKED_SUFFIX) or path in UNCHECKED_PATHS


def rbac_actions(operation: str) -> set:
    """RBAC actions (lower case) Azure checks for one ``"<METHOD> <ARM path template>"``
    operation, as ``/_sim/metrics`` counts them: a template whose resource TYPE is a parameter
    (the operation-status route) stands for every action it can need."""
    method, template = operation.split(" ", 1)
    if unchecked(template):
        return set()
    segments = _segments(template)
    lower = [s.lower() for s in segments]
    at = len(lower) - 1 - lower[::-1].index("providers") if "providers" in lower else None
    if at is not None and segments[at + 1] == "{namespace}":
        return set(COMPUTE_OPERATION_STATUS)
    start = at + 2 if at is not None else 0
    for i, seg in enumerate(segments[start:]):
        if i % 2 == 0 and seg.startswith("{"):
            raise ValueError(f"unexpected parameter {seg!r} at a type position in {operation}")
        if i % 2 == 1 and not seg.startswith("{") and not (
                method == "POST" and start + i == len(segments) - 1):
            raise ValueError(f"unexpected literal {seg!r} in {operation}")
    return {derive(method, segments)[0].lower()}
