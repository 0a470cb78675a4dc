"""Virtual networks (with inline subnets) and subnets as child resources: PUT (long-running),
GET, list, DELETE (long-running).

Rules Azure enforces and the simulator models (virtualNetwork.json 2024-05-01; error bodies
as Azure sends them, e.g. MicrosoftDocs/azure-docs#123869 for the Netcfg codes, the
InUseSubnetCannotBeDeleted bodies in hashicorp/terraform#16093 and
microsoft/nav-arm-templates#161):
- every subnet prefix lies inside the VNet's address space (400 NetcfgSubnetRangeOutsideVnet)
  and overlaps no other subnet (400 NetcfgSubnetRangesOverlap);
- a subnet a NIC uses cannot be deleted, neither by DELETE nor by a VNet PUT that leaves it
  out, nor with its VNet (400 InUseSubnetCannotBeDeleted);
- a referenced NSG must exist (400 InvalidResourceReference)."""

from __future__ import annotations

import copy
import uuid

from ..arm import RG, get_in_rg, list_routes, norm_location, paged, set_tags
from ..errors import ArmError, not_found
from ..ids import resource_id
from ..routing import route
from . import common as c

VNET = RG + "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}"
SUBNET = VNET + "/subnets/{subnetName}"


def _subnet_body(sim, vnet_id: str, name: str, props: dict, old: dict | None) -> dict:
    sid = f"{vnet_id}/subnets/{name}"
    c.check_name(name)
    prefixes = c.subnet_prefixes(props)
    if not prefixes:
        raise c.bad_request(f"Subnet {name} has no addressPrefix; one is required.",
                            "properties.addressPrefix")
    for p in prefixes:
        c.parse_prefix(p, sid)
    _check_prefix_kept(sim, sid, name, old, prefixes)
    out_props = copy.deepcopy((old or {}).get("properties") or {})
    out_props.pop("ipConfigurations", None)
    out_props.update({k: v for k, v in props.items() if k not in ("provisioningState",
                                                                    "ipConfigurations")})
    out_props.setdefault("privateEndpointNetworkPolicies", "Disabled")
    out_props.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
    out_props.setdefault("delegations", [])
    nsg = c.require_nsg(sim, props.get("networkSecurityGroup"), sid)
    if nsg:
        out_props["networkSecurityGroup"] = nsg
    else:
        out_props.pop("networkSecurityGroup", None)
    out_props["provisioningState"] = "Succeeded"
    return {"id": sid, "name": name, "type": c.SUBNET_TYPE, "etag": c.etag(),
            "properties": out_props}


def _check_prefix_kept(sim, sid: str, name: str, old: dict | None, prefixes: list) -> None:
    """A prefix of a subnet with allocations cannot be removed or changed (400
    InUsePrefixCannotBeDeleted, the body quoted in hashicorp/terraform-provider-azurerm#11211)."""
    if old is None or not c.nics_in(sim, sid):
        return
    for p in c.subnet_prefixes(old["properties"]):
        if p not in prefixes:
            raise ArmError(400, "InUsePrefixCannotBeDeleted",
                           f"IpPrefix {p} on Subnet {name} has active allocations and cannot "
                           "be deleted.")


def _check_layout(vnet_name: str, space: list[str], subnets: list[dict], vnet_id: str) -> None:
    """Subnets inside the address space, no two overlapping."""
    nets = [c.parse_prefix(p, vnet_id) for p in space]
    seen = []
    for s in subnets:
        for p in c.subnet_prefixes(s["properties"]):
            net = c.parse_prefix(p, s["id"])
            if not any(net.version == n.version and net.subnet_of(n) for n in nets):
                raise ArmError(400, "NetcfgSubnetRangeOutsideVnet",
                               f"Subnet '{s['name']}' is not valid because its IP address "
                               f"range is outside the IP address range of virtual network "
                               f"'{vnet_name}'.")
            if any(net.version == o.version and net.overlaps(o) for o in seen):
                raise ArmError(400, "NetcfgSubnetRangesOverlap",
                               f"Subnet '{s['name']}' is not valid because its IP address "
                               f"range overlaps with that of an existing subnet in virtual "
                               f"network '{vnet_name}'.")
            seen.append(net)


