"""Run Command on a VM: the ``runCommand`` action and the ``runCommands`` child resources.
Scripts run in the guest model (``guest.run_op``); sysprep continues detached."""

from __future__ import annotations

import copy

from .. import guest as _guest
from ..arm import paged, set_tags, validate_tags
from ..clock import iso
from ..errors import ArmError, invalid_parameter
from ..routing import route
from ..server import Response
from ..vmstate import RUNCMD_TYPE, guest_of, power, set_power, state
from .common import VM, child_id, get_child, get_vm


def _require_running(sim, vm):
    if power(sim, vm["id"]) != "running" or vm["properties"]["provisioningState"] in (
            "Creating", "Deleting"):
        raise ArmError(409, "Conflict", "The operation requires the VM to be running (or set to "
                       "run).")


class _AgentNotReady(Exception):
    def __init__(self, vm_name):
        super().__init__(vm_name)
        self.error = ArmError(409, "VMAgentStatusCommunicationError",
                              f"VM '{vm_name}' has not reported status for VM agent or "
                              "extensions. Verify that the OS is up and healthy, the VM has a "
                              "running VM agent, and that it can establish outbound connections "
                              "to Azure storage.")


def _execute(sim, req, vm, script, parameters):
    """Run a script in the guest. Returns (OpResult, duration_s)."""
    g = guest_of(sim, vm)
    op_name = _guest.parse_op(script)
    if g is None:
        return _guest.OpResult(), sim.duration("run_command")
    if g.get("generalized"):
        # The guest sits in OOBE after sysprep: the VM agent never reports, the command never
        # runs and Compute gives up.
        raise _AgentNotReady(vm["name"])
    res = _guest.run_op(g, op_name, parameters)
    if res.detached == "sysprep":
        fault = getattr(req, "lro_fault", None)
        # an lro_fail fault on a sysprep run command fails sysprep itself, not the command
        if fault is not None:
            req.lro_fault = None
        _start_sysprep(sim, vm, g, fault)
        return res, sim.duration("run_command_detached")
    return res, sim.duration("run_command")


def _start_sysprep(sim, vm, g, fault):
    vm_id = vm["id"]
    sim.hooks.emit("guest.sysprep_started", vm_id=vm_id, vm=vm, guest=g)

    def finish():
        cur = sim.store.get(vm_id)
        forced = None
        if fault is not None:
            forced = fault.get("message") or f"injected failure ({fault.get('code') or 'fault'})"
        if cur is None or power(sim, vm_id) != "running":
            g["sysprep_running"] = False
            return
        ok = _guest.finish_sysprep(g, sim.now(), forced)
        sim.hooks.emit("guest.sysprep_finished", vm_id=vm_id, vm=cur, guest=g, succeeded=ok)
        if ok:
            # sysprep /shutdown: the guest shuts down; Azure shows the VM stopped (allocated)
            set_power(sim, cur, "stopped")

    sim.schedule(sim.duration("sysprep"), finish)
    sim.pacer.expect(vm_id, sim.now() + sim.duration("sysprep"))  # the guest shuts down by itself


def _run_result(res) -> dict:
    return {"value": [
        {"code": "ComponentStatus/StdOut/succeeded", "level": "Info",
         "displayStatus": "Provisioning succeeded", "message": _guest.tail_bytes(res.stdout)},
        {"code": "ComponentStatus/StdErr/succeeded", "level": "Info",
         "displayStatus": "Provisioning succeeded", "message": _guest.tail_bytes(res.stderr)},
    ]}


