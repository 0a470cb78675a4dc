"""Helpers shared by the VM routes: the VM path template, looking a VM up from a request, the
busy check and extension rendering."""

from __future__ import annotations

import copy

from ..arm import RG, found, require_rg
from ..errors import ArmError
from ..ids import resource_id
from ..vmstate import VM_TYPE, state, vm_id_of

VM = RG + "/providers/Microsoft.Compute/virtualMachines/{vmName}"


def get_vm(sim, req, name_param="vmName") -> dict:
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    name = req.param(name_param)
    return found(sim.store.get(vm_id_of(sub, rg, name)), VM_TYPE, name, rg)


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


def child_id(req, collection: str, name_param: str) -> str:
    """Id of the VM child resource (``extensions``, ``runCommands``) a request names."""
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "virtualMachines", req.param("vmName"), collection,
                       req.param(name_param))


def get_child(sim, req, collection: str, name_param: str, rtype: str) -> tuple[dict, dict]:
    """(VM, child resource) a request names; 404 when either is missing."""
    vm = get_vm(sim, req)
    return vm, found(sim.store.get(child_id(req, collection, name_param)), rtype,
                     f"{req.param('vmName')}/{req.param(name_param)}",
                     req.param("resourceGroupName"))


def render_extension(ext: dict) -> dict:
    body = copy.deepcopy(ext)
    body["properties"].pop("protectedSettings", None)
    body["properties"].pop("protectedSettingsFromKeyVault", None)
    return body

