"""VM-owned and referenced NICs of ``networkProfile`` (validated before anything is created)."""

from __future__ import annotations

from .. import network as _network
from ..arm import norm_location
from ..errors import ArmError, invalid_parameter
from ..ids import resource_id


def _check_profile(configs, refs, net: dict) -> None:
    if not configs and not refs:
        raise invalid_parameter("Required parameter 'networkProfile' is missing (null).",
                                "networkProfile")
    if configs and not net.get("networkApiVersion"):
        raise invalid_parameter("networkProfile.networkApiVersion is required when "
                                "networkInterfaceConfigurations are used.",
                                "networkProfile.networkApiVersion")


def _referenced(sim, vm_id, refs) -> list[dict]:
    """``networkInterfaces`` entries: existing NICs not used by another VM."""
    nic_refs = []
    for r in refs:
        nic = sim.store.get(r.get("id", ""))
        if nic is None:
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {r.get('id')} referenced by resource {vm_id} was not found.")
        owner = nic["properties"].get("virtualMachine")
        if owner and owner["id"].lower() != vm_id.lower() and sim.store.exists(owner["id"]):
            raise ArmError(400, "NicInUse", f"Network Interface {nic['id']} is used by existing "
                           f"resource {owner['id']}.")
        nic_refs.append({"id": nic["id"], "properties": {
            "primary": (r.get("properties") or {}).get("primary", len(nic_refs) == 0),
            "deleteOption": (r.get("properties") or {}).get("deleteOption", "Detach")}})
    return nic_refs


def _planned_nic(sim, sub, rg, vm_id, c, location=None) -> tuple:
    """(nic id, subnet id, ipconfig name, accelerated) for one networkInterfaceConfiguration."""
    props = c.get("properties") or {}
    ipcs = props.get("ipConfigurations") or []
    if not c.get("name") or not ipcs:
        raise invalid_parameter("networkInterfaceConfigurations need a name and "
                                "ipConfigurations.", "networkProfile."
                                "networkInterfaceConfigurations")
    subnet_id = ((ipcs[0].get("properties") or {}).get("subnet") or {}).get("id")
    subnet = _network.find_subnet(sim, subnet_id)
    vnet = sim.store.get(subnet["id"].rsplit("/subnets/", 1)[0]) if subnet else None
    if subnet is None or (location and vnet["location"] != norm_location(location)):
        # the subnet must exist in the VM's region (as for a NIC PUT, network/nics.py)
        raise ArmError(400, "InvalidResourceReference",
                       f"Resource {subnet_id} referenced by resource {vm_id} was not found. "
                       "Please make sure that the referenced resource exists, and that both "
                       "resources are in the same region.")
    if (ipcs[0].get("properties") or {}).get("publicIPAddressConfiguration"):
        raise invalid_parameter("Public IP addresses are not supported by this simulator's "
                                "network model.", "publicIPAddressConfiguration")
    nic_name = c["name"]  # the VM-owned NIC takes its configuration's name
    nic_id = resource_id(sub, rg, "Microsoft.Network", "networkInterfaces", nic_name)
    if sim.store.exists(nic_id):
        raise ArmError(409, "Conflict", f"Network interface {nic_id} already exists.")
    return (nic_id, subnet_id, ipcs[0].get("name", "ipconfig1"),
            props.get("enableAcceleratedNetworking", False))


def plan_nics(sim, sub, rg, vm_id, net: dict, location=None) -> tuple[list, list]:
    """Validate ``networkProfile``; returns (NIC references of the VM, NICs to create)."""
    configs = net.get("networkInterfaceConfigurations") or []
    refs = net.get("networkInterfaces") or []
    _check_profile(configs, refs, net)
    nic_refs = _referenced(sim, vm_id, refs)
    planned = []
    for i, c in enumerate(configs):
        planned.append(_planned_nic(sim, sub, rg, vm_id, c, location))
        props = c.get("properties") or {}
        nic_refs.append({"id": planned[-1][0], "properties": {
            "primary": props.get("primary", i == 0 and not refs),
            "deleteOption": props.get("deleteOption", "Detach")}})
    return nic_refs, planned


def apply_nics(sim, vm_id, location, net: dict, plan) -> dict:
    """Create the planned VM-owned NICs and claim the referenced ones; the networkProfile
    part with ``networkInterfaces``."""
    nic_refs, planned = plan
    for nic_id, subnet_id, ipc_name, accel in planned:
        _network.create_nic(sim, nic_id, location, subnet_id, vm_id, None, ipc_name, accel)
    for r in net.get("networkInterfaces") or []:
        sim.store.get(r["id"])["properties"]["virtualMachine"] = {"id": vm_id}
    return {"networkInterfaces": nic_refs}


def create_nics(sim, sub, rg, vm_id, location, net: dict) -> dict:
    """Validate ``networkProfile``, then create and claim its NICs."""
    return apply_nics(sim, vm_id, location, net, plan_nics(sim, sub, rg, vm_id, net,
                                                               location))