def in_use_subnet(sim, subnet: dict) -> ArmError | None:
    users = c.nics_in(sim, subnet["id"])
    if not users:
        return None
    return ArmError(400, "InUseSubnetCannotBeDeleted",
                    f"Subnet {subnet['name']} is in use by {users[0]} and cannot be deleted. "
                    "In order to delete the subnet, delete all the resources within the "
                    "subnet. See aka.ms/deletesubnet.")


def _check_removed(sim, old: dict | None, kept: list[dict]) -> None:
    keep = {s["name"].lower() for s in kept}
    for s in (old or {}).get("properties", {}).get("subnets", []):
        if s["name"].lower() not in keep:
            err = in_use_subnet(sim, s)
            if err:
                raise err


def build_vnet(sim, vid: str, name: str, location: str, props: dict, old: dict | None,
               tags_body: dict) -> dict:
    """The VNet body of a PUT, validated (nothing stored)."""
    space = ((props.get("addressSpace") or {}).get("addressPrefixes")) or []
    if not space:
        raise c.bad_request(f"Virtual network {name} needs addressSpace.addressPrefixes.",
                            "properties.addressSpace.addressPrefixes")
    old_subnets = {s["name"].lower(): s for s in (old or {}).get("properties", {})
                   .get("subnets", [])}
    subnets = []
    for s in props.get("subnets") or []:
        sname = (s or {}).get("name")
        if not sname:
            raise c.bad_request("Every subnet of a virtual network needs a name.",
                                "properties.subnets")
        subnets.append(_subnet_body(sim, vid, sname, c.props_of(s),
                                    old_subnets.get(sname.lower())))
    _check_layout(name, space, subnets, vid)
    _check_removed(sim, old, subnets)
    keep = {k: v for k, v in props.items() if k not in ("subnets", "addressSpace",
                                                          "provisioningState", "resourceGuid")}
    body = {"id": vid, "name": name, "type": c.VNET_TYPE, "location": location,
            "etag": c.etag(), **({"tags": old["tags"]} if old and old.get("tags") else {}),
            "properties": {"virtualNetworkPeerings": [], "enableDdosProtection": False,
                           **keep, "addressSpace": {"addressPrefixes": list(space)},
                           "subnets": subnets, "provisioningState": "Succeeded",
                           "resourceGuid": (old or {}).get("properties", {}).get(
                               "resourceGuid") or str(uuid.uuid4())}}
    set_tags(body, tags_body, replace=True)
    return body


def create_vnet(sim, rg, name, location, address_space, subnets, tags=None):
    """A VNet from the scenario (synchronous, validated like a PUT)."""
    vid = resource_id(sim.subscription_id, rg, c.NS, "virtualNetworks", name)
    props = {"addressSpace": {"addressPrefixes": list(address_space)},
             "subnets": [{"name": s["name"], "properties": {
                 "addressPrefix": s.get("address_prefix", "10.0.0.0/24")}} for s in subnets]}
    body = build_vnet(sim, vid, name, norm_location(location), props, None,
                      {"tags": dict(tags or {})})
    return sim.store.put(vid, body)


@route("PUT", VNET)
def put_vnet(sim, req):
    c.check_name(req.param("virtualNetworkName"))
    vid, old = c.existing_in_rg(sim, req, "virtualNetworks", "virtualNetworkName")
    body = req.json()
    location = c.location_of(req, body, old)
    vnet = build_vnet(sim, vid, req.param("virtualNetworkName"), location, c.props_of(body),
                      old, body)
    sim.store.put(vid, vnet)
    return c.start_put(sim, req, vnet, location, old is None, lambda: c.vnet_view(sim, vnet))


@route("GET", VNET)
def get_vnet(sim, req):
    vnet = get_in_rg(sim, req, c.rid(req, "virtualNetworks", "virtualNetworkName"), c.VNET_TYPE,
                     "virtualNetworkName")
    return c.vnet_view(sim, vnet)


list_routes("Microsoft.Network/virtualNetworks", c.VNET_TYPE, view=c.vnet_view)


