"""Network interfaces: PUT (long-running) with ipConfigurations in a subnet and an optional
NSG, GET, list, DELETE (long-running); and the VM-owned NICs Compute creates from
``networkProfile.networkInterfaceConfigurations`` (``create_nic``, synchronous).

networkInterface.json 2024-05-01. Azure refuses a NIC whose subnet or NSG does not exist
or lies in another region (400 InvalidResourceReference), a static private IP outside the
subnet or already taken, and the deletion of a NIC a VM uses (400 NicInUse). Dynamic private
IPs are the lowest free addresses of the subnet after the five Azure reserves (network
address, .1-.3, broadcast: https://learn.microsoft.com/azure/virtual-network/
virtual-networks-faq#are-there-any-restrictions-on-using-ip-addresses-within-these-subnets)."""

from __future__ import annotations

import ipaddress
import uuid

from ..arm import RG, find_in_rg, get_in_rg, norm_location, paged, set_tags
from ..errors import ArmError
from ..routing import route
from . import common as c
from .vnets import find_subnet, vnet_of

NIC = RG + "/providers/Microsoft.Network/networkInterfaces/{networkInterfaceName}"
NIC_TYPE = c.NIC_TYPE


def _used_ips(sim, subnet_id: str, except_nic: str | None = None) -> set[str]:
    used = set()
    for nic in sim.store.list(NIC_TYPE):
        if except_nic and nic["id"].lower() == except_nic.lower():
            continue
        for ipc in nic["properties"].get("ipConfigurations") or []:
            p = ipc.get("properties") or {}
            if (p.get("subnet") or {}).get("id", "").lower() == subnet_id.lower():
                used.add(p.get("privateIPAddress"))
    return used


def _allocate(sim, subnet: dict, taken: set[str]) -> str:
    net = ipaddress.ip_network(c.subnet_prefixes(subnet["properties"])[0])
    for offset in range(4, net.num_addresses - 1):
        ip = str(net.network_address + offset)
        if ip not in taken:
            return ip
    raise ArmError(400, "SubnetIsFull", f"Subnet {subnet['name']} with address prefix "
                   f"{net} does not have enough capacity for 1 IP addresses.")


def _static_ip(subnet: dict, ipc_id: str, ip, taken: set[str]) -> str:
    nets = [ipaddress.ip_network(p) for p in c.subnet_prefixes(subnet["properties"])]
    try:
        addr = ipaddress.ip_address(str(ip))
    except ValueError:
        raise ArmError(400, "PrivateIPAddressIsNotValid",
                       f"IP configuration {ipc_id} has an invalid private IP address "
                       f"'{ip}'.") from None
    if not any(addr in n for n in nets):
        raise ArmError(400, "PrivateIPAddressNotInSubnet",
                       f"IP configuration {ipc_id} is referencing private IP address {ip} "
                       f"which is not in subnet {subnet['id']}.")
    if str(addr) in taken:
        raise ArmError(400, "PrivateIPAddressInUse",
                       f"IP configuration {ipc_id} is using the private IP address {ip} "
                       f"which is already allocated to resource in subnet {subnet['id']}.")
    return str(addr)


def _ip_config(sim, nic_id: str, location: str, ipc: dict, primary: bool,
               taken: set[str]) -> dict:
    name = (ipc or {}).get("name") or "ipconfig1"
    ipc_id = f"{nic_id}/ipConfigurations/{name}"
    props = c.props_of(ipc or {})
    sub_id = (props.get("subnet") or {}).get("id")
    subnet = find_subnet(sim, sub_id)
    if subnet is None or vnet_of(sim, sub_id)["location"] != location:
        raise c.invalid_reference(sub_id, nic_id)
    if props.get("publicIPAddress"):
        raise c.bad_request("Public IP addresses are not modelled by avdsim.",
                            "publicIPAddress")
    method = props.get("privateIPAllocationMethod") or "Dynamic"
    if method not in ("Dynamic", "Static"):
        raise c.bad_request(f"privateIPAllocationMethod must be Dynamic or Static, not "
                            f"'{method}'.", "privateIPAllocationMethod")
    if method == "Static":
        ip = _static_ip(subnet, ipc_id, props.get("privateIPAddress"), taken)
    else:
        ip = _allocate(sim, subnet, taken)
    taken.add(ip)
    return {"id": ipc_id, "name": name, "etag": c.etag(),
            "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
            "properties": {"provisioningState": "Succeeded", "privateIPAddress": ip,
                           "privateIPAllocationMethod": method, "subnet": {"id": subnet["id"]},
                           "primary": bool(props.get("primary", primary)),
                           "privateIPAddressVersion": "IPv4"}}


