"""VM power actions (start, powerOff, deallocate, restart) and generalize."""

from __future__ import annotations

from .. import guest as _guest
from ..clock import iso
from ..errors import operation_not_allowed
from ..routing import route
from ..server import Response
from ..vmstate import guest_of, power, set_power, state
from .common import VM, busy, get_vm


def _power_action(sim, req, action, allowed_from, transit, final, duration_name,
                  on_done=None):
    vm = get_vm(sim, req)
    st = state(sim, vm["id"])
    busy(sim, vm, action)
    cur = power(sim, vm["id"])
    if st.get("generalized") and action in ("start", "restart"):
        raise operation_not_allowed(f"Operation '{action}' is not allowed on VM '{vm['name']}' "
                                    "since the VM is generalized.")
    if cur not in allowed_from:
        raise operation_not_allowed(f"Operation '{action}' is not allowed on VM '{vm['name']}' "
                                    f"since the VM is {cur}.")
    duration = sim.duration(duration_name)
    if action == "deallocate" and cur == "stopped":
        duration = sim.duration("vm_deallocate_stopped")
    noop = cur == final and action != "restart"
    vm["properties"]["provisioningState"] = "Updating"
    if not noop:
        set_power(sim, vm, transit)

    def complete():
        vm["properties"]["provisioningState"] = "Succeeded"
        st["provisioning_time"] = iso(sim.now())
        st["busy"] = None
        set_power(sim, vm, final)
        if on_done:
            on_done(vm)
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed"
        st["busy"] = None
        set_power(sim, vm, cur)

    op = sim.ops.start(req, duration if not noop else 1.0, complete, fail,
                       location=vm["location"], resource_id=vm["id"])
    st["busy"] = op.id
    return Response(202, None, sim.ops.headers(op))


def _booted(sim):
    def done(vm):
        g = guest_of(sim, vm)
        if g is not None:
            _guest.boot(g)
    return done


@route("POST", VM + "/start", policy="UpdateVM")
def start_vm(sim, req):
    return _power_action(sim, req, "start", ("running", "stopped", "deallocated"), "starting",
                         "running", "vm_start", _booted(sim))


@route("POST", VM + "/powerOff", policy="UpdateVM")
def power_off_vm(sim, req):
    return _power_action(sim, req, "powerOff", ("running", "stopped", "deallocated"),
                         "stopping", "stopped", "vm_power_off")


@route("POST", VM + "/deallocate", policy="UpdateVM")
def deallocate_vm(sim, req):
    return _power_action(sim, req, "deallocate", ("running", "stopped", "deallocated"),
                         "deallocating", "deallocated", "vm_deallocate")


@route("POST", VM + "/restart", policy="UpdateVM")
def restart_vm(sim, req):
    return _power_action(sim, req, "restart", ("running",), "starting", "running",
                         "vm_restart", _booted(sim))


@route("POST", VM + "/generalize", policy="UpdateVM")
def generalize_vm(sim, req):
    vm = get_vm(sim, req)
    busy(sim, vm, "generalize")
    cur = power(sim, vm["id"])
    if cur not in ("stopped", "deallocated"):
        raise operation_not_allowed(
            f"Operation 'generalize' is not allowed on VM '{vm['name']}' since the VM is {cur}. "
            "Please stop (deallocate) the VM and try again.")
    st = state(sim, vm["id"])
    if not st.get("generalized"):
        st["generalized"] = True
        sim.hooks.emit("vm.generalized", vm_id=vm["id"], vm=vm)
    return Response(200, None)