@route("DELETE", VNET)
def delete_vnet(sim, req):
    vid, vnet = c.existing_in_rg(sim, req, "virtualNetworks", "virtualNetworkName")
    if vnet is None:
        return 204, None
    for s in vnet["properties"]["subnets"]:
        err = in_use_subnet(sim, s)
        if err:
            raise err

    def remove():
        if sim.store.get(vid) is not None:
            sim.store.delete(vid)
            sim.hooks.emit("resource.deleted", resource_id=vid, resource=vnet)

    return c.start_delete(sim, req, vnet, vnet["location"], remove)


# -- subnets (child resources) -------------------------------------------------------------
def _parent(sim, req) -> dict:
    vid, vnet = c.existing_in_rg(sim, req, "virtualNetworks", "virtualNetworkName")
    if vnet is None:
        raise not_found(c.VNET_TYPE, req.param("virtualNetworkName"),
                        req.param("resourceGroupName"))
    return vnet


def _find(vnet: dict, name: str) -> dict | None:
    for s in vnet["properties"]["subnets"]:
        if s["name"].lower() == name.lower():
            return s
    return None


def _current(sim, vnet_id: str, name: str) -> dict | None:
    """Subnet ``name`` of the VNet as stored now (a later VNet PUT replaces the body)."""
    vnet = sim.store.get(vnet_id)
    return _find(vnet, name) if vnet is not None else None


def _subnet_not_found(vnet, req):
    return not_found(c.SUBNET_TYPE, f"{vnet['name']}/{req.param('subnetName')}",
                     req.param("resourceGroupName"))


@route("PUT", SUBNET)
def put_subnet(sim, req):
    vnet = _parent(sim, req)
    name = req.param("subnetName")
    old = _find(vnet, name)
    subnet = _subnet_body(sim, vnet["id"], old["name"] if old else name,
                          c.props_of(req.json()), old)
    others = [s for s in vnet["properties"]["subnets"] if s is not old]
    _check_layout(vnet["name"], vnet["properties"]["addressSpace"]["addressPrefixes"],
                  others + [subnet], vnet["id"])
    if old is not None:
        vnet["properties"]["subnets"][vnet["properties"]["subnets"].index(old)] = subnet
    else:
        vnet["properties"]["subnets"].append(subnet)
    vnet["etag"] = c.etag()
    return c.start_put(sim, req, subnet, vnet["location"], old is None,
                       lambda: c.subnet_view(sim, subnet),
                       state_of=lambda: _current(sim, vnet["id"], subnet["name"]))


@route("GET", SUBNET)
def get_subnet(sim, req):
    vnet = _parent(sim, req)
    subnet = _find(vnet, req.param("subnetName"))
    if subnet is None:
        raise _subnet_not_found(vnet, req)
    return c.subnet_view(sim, subnet)


@route("GET", VNET + "/subnets")
def list_subnets(sim, req):
    vnet = _parent(sim, req)
    return paged(sim, req, [c.subnet_view(sim, s) for s in vnet["properties"]["subnets"]])


@route("DELETE", SUBNET)
def delete_subnet(sim, req):
    vnet = _parent(sim, req)
    subnet = _find(vnet, req.param("subnetName"))
    if subnet is None:
        return 204, None
    err = in_use_subnet(sim, subnet)
    if err:
        raise err

    def remove():
        cur = sim.store.get(vnet["id"])
        found = _current(sim, vnet["id"], subnet["name"])
        if found is not None:
            cur["properties"]["subnets"].remove(found)
            cur["etag"] = c.etag()

    return c.start_delete(sim, req, subnet, vnet["location"], remove)


def find_subnet(sim, subnet_id: str) -> dict | None:
    """The stored subnet ``subnet_id`` (any resource group), or None."""
    if not subnet_id or "/subnets/" not in subnet_id.lower():
        return None
    idx = subnet_id.lower().rindex("/subnets/")
    vnet = sim.store.get(subnet_id[:idx])
    if not vnet or vnet.get("type") != c.VNET_TYPE:
        return None
    for s in vnet["properties"]["subnets"]:
        if s["id"].lower() == subnet_id.rstrip("/").lower():
            return s
    return None


def vnet_of(sim, subnet_id: str) -> dict | None:
    idx = subnet_id.lower().rindex("/subnets/")
    return sim.store.get(subnet_id[:idx])
