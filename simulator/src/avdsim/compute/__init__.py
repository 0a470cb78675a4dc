"""Microsoft.Compute virtual machines: create (from a gallery image version or an attached
OS disk), VM-owned NICs, power actions, generalize, delete with delete options, instance
view, Run Command (action and ``runCommands`` child resources) and VM extensions.

One module per concern; importing this package imports them all, which registers their
routes. VM state shared with disks and galleries lives in ``avdsim.vmstate``."""

from __future__ import annotations

from ..vmstate import EXT_TYPE, RUNCMD_TYPE, VM_TYPE, delete_vm_now, guest_of, os_disk_id, state
from . import vms, power, run_command, extensions  # noqa: F401  (their routes, in this order)
from .common import VM, get_vm
from .create import create_vm
from .loading import load_vms
from .views import instance_view, render

__all__ = ["EXT_TYPE", "RUNCMD_TYPE", "VM", "VM_TYPE", "create_vm", "delete_vm_now", "get_vm",
           "guest_of", "instance_view", "load_vms", "os_disk_id", "render", "state"]


def register(sim):
    sim.scenario_section("virtual_machines", load_vms, 40)
