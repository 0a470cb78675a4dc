"""VM internal state and the helpers every compute-side provider shares (disks, gallery,
compute): power, the OS and data disk attachments, the guest on the OS disk. It imports no
provider, so disks and gallery can use it without importing ``compute``."""

from __future__ import annotations

from . import guest as _guest
from .ids import resource_id

VM_TYPE = "Microsoft.Compute/virtualMachines"
EXT_TYPE = "Microsoft.Compute/virtualMachines/extensions"
RUNCMD_TYPE = "Microsoft.Compute/virtualMachines/runCommands"


def vm_id_of(sub, rg, name):
    return resource_id(sub, rg, "Microsoft.Compute", "virtualMachines", name)


def state(sim, vm_id: str) -> dict:
    """Internal state of a VM: power, generalized, busy (operation id), created."""
    return sim.store.internal(vm_id)


def power(sim, vm_id: str) -> str:
    return state(sim, vm_id).get("power", "deallocated")


def os_disk_id(vm: dict) -> str | None:
    return ((vm["properties"].get("storageProfile") or {}).get("osDisk") or {}).get(
        "managedDisk", {}).get("id")


def guest_of(sim, vm: dict) -> dict | None:
    did = os_disk_id(vm)
    return _guest.stored(sim, did)


def set_power(sim, vm: dict, new: str) -> None:
    st = state(sim, vm["id"])
    old = st.get("power")
    if old == new:
        return
    st["power"] = new
    # Disk state follows the VM: Attached while allocated, Reserved while deallocated.
    for did in attached_disk_ids(vm):
        d = sim.store.get(did)
        if d is not None:
            d["properties"]["diskState"] = "Reserved" if new == "deallocated" else "Attached"
    sim.hooks.emit("vm.power_state_changed", vm_id=vm["id"], vm=vm, old=old, new=new)


def attached_disk_ids(vm: dict) -> list[str]:
    sp = vm["properties"].get("storageProfile") or {}
    out = []
    if os_disk_id(vm):
        out.append(os_disk_id(vm))
    for dd in sp.get("dataDisks") or []:
        mid = (dd.get("managedDisk") or {}).get("id")
        if mid:
            out.append(mid)
    return out


def detach(disk: dict | None) -> None:
    """The disk is no longer attached to any VM."""
    if disk is not None:
        disk.pop("managedBy", None)
        disk["properties"]["diskState"] = "Unattached"


# -- delete ----------------------------------------------------------------------------------
def delete_vm_now(sim, vm: dict) -> None:
    """Remove a VM, honouring the delete options of its OS disk, data disks and NICs."""
    sp = vm["properties"]["storageProfile"]
    disks_to_handle = [(sp["osDisk"].get("managedDisk", {}).get("id"),
                        sp["osDisk"].get("deleteOption", "Detach"))]
    for dd in sp.get("dataDisks") or []:
        disks_to_handle.append(((dd.get("managedDisk") or {}).get("id"),
                                dd.get("deleteOption", "Detach")))
    for child in list(sim.store.children(vm["id"])):
        sim.store.delete(child["id"])
        if child["type"] == EXT_TYPE:
            sim.hooks.emit("vm.extension.deleted", vm_id=vm["id"], extension=child)
    sim.store.delete(vm["id"])
    for did, opt in disks_to_handle:
        d = sim.store.get(did) if did else None
        if d is None:
            continue
        if opt == "Delete":
            sim.store.delete(did)
            sim.hooks.emit("resource.deleted", resource_id=did, resource=d)
        else:
            detach(d)
    for ref in vm["properties"]["networkProfile"].get("networkInterfaces") or []:
        nic = sim.store.get(ref["id"])
        if nic is None:
            continue
        if (ref.get("properties") or {}).get("deleteOption") == "Delete":
            sim.store.delete(ref["id"])
            sim.hooks.emit("resource.deleted", resource_id=ref["id"], resource=nic)
        else:
            nic["properties"].pop("virtualMachine", None)
    sim.hooks.emit("vm.deleted", vm_id=vm["id"], vm=vm)
    sim.hooks.emit("resource.deleted", resource_id=vm["id"], resource=vm)