def nic_body(sim, nic_id: str, location: str, ipcs: list[dict], props: dict,
             old: dict | None) -> dict:
    """The NIC of a PUT (or a VM's NIC configuration), validated; nothing stored."""
    if not ipcs:
        raise c.bad_request(f"Network interface {nic_id} needs at least one IP "
                            "configuration.", "properties.ipConfigurations")
    taken = set()
    for ipc in ipcs:
        sub_id = ((ipc or {}).get("properties") or {}).get("subnet", {}).get("id", "")
        taken |= _used_ips(sim, sub_id, except_nic=nic_id)
    configs = [_ip_config(sim, nic_id, location, ipc, i == 0, taken)
               for i, ipc in enumerate(ipcs)]
    old_props = (old or {}).get("properties") or {}
    out = {"provisioningState": "Succeeded",
           "resourceGuid": old_props.get("resourceGuid") or str(uuid.uuid4()),
           "ipConfigurations": configs,
           "dnsSettings": {"dnsServers": list((props.get("dnsSettings") or {})
                                              .get("dnsServers") or []),
                           "appliedDnsServers": []},
           "enableAcceleratedNetworking": bool(props.get("enableAcceleratedNetworking")),
           "enableIPForwarding": bool(props.get("enableIPForwarding")),
           "disableTcpStateTracking": False, "nicType": "Standard",
           "auxiliaryMode": "None", "auxiliarySku": "None", "vnetEncryptionSupported": False}
    nsg = c.require_nsg(sim, props.get("networkSecurityGroup"), nic_id)
    if nsg:
        out["networkSecurityGroup"] = nsg
    if old_props.get("virtualMachine"):
        out["virtualMachine"] = old_props["virtualMachine"]
        out["primary"] = old_props.get("primary", True)
    return {"id": nic_id, "name": nic_id.rsplit("/", 1)[-1], "type": NIC_TYPE,
            "location": location, "etag": c.etag(), "properties": out}


def create_nic(sim, nic_id: str, location: str, subnet_id: str, vm_id: str | None,
               tags=None, ip_config_name: str = "ipconfig1", accelerated=False):
    """A VM-owned NIC (Compute's networkInterfaceConfigurations), stored at once."""
    body = nic_body(sim, nic_id, norm_location(location),
                    [{"name": ip_config_name, "properties": {"subnet": {"id": subnet_id}}}],
                    {"enableAcceleratedNetworking": accelerated}, None)
    if vm_id:
        body["properties"]["virtualMachine"] = {"id": vm_id}
        body["properties"]["primary"] = True
    if tags:
        body["tags"] = dict(tags)
    return sim.store.put(nic_id, body)


@route("PUT", NIC)
def put_nic(sim, req):
    c.check_name(req.param("networkInterfaceName"))
    nid, old = c.existing_in_rg(sim, req, "networkInterfaces", "networkInterfaceName")
    body = req.json()
    location = c.location_of(req, body, old)
    props = c.props_of(body)
    nic = nic_body(sim, nid, location, props.get("ipConfigurations") or [], props, old)
    set_tags(nic, body, replace=True)
    sim.store.put(nid, nic)
    return c.start_put(sim, req, nic, location, old is None, lambda: dict(nic))


@route("GET", NIC)
def get_nic(sim, req):
    return get_in_rg(sim, req, c.rid(req, "networkInterfaces", "networkInterfaceName"),
                     NIC_TYPE, "networkInterfaceName")


@route("GET", RG + "/providers/Microsoft.Network/networkInterfaces")
def list_nics(sim, req):
    return paged(sim, req, sim.store.list(NIC_TYPE, c.require_group(sim, req)["id"] + "/"))


@route("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Network/networkInterfaces")
def list_all_nics(sim, req):
    return paged(sim, req, sim.store.list(NIC_TYPE, f"/subscriptions/{req.subscription_id}/"))


@route("DELETE", NIC)
def delete_nic(sim, req):
    nid = c.rid(req, "networkInterfaces", "networkInterfaceName")
    body = find_in_rg(sim, req, nid)
    if body is None:
        return 204, None
    vm = body["properties"].get("virtualMachine")
    if vm and sim.store.exists(vm["id"]):
        raise ArmError(400, "NicInUse",
                       f"Network Interface {nid} is used by existing resource {vm['id']}. In order "
                       "to delete the network interface, it must be dissociated from the resource.")

    def remove():
        if sim.store.get(nid) is not None:
            sim.store.delete(nid)
            sim.hooks.emit("resource.deleted", resource_id=nid, resource=body)

    return c.start_delete(sim, req, body, body["location"], remove)