@route("POST", VM + "/runCommand", policy="UpdateVM")
def run_command(sim, req):
    vm = get_vm(sim, req)
    body = req.json()
    if not body.get("commandId"):
        raise invalid_parameter("Required parameter 'commandId' is missing (null).", "commandId")
    script = body.get("script") or []
    if not isinstance(script, list):
        raise invalid_parameter("'script' must be an array of lines.", "script")
    _require_running(sim, vm)
    st = state(sim, vm["id"])
    if st.get("run_command_busy"):
        op = sim.ops.get(st["run_command_busy"])
        if op is not None and op.status == "InProgress":
            raise ArmError(409, "Conflict", "Run command extension execution is in progress. "
                           "Please wait for completion before invoking a run command.")
    # The guest effect happens when the script runs; the result is returned at completion.
    try:
        res, duration = _execute(sim, req, vm, script, body.get("parameters"))
        result, agent_error = _run_result(res), None
    except _AgentNotReady as exc:
        duration, result, agent_error = sim.duration("run_command"), None, exc.error

    def complete():
        st["run_command_busy"] = None
        if agent_error is not None:
            raise agent_error
        return result

    def fail(error):
        st["run_command_busy"] = None

    op = sim.ops.start(req, duration, complete, fail, location=vm["location"],
                       resource_id=vm["id"])
    st["run_command_busy"] = op.id
    return Response(202, None, sim.ops.headers(op))


def _runcmd_id(req):
    return child_id(req, "runCommands", "runCommandName")


def render_runcmd(sim, rc: dict, expand: bool) -> dict:
    body = copy.deepcopy(rc)
    body["properties"].pop("protectedParameters", None)
    if not expand:
        body["properties"].pop("instanceView", None)
    return body


def _runcmd_body(sim, req, vm: dict, rid: str, existed: bool, body: dict) -> dict:
    props = body.get("properties") or {}
    rc = {"id": rid, "name": req.param("runCommandName"), "type": RUNCMD_TYPE,
          "location": vm["location"],
          "properties": {"source": copy.deepcopy(props.get("source") or {}),
                         "parameters": copy.deepcopy(props.get("parameters") or []),
                         "asyncExecution": bool(props.get("asyncExecution", False)),
                         "timeoutInSeconds": int(props.get("timeoutInSeconds", 0) or 0),
                         "treatFailureAsDeploymentFailure": bool(
                             props.get("treatFailureAsDeploymentFailure", False)),
                         "provisioningState": "Updating" if existed else "Creating",
                         "instanceView": {"executionState": "Running",
                                          "executionMessage": "", "exitCode": 0,
                                          "output": "", "error": "",
                                          "startTime": iso(sim.now()), "statuses": []}}}
    if props.get("runAsUser"):
        rc["properties"]["runAsUser"] = props["runAsUser"]
    tags = validate_tags(body.get("tags"))
    if tags:
        rc["tags"] = tags
    return rc


def _finish_runcmd(sim, rc: dict, res, agent_error) -> None:
    """The run command's instance view and provisioning state when the script has run."""
    if agent_error is not None:
        rc["properties"]["instanceView"].update({"executionState": "Failed",
                                                 "executionMessage": agent_error.message,
                                                 "exitCode": -1})
        rc["properties"]["provisioningState"] = "Failed"
        raise agent_error
    iv = rc["properties"]["instanceView"]
    iv.update({"executionState": "Succeeded" if res.exit_code == 0 else "Failed",
               "executionMessage": "Execution completed" if res.exit_code == 0 else
               "Execution failed", "exitCode": res.exit_code,
               "output": _guest.tail_bytes(res.stdout),
               "error": _guest.tail_bytes(res.stderr), "endTime": iso(sim.now())})
    if res.exit_code != 0 and rc["properties"]["treatFailureAsDeploymentFailure"]:
        rc["properties"]["provisioningState"] = "Failed"
        raise ArmError(400, "VMExtensionProvisioningError",
                       f"Run command {rc['name']} failed with exit code {res.exit_code}.")
    rc["properties"]["provisioningState"] = "Succeeded"


