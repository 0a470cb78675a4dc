"""Shared pieces of Microsoft.Network: ids, names, address prefixes, the long-running PUT and
DELETE, and the read views that add the back references Azure computes (a subnet's
``ipConfigurations``, an NSG's ``networkInterfaces`` and ``subnets``).

Sources: azure-rest-api-specs specification/network/resource-manager/Microsoft.Network/stable/
2024-05-01 (virtualNetwork.json, networkSecurityGroup.json, networkInterface.json and their
examples); the error bodies Azure sends are quoted where they are modelled."""

from __future__ import annotations

import copy
import ipaddress
import re
import uuid

from ..arm import find_in_rg, norm_location, require_rg
from ..errors import ArmError
from ..ids import resource_id
from ..server import Response

NS = "Microsoft.Network"
VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
NIC_TYPE = "Microsoft.Network/networkInterfaces"

# Network resource names: 1-80 characters, word characters, '.', '-', '_'; begin with a word
# character, end with a word character or '_' (https://learn.microsoft.com/azure/
# azure-resource-manager/management/resource-name-rules#microsoftnetwork).
_NAME = re.compile(r"^\w(?:[\w.-]{0,78}\w)?$")


def etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def rid(req, collection: str, name_param: str) -> str:
    return resource_id(req.subscription_id, req.param("resourceGroupName"), NS, collection,
                       req.param(name_param))


def check_name(name: str) -> None:
    if not _NAME.match(name or ""):
        raise ArmError(400, "InvalidResourceName",
                       f"Resource name {name} is invalid. The name can be up to 80 characters "
                       "long. It must begin with a word character, and it must end with a word "
                       "character or with '_'. The name may contain word characters or '.', "
                       "'-', '_'.")


def bad_request(message: str, target: str | None = None) -> ArmError:
    """Network's answer to a body it cannot read (``InvalidRequestFormat``)."""
    return ArmError(400, "InvalidRequestFormat", message, target=target)


def invalid_reference(ref: str, by: str) -> ArmError:
    # The body Azure sends for a reference to a missing resource (compute/nics.py uses the
    # same wording for VM-owned NICs).
    return ArmError(400, "InvalidResourceReference",
                    f"Resource {ref} referenced by resource {by} was not found. Please make "
                    "sure that the referenced resource exists, and that both resources are in "
                    "the same region.")


def location_of(req, body: dict, existing: dict | None) -> str:
    """The location of a tracked network resource's PUT: required, and fixed once created
    (ARM's 409 InvalidResourceLocation)."""
    if not body.get("location"):
        raise ArmError(400, "LocationRequired",
                       "The location property is required for this definition.")
    loc = norm_location(body["location"])
    if existing and existing["location"] != loc:
        raise ArmError(409, "InvalidResourceLocation",
                       f"The resource '{existing['name']}' already exists in location "
                       f"'{existing['location']}' in resource group "
                       f"'{req.param('resourceGroupName')}'. A resource with the same name "
                       f"cannot be created in location '{loc}'. Please select a new resource "
                       "name.")
    return loc


def props_of(body: dict) -> dict:
    props = body.get("properties")
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise bad_request("The properties of the request must be a JSON object.", "properties")
    return props


