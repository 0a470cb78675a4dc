"""VM rendering: the resource body (with its extensions) and the instance view."""

from __future__ import annotations

import copy

from ..clock import iso
from ..vmstate import EXT_TYPE, attached_disk_ids, guest_of, state
from .common import render_extension

POWER_DISPLAY = {"running": "VM running", "stopped": "VM stopped",
                 "deallocated": "VM deallocated", "starting": "VM starting",
                 "stopping": "VM stopping", "deallocating": "VM deallocating"}


def _status(code, display, time=None, level="Info"):
    s = {"code": code, "level": level, "displayStatus": display}
    if time:
        s["time"] = time
    return s


def instance_view(sim, vm: dict) -> dict:
    st = state(sim, vm["id"])
    pstate = vm["properties"]["provisioningState"]
    statuses = [_status(f"ProvisioningState/{pstate.lower()}",
                        "Provisioning succeeded" if pstate == "Succeeded" else pstate,
                        st.get("provisioning_time"))]
    if pstate not in ("Creating",) or st.get("power"):
        p = st.get("power", "deallocated")
        statuses.append(_status(f"PowerState/{p}", POWER_DISPLAY[p]))
    if st.get("generalized"):
        statuses.append(_status("OSState/generalized", "VM generalized"))
    g = guest_of(sim, vm) or {}
    # a guest sysprepped with /oobe boots into OOBE: no VM agent reports
    running = st.get("power") == "running" and not g.get("generalized")
    view = {
        "computerName": g.get("computer_name") or vm["properties"].get("osProfile", {}).get(
            "computerName"),
        "osName": g.get("os", {}).get("name", "Windows"),
        "osVersion": g.get("os", {}).get("build", ""),
        "hyperVGeneration": st.get("hyper_v_generation", "V2"),
        "vmAgent": {"vmAgentVersion": "2.7.41491.1102" if running else "Unknown",
                    "statuses": [_status("ProvisioningState/succeeded", "Ready",
                                         iso(sim.now()))] if running else [
                        _status("ProvisioningState/Unavailable", "Not Ready", None, "Warning")],
                    "extensionHandlers": []},
        "disks": [{"name": sim.store.get(d)["name"],
                   "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded",
                                        st.get("provisioning_time"))]}
                  for d in attached_disk_ids(vm) if sim.store.get(d)],
        "extensions": [{"name": e["name"], "type": e["properties"].get("type"),
                        "typeHandlerVersion": e["properties"].get("typeHandlerVersion"),
                        "statuses": [_status(
                            f"ProvisioningState/{e['properties']['provisioningState'].lower()}",
                            "Provisioning " + e["properties"]["provisioningState"].lower())]}
                       for e in sim.store.list(EXT_TYPE, vm["id"].lower() + "/")],
        "statuses": statuses,
    }
    return view


def render(sim, vm: dict, expand_instance_view: bool = False) -> dict:
    body = copy.deepcopy(vm)
    exts = sim.store.list(EXT_TYPE, vm["id"].lower() + "/")
    if exts:
        body["resources"] = [render_extension(e) for e in exts]
    if expand_instance_view:
        body["properties"]["instanceView"] = instance_view(sim, vm)
    return body

