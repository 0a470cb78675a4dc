"""Helpers shared by the VM routes: the VM path template, looking a VM up from a request, the
busy check and extension rendering."""

from __future__ import annotations

import copy

from ..arm import RG, require_rg
from ..errors import ArmError, not_found
from ..vmstate import VM_TYPE, state, vm_id_of

VM = RG + "/providers/Microsoft.Compute/virtualMachines/{vmName}"


def get_vm(sim, req, name_param="vmName") -> dict:
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    name = req.param(name_param)
    vm = sim.store.get(vm_id_of(sub, rg, name))
    if vm is None:
        raise not_found(VM_TYPE, name, rg)
    return vm


def busy(sim, vm, action):
    st = state(sim, vm["id"])
    op = sim.ops.get(st["busy"]) if st.get("busy") else None
    if op is not None and op.status == "InProgress":
        async_url, _ = sim.ops.urls(op)
        raise ArmError(409, "OperationNotAllowed" if action == "generalize"
                       else "AnotherOperationInProgress",
                       f"Operation '{action}' is not allowed on VM '{vm['name']}' since another "
                       f"operation is in progress. To retrieve status of the operation use uri: "
                       f"{async_url}")


def render_extension(ext: dict) -> dict:
    body = copy.deepcopy(ext)
    body["properties"].pop("protectedSettings", None)
    body["properties"].pop("protectedSettingsFromKeyVault", None)
    return body

