"""Microsoft.Network: virtual networks with subnets, subnets as child resources, network
security groups and network interfaces (PUT/GET/list/DELETE, long-running writes), with the
references Azure checks between them; VM-owned NICs for Compute's
``networkProfile.networkInterfaceConfigurations``; virtual networks from the scenario."""

from __future__ import annotations

from ..arm import require_rg
from .common import NIC_TYPE, NSG_TYPE, VNET_TYPE
from .nics import create_nic
from .nsgs import default_rules
from .vnets import create_vnet, find_subnet

__all__ = ["NIC_TYPE", "NSG_TYPE", "VNET_TYPE", "create_nic", "create_vnet", "default_rules",
           "find_subnet", "register"]


def register(sim):
    def load_vnets(sim, vnets):
        for v in vnets:
            rg = require_rg(sim, sim.subscription_id, v["resource_group"])
            create_vnet(sim, v["resource_group"], v["name"], v.get("location") or rg["location"],
                        v.get("address_space", ["10.0.0.0/16"]), v.get("subnets", []),
                        v.get("tags"))

    sim.scenario_section("virtual_networks", load_vnets, 20)