@route("PUT", VM + "/runCommands/{runCommandName}")
def put_run_command(sim, req):
    vm = get_vm(sim, req)
    body = req.json()
    props = body.get("properties") or {}
    source = props.get("source") or {}
    if not (source.get("script") or source.get("scriptUri") or source.get("commandId")):
        raise invalid_parameter("One of 'source.script', 'source.scriptUri' or "
                                "'source.commandId' is required.", "source")
    _require_running(sim, vm)
    rid = _runcmd_id(req)
    existed = sim.store.exists(rid)
    rc = _runcmd_body(sim, req, vm, rid, existed, body)
    sim.store.put(rid, rc)
    sim.store.internal(rid)["protectedParameters"] = props.get("protectedParameters") or []
    sim.hooks.emit("resource.written", resource_id=rid, resource=rc, request_body=body)
    try:
        res, duration = _execute(sim, req, vm, (source.get("script") or "").splitlines(),
                                 (props.get("parameters") or []) +
                                 (props.get("protectedParameters") or []))
        agent_error = None
    except _AgentNotReady as exc:
        res, duration, agent_error = _guest.OpResult(), sim.duration("run_command"), exc.error

    def complete():
        _finish_runcmd(sim, rc, res, agent_error)
        return None

    def fail(error):
        rc["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, duration, complete, fail, location=vm["location"], resource_id=rid)
    return Response(200 if existed else 201, render_runcmd(sim, rc, False),
                    sim.ops.headers(op, location=False))


@route("PATCH", VM + "/runCommands/{runCommandName}")
def patch_run_command(sim, req):
    """Update a run command: changed source/parameters run it again; tags replace."""
    vm, rc = get_child(sim, req, "runCommands", "runCommandName", RUNCMD_TYPE)
    rid = _runcmd_id(req)
    patch = req.json()
    props = patch.get("properties") or {}
    set_tags(rc, patch, False)
    if not (props.get("source") or "parameters" in props or "protectedParameters" in props):
        rc["properties"]["provisioningState"] = "Updating"

        def complete():
            rc["properties"]["provisioningState"] = "Succeeded"
            return None

        op = sim.ops.start(req, 5.0, complete, None, location=vm["location"], resource_id=rid)
        sim.hooks.emit("resource.written", resource_id=rid, resource=rc, request_body=patch)
        return Response(200, render_runcmd(sim, rc, False), sim.ops.headers(op, location=False))
    merged = {"location": rc["location"], "tags": rc.get("tags"), "properties": {
        "source": props.get("source") or rc["properties"]["source"],
        "parameters": props.get("parameters", rc["properties"]["parameters"]),
        "protectedParameters": props.get("protectedParameters",
                                         sim.store.internal(rid).get("protectedParameters")),
        "asyncExecution": props.get("asyncExecution", rc["properties"]["asyncExecution"]),
        "treatFailureAsDeploymentFailure": props.get(
            "treatFailureAsDeploymentFailure",
            rc["properties"]["treatFailureAsDeploymentFailure"])}}
    req._json = merged  # the PUT path validates and runs it  # pylint: disable=protected-access
    resp = put_run_command(sim, req)
    resp.status = 200
    return resp


@route("GET", VM + "/runCommands/{runCommandName}")
def get_run_command(sim, req):
    _vm, rc = get_child(sim, req, "runCommands", "runCommandName", RUNCMD_TYPE)
    return render_runcmd(sim, rc, (req.query.get("$expand") or "").lower() == "instanceview")


@route("GET", VM + "/runCommands")
def list_run_commands(sim, req):
    vm = get_vm(sim, req)
    expand = (req.query.get("$expand") or "").lower() == "instanceview"
    return paged(sim, req, [render_runcmd(sim, r, expand)
                            for r in sim.store.list(RUNCMD_TYPE, vm["id"].lower() + "/")])


@route("DELETE", VM + "/runCommands/{runCommandName}")
def delete_run_command(sim, req):
    vm = get_vm(sim, req)
    rid = _runcmd_id(req)
    if not sim.store.exists(rid):
        return Response(204, None)

    def complete():
        sim.store.delete(rid)
        return None

    op = sim.ops.start(req, 10.0, complete, None, location=vm["location"], resource_id=rid)
    return Response(202, None, sim.ops.headers(op))

