"""Authorization of every ARM request: the action of the route at the addressed scope, then
Azure's linked access checks on the resources a write references.

- The action and scope come from ``actions.request_action`` (any route, no per-route list).
- Lists and operation-status polls at subscription level (``/subscriptions/{id}/providers/...``)
  and collection GETs answer a caller whose role is assigned only BELOW the addressed scope:
  ARM filters a list to what the caller may read (a Reader of one resource group sees that
  group's VMs in ``az vm list``), and a caller polls the operations its own writes started.
- Linked access checks (https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting,
  "LinkedAuthorizationFailed"; https://learn.microsoft.com/en-us/azure/virtual-machines/
  ... "permissions required" in the VM quickstarts): a VM create that makes its own NIC on an
  existing subnet needs ``Microsoft.Network/networkInterfaces/write``, ``/read`` and
  ``/join/action`` on the NIC and ``Microsoft.Network/virtualNetworks/subnets/join/action`` on
  the subnet; a VM that references an existing NIC needs its ``join/action``; a VM from a gallery
  image version needs ``Microsoft.Compute/galleries/images/versions/read`` on it; an image
  version captured from a source needs read on the source; deleting a VM whose NIC has
  ``deleteOption: Delete`` needs ``Microsoft.Network/networkInterfaces/delete`` on it.
"""

from __future__ import annotations

import dataclasses
import json

from ..ids import resource_id
from .actions import derive, request_action, unchecked
from .model import denied, linked_denied

NIC = "Microsoft.Network/networkInterfaces"
SUBNET_JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"


def authorize(sim, req) -> None:
    """Raise AuthorizationFailed / LinkedAuthorizationFailed unless the caller may do this."""
    sub = req.subscription_id
    if unchecked(req.path) or (sub and sub.lower() not in sim.subscriptions):
        return  # an unknown subscription is ARM's 404 SubscriptionNotFound (a later stage)
    principal = (req.claims or {}).get("oid")
    action, scope = request_action(req.method, req.path)
    if sim.rbac.allowed(principal, action, scope):
        missing = [(a, s) for a, s in linked_checks(sim, req)
                   if not sim.rbac.allowed(principal, a, s)]
        if missing:
            raise linked_denied(req.claims, action, scope, missing)
        return
    base = _list_base(req.method, scope)
    if base and sim.rbac.granted_below(principal, action, base):
        if _is_collection(scope):
            req.route = dataclasses.replace(req.route, handler=_filtered(
                req.route.handler, lambda rid: sim.rbac.allowed(principal, action, rid)))
        return
    raise denied(req.claims, action, scope)


def _is_collection(scope: str) -> bool:
    lower = scope.strip("/").lower().split("/")
    if "providers" not in lower:
        return len(lower) % 2 == 1
    return lower[::-1].index("providers") % 2 == 0  # .../{namespace}/{type}[/{name}/{type}]


def _list_base(method: str, scope: str) -> str | None:
    """The scope under which a role grants a filtered read: the subscription for a
    subscription-level provider path (a list, or an operation-status poll: the caller polls
    the operations its own writes started), the collection itself for a collection GET."""
    if method not in ("GET", "HEAD"):
        return None
    segments = scope.strip("/").split("/")
    if len(segments) > 2 and segments[2].lower() == "providers":
        return "/" + "/".join(segments[:2])
    return scope if _is_collection(scope) else None


def _filtered(handler, readable):
    """The handler, its ``value`` list cut to the items the caller may read."""
    def run(sim, req):
        result = handler(sim, req)
        if isinstance(result, tuple):
            return (result[0], _cut(result[1], readable)) + tuple(result[2:])
        if hasattr(result, "status") and hasattr(result, "body"):
            result.body = _cut(result.body, readable)
            return result
        return _cut(result, readable)
    return run


def _cut(body, readable):
    if isinstance(body, dict) and isinstance(body.get("value"), list):
        return {**body, "value": [v for v in body["value"]
                                  if isinstance(v, dict) and readable(str(v.get("id", "")))]}
    return body


def _body(req) -> dict:
    try:
        body = json.loads(req.raw_body) if req.raw_body else {}
    except (ValueError, UnicodeDecodeError):
        return {}  # the handler answers InvalidRequestContent
    return body if isinstance(body, dict) else {}


def _read_action(rid: str) -> str:
    return derive("GET", [s for s in rid.strip("/").split("/") if s])[0]


def linked_checks(sim, req) -> list:
    """(action, scope) pairs Azure checks on the resources this request references."""
    action, scope = request_action(req.method, req.path)
    low = action.lower()
    if low == "microsoft.compute/virtualmachines/write":
        return _vm_write_links(req, scope)
    if low == "microsoft.compute/virtualmachines/delete":
        return _vm_delete_links(sim, scope)
    if low == "microsoft.compute/galleries/images/versions/write":
        source = ((_body(req).get("properties") or {}).get("storageProfile") or {}).get(
            "source") or {}
        rid = source.get("virtualMachineId") or source.get("id")
        return [(_read_action(rid), rid)] if isinstance(rid, str) and "/providers/" in rid \
            else []
    return []


def _vm_write_links(req, vm_scope: str) -> list:
    props = _body(req).get("properties") or {}
    net = props.get("networkProfile") or {}
    parts = vm_scope.strip("/").split("/")
    sub, rg = parts[1], parts[3]
    links = []
    for config in net.get("networkInterfaceConfigurations") or []:
        nic = resource_id(sub, rg, "Microsoft.Network", "networkInterfaces", str(config.get(
            "name")))
        links += [(f"{NIC}/write", nic), (f"{NIC}/read", nic), (f"{NIC}/join/action", nic)]
        for ipc in (config.get("properties") or {}).get("ipConfigurations") or []:
            subnet = ((ipc.get("properties") or {}).get("subnet") or {}).get("id")
            if isinstance(subnet, str):
                links.append((SUBNET_JOIN, subnet))
    for ref in net.get("networkInterfaces") or []:
        if isinstance(ref.get("id"), str):
            links.append((f"{NIC}/join/action", ref["id"]))
    image = ((props.get("storageProfile") or {}).get("imageReference") or {}).get("id")
    if isinstance(image, str) and "/galleries/" in image.lower():
        links.append((_read_action(image), image))
    return links


def _vm_delete_links(sim, vm_scope: str) -> list:
    vm = sim.store.get(vm_scope) or {}
    refs = ((vm.get("properties") or {}).get("networkProfile") or {}).get(
        "networkInterfaces") or []
    return [(f"{NIC}/delete", r["id"]) for r in refs
            if (r.get("properties") or {}).get("deleteOption") == "Delete"]
