"""Microsoft.Network, the little the project needs: virtual networks with subnets (from the
scenario; GET/list) and network interfaces (created by VMs from
``networkProfile.networkInterfaceConfigurations``; GET/list/DELETE)."""

from __future__ import annotations

import uuid

from .arm import RG, find_in_rg, get_in_rg, list_routes, norm_location, require_rg
from .errors import ArmError, not_found
from .ids import resource_id
from .routing import route

VNET = RG + "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}"
NIC = RG + "/providers/Microsoft.Network/networkInterfaces/{networkInterfaceName}"
NIC_TYPE = "Microsoft.Network/networkInterfaces"


def _etag():
    return f'W/"{uuid.uuid4()}"'


def create_vnet(sim, rg, name, location, address_space, subnets, tags=None):
    vid = resource_id(sim.subscription_id, rg, "Microsoft.Network", "virtualNetworks", name)
    body = {"id": vid, "name": name, "type": "Microsoft.Network/virtualNetworks",
            "location": norm_location(location), "etag": _etag(),
            "properties": {"provisioningState": "Succeeded",
                           "resourceGuid": str(uuid.uuid4()),
                           "addressSpace": {"addressPrefixes": list(address_space)},
                           "subnets": []}}
    if tags:
        body["tags"] = dict(tags)
    for s in subnets:
        body["properties"]["subnets"].append({
            "id": f"{vid}/subnets/{s['name']}", "name": s["name"], "etag": body["etag"],
            "type": "Microsoft.Network/virtualNetworks/subnets",
            "properties": {"provisioningState": "Succeeded",
                           "addressPrefix": s.get("address_prefix", "10.0.0.0/24"),
                           "privateEndpointNetworkPolicies": "Disabled",
                           "privateLinkServiceNetworkPolicies": "Enabled"}})
    return sim.store.put(vid, body)


def find_subnet(sim, subnet_id: str) -> dict | None:
    if not subnet_id or "/subnets/" not in subnet_id.lower():
        return None
    idx = subnet_id.lower().rindex("/subnets/")
    vnet = sim.store.get(subnet_id[:idx])
    if not vnet:
        return None
    for s in vnet["properties"]["subnets"]:
        if s["id"].lower() == subnet_id.rstrip("/").lower():
            return s
    return None


def create_nic(sim, nic_id: str, location: str, subnet_id: str, vm_id: str | None,
               tags=None, ip_config_name: str = "ipconfig1", accelerated=False):
    subnet = find_subnet(sim, subnet_id)
    if subnet is None:
        raise ArmError(400, "InvalidResourceReference",
                       f"Resource {subnet_id} referenced by resource {nic_id} was not found. "
                       "Please make sure that the referenced resource exists, and that both "
                       "resources are in the same region.")
    name = nic_id.rsplit("/", 1)[-1]
    used = sum(1 for n in sim.store.list(NIC_TYPE)
               if n["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"].lower()
               == subnet["id"].lower())
    prefix = subnet["properties"]["addressPrefix"].split("/")[0].rsplit(".", 1)[0]
    body = {"id": nic_id, "name": name, "type": NIC_TYPE, "location": norm_location(location),
            "etag": _etag(),
            "properties": {
                "provisioningState": "Succeeded", "resourceGuid": str(uuid.uuid4()),
                "ipConfigurations": [{
                    "id": f"{nic_id}/ipConfigurations/{ip_config_name}", "name": ip_config_name,
                    "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                    "properties": {"provisioningState": "Succeeded",
                                   "privateIPAddress": f"{prefix}.{4 + used}",
                                   "privateIPAllocationMethod": "Dynamic",
                                   "subnet": {"id": subnet["id"]}, "primary": True,
                                   "privateIPAddressVersion": "IPv4"}}],
                "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
                "enableAcceleratedNetworking": bool(accelerated),
                "enableIPForwarding": False, "primary": True,
                "nicType": "Standard"}}
    if vm_id:
        body["properties"]["virtualMachine"] = {"id": vm_id}
    if tags:
        body["tags"] = dict(tags)
    return sim.store.put(nic_id, body)


def _id(req, collection: str, name_param: str) -> str:
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Network",
                       collection, req.param(name_param))


@route("GET", VNET)
def get_vnet(sim, req):
    return get_in_rg(sim, req, _id(req, "virtualNetworks", "virtualNetworkName"),
                     "Microsoft.Network/virtualNetworks", "virtualNetworkName")


@route("GET", VNET + "/subnets/{subnetName}")
def get_subnet(sim, req):
    vnet = get_vnet(sim, req)
    for s in vnet["properties"]["subnets"]:
        if s["name"].lower() == req.param("subnetName").lower():
            return s
    raise not_found("Microsoft.Network/virtualNetworks/subnets",
                    f"{vnet['name']}/{req.param('subnetName')}", req.param("resourceGroupName"))


list_routes("Microsoft.Network/virtualNetworks", "Microsoft.Network/virtualNetworks",
            subscription=False)


@route("GET", NIC)
def get_nic(sim, req):
    return get_in_rg(sim, req, _id(req, "networkInterfaces", "networkInterfaceName"), NIC_TYPE,
                     "networkInterfaceName")


list_routes("Microsoft.Network/networkInterfaces", NIC_TYPE, subscription=False)


@route("DELETE", NIC)
def delete_nic(sim, req):
    nid = _id(req, "networkInterfaces", "networkInterfaceName")
    body = find_in_rg(sim, req, nid)
    if body is None:
        return 204, None
    vm = body["properties"].get("virtualMachine")
    if vm and sim.store.exists(vm["id"]):
        raise ArmError(400, "NicInUse",
                       f"Network Interface {nid} is used by existing resource {vm['id']}. In order "
                       "to delete the network interface, it must be dissociated from the resource.")
    sim.store.delete(nid)
    return 200, None


def register(sim):
    def load_vnets(sim, vnets):
        for v in vnets:
            require_rg(sim, sim.subscription_id, v["resource_group"])
            create_vnet(sim, v["resource_group"], v["name"], v.get("location") or
                        sim.store.get(f"/subscriptions/{sim.subscription_id}/resourceGroups/"
                                      f"{v['resource_group']}")["location"],
                        v.get("address_space", ["10.0.0.0/16"]), v.get("subnets", []),
                        v.get("tags"))

    sim.scenario_section("virtual_networks", load_vnets, 20)
