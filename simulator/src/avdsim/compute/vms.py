"""Microsoft.Compute virtual machines: PUT (create or update), PATCH, GET, list and DELETE."""

from __future__ import annotations

from ..arm import RG, SUB, paged, require_rg
from ..errors import ArmError
from ..routing import route
from ..server import Response
from ..vmstate import VM_TYPE, delete_vm_now, power, set_power, state, vm_id_of
from .common import VM, busy, get_vm
from .create import create_vm
from .update import update_vm
from .views import instance_view, render


def _preconditions(req, existing):
    """If-Match / If-None-Match against the VM's etag (412 PreconditionFailed)."""
    if_match = req.headers.get("If-Match")
    if_none = req.headers.get("If-None-Match")
    if if_match and (existing is None or (if_match != "*" and if_match != existing.get("etag"))):
        raise ArmError(412, "PreconditionFailed", "The specified precondition 'If-Match' "
                       f"'{if_match}' does not match the current etag.")
    if if_none == "*" and existing is not None:
        raise ArmError(412, "PreconditionFailed", "The resource already exists "
                       "(If-None-Match: *).")


@route("PUT", VM, policy="PutVM")
def put_vm(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    body = req.json()
    existing = sim.store.get(vm_id_of(sub, rg, req.param("vmName")))
    _preconditions(req, existing)
    if existing is not None:
        busy(sim, existing, "update")
        return update_vm(sim, req, existing, body, patch=False)
    vm, op = create_vm(sim, sub, rg, req.param("vmName"), body, req=req)
    return Response(201, render(sim, vm), sim.ops.headers(op, location=False))


@route("PATCH", VM, policy="UpdateVM")
def patch_vm(sim, req):
    vm = get_vm(sim, req)
    _preconditions(req, vm)
    busy(sim, vm, "update")
    return update_vm(sim, req, vm, req.json(), patch=True)


@route("GET", VM, policy="LowCostGet")
def get_vm_route(sim, req):
    vm = get_vm(sim, req)
    expand = (req.query.get("$expand") or "").lower()
    return render(sim, vm, expand_instance_view=(expand == "instanceview"))


@route("GET", VM + "/instanceView", policy="LowCostGet")
def get_instance_view(sim, req):
    return instance_view(sim, get_vm(sim, req))


def _list(sim, req, prefix):
    vms = sim.store.list(VM_TYPE, prefix)
    expand = (req.query.get("$expand") or "").lower() == "instanceview" or \
        (req.query.get("statusOnly") or "").lower() == "true"
    return paged(sim, req, [render(sim, v, expand) for v in vms])


@route("GET", RG + "/providers/Microsoft.Compute/virtualMachines", policy="HighCostGet")
def list_vms(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    return _list(sim, req, f"/subscriptions/{req.subscription_id}/resourceGroups/"
                           f"{req.param('resourceGroupName')}/")


@route("GET", SUB + "/providers/Microsoft.Compute/virtualMachines", policy="HighCostGet")
def list_all_vms(sim, req):
    return _list(sim, req, f"/subscriptions/{req.subscription_id}/")


@route("DELETE", VM, policy="DeleteVM")
def delete_vm(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    vm = sim.store.get(vm_id_of(sub, rg, req.param("vmName")))
    if vm is None:
        return Response(204, None)
    st = state(sim, vm["id"])
    if vm["properties"]["provisioningState"] == "Deleting":
        op = sim.ops.get(st["busy"])
        return Response(202, None, sim.ops.headers(op))
    prev = vm["properties"]["provisioningState"]
    vm["properties"]["provisioningState"] = "Deleting"
    prev_power = power(sim, vm["id"])
    sim.hooks.emit("vm.deleting", vm_id=vm["id"], vm=vm)
    if prev_power != "deallocated":
        set_power(sim, vm, "deallocating")

    def complete():
        delete_vm_now(sim, vm)
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed" if prev != "Failed" else prev
        st["busy"] = None
        set_power(sim, vm, prev_power)

    op = sim.ops.start(req, sim.duration("vm_delete"), complete, fail, location=vm["location"],
                       resource_id=vm["id"])
    st["busy"] = op.id
    return Response(202, None, sim.ops.headers(op))