# -- address prefixes ----------------------------------------------------------------------
def parse_prefix(prefix, owner: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR prefix, refused as Azure does: not CIDR at all (``InvalidAddressPrefixFormat``)
    or with host bits set (``InvalidCIDRNotation``)."""
    try:
        return ipaddress.ip_network(str(prefix), strict=True)
    except ValueError:
        pass
    try:
        net = ipaddress.ip_network(str(prefix), strict=False)
    except ValueError:
        raise ArmError(400, "InvalidAddressPrefixFormat",
                       f"Address prefix {prefix} of resource {owner} is not formatted "
                       "correctly. It should follow CIDR notation, for example 10.0.0.0/24."
                       ) from None
    raise ArmError(400, "InvalidCIDRNotation",
                   f"The address prefix {prefix} in resource {owner} has an invalid CIDR "
                   f"notation. For the given prefix length, the address prefix should be "
                   f"{net}.")


def subnet_prefixes(subnet_props: dict) -> list[str]:
    if subnet_props.get("addressPrefixes"):
        return list(subnet_props["addressPrefixes"])
    return [subnet_props["addressPrefix"]] if subnet_props.get("addressPrefix") else []


# -- references between network resources -------------------------------------------------
def nics_in(sim, subnet_id: str) -> list[str]:
    """Ids of the NIC IP configurations in subnet ``subnet_id``."""
    out = []
    for nic in sim.store.list(NIC_TYPE):
        for ipc in nic["properties"].get("ipConfigurations") or []:
            sid = ((ipc.get("properties") or {}).get("subnet") or {}).get("id", "")
            if sid.lower() == subnet_id.lower():
                out.append(ipc["id"])
    return out


def nsg_users(sim, nsg_id: str) -> tuple[list[str], list[str]]:
    """(NIC ids, subnet ids) associated with NSG ``nsg_id``."""
    key = nsg_id.lower()
    nics = [n["id"] for n in sim.store.list(NIC_TYPE)
            if (n["properties"].get("networkSecurityGroup") or {}).get("id", "").lower() == key]
    subnets = [s["id"] for v in sim.store.list(VNET_TYPE) for s in v["properties"]["subnets"]
               if (s["properties"].get("networkSecurityGroup") or {}).get("id", "").lower()
               == key]
    return nics, subnets


def require_nsg(sim, nsg_ref, by: str) -> dict | None:
    """``{"id": ...}`` of an existing NSG (or None when no NSG is referenced)."""
    if not nsg_ref:
        return None
    nsg_id = nsg_ref.get("id") if isinstance(nsg_ref, dict) else None
    nsg = sim.store.get(nsg_id or "")
    if nsg is None or nsg.get("type") != NSG_TYPE:
        raise invalid_reference(nsg_id, by)
    return {"id": nsg["id"]}


def subnet_view(sim, subnet: dict) -> dict:
    out = copy.deepcopy(subnet)
    ipcs = nics_in(sim, subnet["id"])
    if ipcs:
        out["properties"]["ipConfigurations"] = [{"id": i} for i in ipcs]
    return out


def vnet_view(sim, vnet: dict) -> dict:
    out = copy.deepcopy(vnet)
    out["properties"]["subnets"] = [subnet_view(sim, s) for s in vnet["properties"]["subnets"]]
    return out


def nsg_view(sim, nsg: dict) -> dict:
    out = copy.deepcopy(nsg)
    nics, subnets = nsg_users(sim, nsg["id"])
    if nics:
        out["properties"]["networkInterfaces"] = [{"id": i} for i in nics]
    if subnets:
        out["properties"]["subnets"] = [{"id": i} for i in subnets]
    return out


def set_state(node: dict, value: str) -> None:
    """``provisioningState`` of a resource and of its inline children."""
    node.setdefault("properties", {})["provisioningState"] = value
    for key in ("subnets", "securityRules", "defaultSecurityRules", "ipConfigurations"):
        for child in node["properties"].get(key) or []:
            child.setdefault("properties", {})["provisioningState"] = value


# -- long-running PUT and DELETE -----------------------------------------------------------
def start_put(sim, req, res: dict, location: str, created: bool, view, state_of=None):
    """Network PUTs are long-running: 201 (created) or 200 with ``provisioningState:
    Updating`` and ``Azure-AsyncOperation``; Succeeded once the operation completes
    (virtualNetwork.json ``x-ms-long-running-operation-options: final-state-via:
    azure-async-operation``). ``state_of()`` returns the node whose state moves (default:
    the stored resource ``res``)."""
    state_of = state_of or (lambda: sim.store.get(res["id"]))
    set_state(res, "Updating")

    def complete():
        node = state_of()
        if node is not None:
            set_state(node, "Succeeded")

    def fail(_error):
        node = state_of()
        if node is not None:
            set_state(node, "Failed")

    op = sim.ops.start(req, sim.duration("network_put"), complete, fail, location=location,
                       namespace=NS, resource_id=res["id"])
    return Response(201 if created else 200, view(), sim.ops.headers(op, location=False))


def start_delete(sim, req, res: dict, location: str, remove):
    """Network DELETEs answer 202 with ``Azure-AsyncOperation`` and ``Location``
    (``final-state-via: location``); the resource reads ``Deleting`` until ``remove()`` runs
    at completion."""
    set_state(res, "Deleting")
    op = sim.ops.start(req, sim.duration("network_delete"), remove, location=location,
                       namespace=NS, resource_id=res["id"])
    return Response(202, None, sim.ops.headers(op))


def existing_in_rg(sim, req, collection: str, name_param: str):
    """(id, stored resource or None) of the request's resource; 404 for a missing group."""
    res_id = rid(req, collection, name_param)
    return res_id, find_in_rg(sim, req, res_id)


def require_group(sim, req) -> dict:
    return require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
