"""VM update (PUT on an existing VM, PATCH): tags, size, data disks, delete options and the
OS disk swap."""

from __future__ import annotations

from ..arm import norm_location, set_tags
from ..clock import iso
from ..errors import ArmError, invalid_parameter
from ..server import Response
from ..vmstate import detach, os_disk_id, power, state
from .data_disks import apply_data_disks, check_attachable, plan_data_disks
from .views import render


# -- OS disk swap (added for vm_backup state=restored) ----------------------------------------
# Azure lets the OS disk of a deallocated VM be replaced by another managed disk of the same OS
# type in the same region through PUT/PATCH of storageProfile.osDisk.managedDisk.id ("Change the
# OS disk used by an Azure VM"); the old disk stays, detached.
def _os_disk_swap_target(sim, vm: dict, osd: dict):
    new_id = (osd.get("managedDisk") or {}).get("id")
    if not new_id or new_id.lower() == os_disk_id(vm).lower():
        return None
    if power(sim, vm["id"]) != "deallocated":
        raise ArmError(409, "OperationNotAllowed", f"The OS disk of VM '{vm['name']}' can be swapped "
                       "only while the VM is stopped (deallocated).")
    disk = sim.store.get(new_id)
    if disk is None:
        raise ArmError(404, "NotFound", f"Disk {new_id} was not found.")
    check_attachable(disk, vm["location"], new_id, "osDisk.managedDisk.id")
    cur_os = vm["properties"]["storageProfile"]["osDisk"].get("osType")
    if (disk["properties"].get("osType") or cur_os) != cur_os:
        raise invalid_parameter(f"Disk {new_id} has OS type {disk['properties'].get('osType')}, the "
                                f"VM's OS disk {cur_os}.", "osDisk.managedDisk.id")
    return disk


def _swap_os_disk(sim, vm: dict, disk: dict) -> None:
    osd = vm["properties"]["storageProfile"]["osDisk"]
    detach(sim.store.get(osd.get("managedDisk", {}).get("id") or ""))
    osd["name"] = disk["name"]
    osd["managedDisk"] = {"storageAccountType": disk["sku"]["name"], "id": disk["id"]}
    osd["diskSizeGB"] = disk["properties"].get("diskSizeGB")
    disk["managedBy"] = vm["id"]
    disk["properties"]["diskState"] = "Reserved"



def _check_update(sim, req, vm: dict, body: dict, patch: bool):
    """Validate an update; returns (OS disk to swap to, data disk plan), both may be None."""
    props = body.get("properties") or {}
    sp = props.get("storageProfile") or {}
    cur = vm["properties"]
    if not patch:
        if body.get("location") and norm_location(body["location"]) != vm["location"]:
            raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'location' is "
                           "not allowed.", target="location")
    if sp.get("imageReference") and cur["storageProfile"].get("imageReference") and \
            (sp["imageReference"].get("id") or "").lower() != (
            cur["storageProfile"]["imageReference"].get("id") or "").lower():
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'imageReference' is "
                       "not allowed.", target="imageReference")
    swap_to = _os_disk_swap_target(sim, vm, sp.get("osDisk") or {})
    data_plan = None
    if "dataDisks" in sp:
        data_plan = plan_data_disks(sim, req.subscription_id, req.param("resourceGroupName"),
                                    vm["name"], vm["location"],
                                    sp.get("dataDisks"), cur["storageProfile"].get("dataDisks")
                                    or [])
    if (props.get("osProfile") or {}).get("adminPassword"):
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'adminPassword' is "
                       "not allowed.", target="adminPassword")
    return swap_to, data_plan


def _apply_update(sim, vm: dict, props: dict, swap_to, data_plan) -> None:
    cur = vm["properties"]
    osd = (props.get("storageProfile") or {}).get("osDisk") or {}
    if swap_to is not None:
        _swap_os_disk(sim, vm, swap_to)
    if data_plan is not None:
        cur["storageProfile"]["dataDisks"] = apply_data_disks(
            sim, vm["id"], vm["location"], data_plan, power(sim, vm["id"]) != "deallocated")
    if osd.get("deleteOption"):
        cur["storageProfile"]["osDisk"]["deleteOption"] = osd["deleteOption"]
    size = (props.get("hardwareProfile") or {}).get("vmSize")
    if size and size != cur["hardwareProfile"]["vmSize"]:
        # Azure resizes within the current hardware cluster (a running VM restarts); every
        # size is assumed available here.
        cur["hardwareProfile"]["vmSize"] = size
    for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
        for ref in cur["networkProfile"]["networkInterfaces"]:
            if ref["id"].lower() == (nic.get("id") or "").lower() and \
                    (nic.get("properties") or {}).get("deleteOption"):
                ref["properties"]["deleteOption"] = nic["properties"]["deleteOption"]


def update_vm(sim, req, vm: dict, body: dict, patch: bool):
    swap_to, data_plan = _check_update(sim, req, vm, body, patch)
    set_tags(vm, body, not patch)
    _apply_update(sim, vm, body.get("properties") or {}, swap_to, data_plan)
    st = state(sim, vm["id"])
    vm["properties"]["provisioningState"] = "Updating"
    vm["etag"] = '"%d"' % (int(vm.get("etag", '"1"').strip('"')) + 1)

    def complete():
        vm["properties"]["provisioningState"] = "Succeeded"
        st["provisioning_time"] = iso(sim.now())
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, sim.duration("vm_update"), complete, fail, location=vm["location"],
                       resource_id=vm["id"])
    sim.hooks.emit("resource.written", resource_id=vm["id"], resource=vm, request_body=body)
    return Response(200, render(sim, vm), sim.ops.headers(op, location=False))
