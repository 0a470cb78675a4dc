"""Microsoft.Compute virtual machines: PUT (create or update), PATCH, GET, list and DELETE."""

from __future__ import annotations

import re

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


# VirtualMachines_List / _ListAll (ComputeRP.json 2026-04-01): ``$filter`` allows only
# "'virtualMachineScaleSet/id' eq '<scale set id>'"; ``$expand=instanceView`` "can only be
# specified if a valid $filter option is specified". Without one Azure answers 400 BadRequest
# "Expand Instance View is only supported when Virtual Machine Scale Set resource filter is
# applied" (as reported from real tenants: semicons/java_oci_manage#46,
# Azure/azure-rest-api-specs#42411). ``statusOnly=true`` is a parameter of ListAll only: the run
# time status of every VM of the subscription (here: id, name, type, location and the instance
# view, nothing else); on the resource-group list it is not a parameter and changes nothing.
_VMSS_FILTER = re.compile(r"^\s*'?virtualMachineScaleSet/id'?\s+eq\s+'([^']+)'\s*$", re.I)
_EXPAND_WITHOUT_FILTER = ("Expand Instance View is only supported when Virtual Machine Scale "
                          "Set resource filter is applied")


def _scale_set_filter(req) -> str | None:
    """The scale-set id of a valid ``$filter``, or None without one (400 for another filter)."""
    raw = req.query.get("$filter")
    if raw is None:
        return None
    m = _VMSS_FILTER.match(raw)
    if not m:
        raise ArmError(400, "BadRequest", f"The $filter '{raw}' is not supported. Allowed value "
                       "is 'virtualMachineScaleSet/id' eq '<virtual machine scale set id>'.")
    return m.group(1).lower()


def _status_only(sim, vm: dict) -> dict:
    return {"id": vm["id"], "name": vm["name"], "type": vm["type"], "location": vm["location"],
            "properties": {"instanceView": instance_view(sim, vm)}}


def _list(sim, req, prefix, status_only_allowed=False):
    vms = sim.store.list(VM_TYPE, prefix)
    scale_set = _scale_set_filter(req)
    expand = (req.query.get("$expand") or "").lower()
    if expand and expand != "instanceview":
        raise ArmError(400, "InvalidParameter", f"The value '{req.query.get('$expand')}' of "
                       "parameter '$expand' is not valid. Allowed value is 'instanceView'.",
                       target="$expand")
    if expand and scale_set is None:
        raise ArmError(400, "BadRequest", _EXPAND_WITHOUT_FILTER)
    if scale_set is not None:
        vms = [v for v in vms if ((v["properties"].get("virtualMachineScaleSet") or {})
                                  .get("id") or "").lower() == scale_set]
    if status_only_allowed and (req.query.get("statusOnly") or "").lower() == "true":
        return paged(sim, req, [_status_only(sim, v) for v in vms])
    return paged(sim, req, [render(sim, v, bool(expand)) for v in vms])


@route("GET", RG + "/providers/Microsoft.Compute/virtualMachines", policy="HighCostGet")
def list_vms(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    return _list(sim, req, f"/subscriptions/{req.subscription_id}/resourceGroups/"
                           f"{req.param('resourceGroupName')}/")


@route("GET", SUB + "/providers/Microsoft.Compute/virtualMachines", policy="HighCostGet")
def list_all_vms(sim, req):
    return _list(sim, req, f"/subscriptions/{req.subscription_id}/", status_only_allowed=True)


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

