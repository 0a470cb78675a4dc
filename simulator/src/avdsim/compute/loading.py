"""Scenario ``virtual_machines``: VMs created from a gallery image version at load time, in
their ``power_state``, with an optional guest override."""

from __future__ import annotations

from .. import guest as _guest
from ..arm import require_rg
from ..ids import resource_id
from ..vmstate import os_disk_id, state
from .create import create_vm


def _scenario_body(sim, v: dict, rg: str, location: str) -> dict:
    """The PUT body equivalent of a scenario VM."""
    img = v["image"]
    version_id = resource_id(sim.subscription_id, img.get("resource_group", rg),
                             "Microsoft.Compute", "galleries", img["gallery"], "images",
                             img["image"], "versions", img["version"])
    subnet = v["subnet"]
    if not subnet.startswith("/"):
        vnet, sn = subnet.split("/")
        subnet = resource_id(sim.subscription_id, rg, "Microsoft.Network", "virtualNetworks",
                             vnet, "subnets", sn)
    return {"location": v.get("location", location), "tags": v.get("tags") or {},
            "properties": {
                "hardwareProfile": {"vmSize": v.get("size", "Standard_D4s_v5")},
                "storageProfile": {"imageReference": {"id": version_id},
                                   "osDisk": {"createOption": "FromImage",
                                              "deleteOption": v.get("os_disk_delete_option",
                                                                    "Delete"),
                                              "managedDisk": {
                                                  "storageAccountType": "Premium_LRS"}}},
                "osProfile": {"computerName": v.get("computer_name", v["name"][:15]),
                              "adminUsername": v.get("admin_username", "azureadmin"),
                              "adminPassword": "Scenario-Passw0rd!"},
                "networkProfile": {"networkApiVersion": "2020-11-01",
                                   "networkInterfaceConfigurations": [{
                                       "name": f"{v['name']}-nic", "properties": {
                                           "primary": True, "deleteOption": "Delete",
                                           "ipConfigurations": [{
                                               "name": "ipconfig1",
                                               "properties": {"subnet": {"id": subnet}}}]}}]},
                "licenseType": "Windows_Client"}}


def load_vms(sim, vms):
    for v in vms:
        rg = v["resource_group"]
        rgb = require_rg(sim, sim.subscription_id, rg)
        body = _scenario_body(sim, v, rg, rgb["location"])
        vm, _ = create_vm(sim, sim.subscription_id, rg, v["name"], body,
                          power_state=v.get("power_state", "running"))
        if v.get("guest"):
            did = os_disk_id(vm)
            _guest.store(sim, did, _guest.make_guest(v["guest"], _guest.stored(sim, did)))
        if v.get("generalized"):
            state(sim, vm["id"])["generalized"] = True
