"""Long-running operations, the way Microsoft.Compute runs them.

A provider starts an operation and answers the initial request with the headers from
``headers()``; the SDK then polls the ``Azure-AsyncOperation`` URL
(``/subscriptions/{sub}/providers/{namespace}/locations/{loc}/{kind}/{id}``) which returns
``{"startTime", "status", "name"[, "endTime", "error", "properties": {"output"}]}``, and for
POST actions finally GETs the ``Location`` URL (same path with ``monitor=true``), which
answers 202 while running and 200 with the operation's result (or an empty body) after.

Polling hints are simulated seconds converted to real time: ``Retry-After`` (whole seconds)
when the real interval is at least a second, otherwise only ``retry-after-ms``. The simulated
wait travels in the internal ``pacing.WAIT_HEADER``, so the clock moves to the time the client
was asked to come back at when it does (``avdsim.pacing``).
"""

from __future__ import annotations

import uuid

from .clock import iso
from .errors import ArmError
from .pacing import wait_header

TERMINAL = ("Succeeded", "Failed", "Canceled")


class Operation:
    def __init__(self, op_id, namespace, kind, location, subscription, api_version, start):
        self.id = op_id
        self.namespace = namespace
        self.kind = kind
        self.location = location
        self.subscription = subscription
        self.api_version = api_version
        self.status = "InProgress"
        self.start = start
        self.end = None
        self.due = None
        self.error: dict | None = None
        self.error_status = 500
        self.result = None            # body of the final Location GET (None = empty body)
        self.output_in_status = False  # DiskRP puts the result under properties.output
        self.resource_id = None
        self.fault = None

    def status_body(self) -> dict:
        body = {"startTime": iso(self.start), "status": self.status, "name": self.id}
        if self.end is not None:
            body["endTime"] = iso(self.end)
        if self.status == "Failed" and self.error:
            body["error"] = self.error
        if self.status == "Succeeded" and self.output_in_status and self.result is not None:
            body["properties"] = {"output": self.result}
        return body


class Operations:
    def __init__(self, sim):
        self.sim = sim
        self.ops: dict[str, Operation] = {}

    # -- starting and finishing -------------------------------------------------------------
    def start(self, req, duration_s: float, complete=None, fail=None, *, location: str,
              kind: str = "operations", namespace: str = "Microsoft.Compute",
              resource_id: str | None = None, output_in_status: bool = False) -> Operation:
        """Start an operation that completes after ``duration_s`` simulated seconds.

        ``complete()`` runs at completion (under the simulator lock) and returns the result
        (body of the final Location GET / DiskRP output) or None; raising ``ArmError`` fails
        the operation with that error. ``fail(error_dict)`` runs when the operation fails
        (injected ``lro_fail`` fault or ``complete`` raising) so the provider can set
        ``provisioningState: Failed``.
        """
        op = Operation(str(uuid.uuid4()), namespace, kind, location.replace(" ", "").lower(),
                       req.subscription_id, req.api_version, self.sim.now())
        op.output_in_status = output_in_status
        op.resource_id = resource_id
        op.fault = getattr(req, "lro_fault", None)
        self.ops[op.id.lower()] = op
        op.due = op.start + max(0.0, float(duration_s))
        self.sim.pacer.expect(resource_id, op.due)
        self.sim.scheduler.at(op.due, self._complete, op, complete, fail)
        return op

    def _complete(self, op: Operation, complete, fail):
        if op.status in TERMINAL:
            return
        if op.fault is not None:
            f = op.fault
            self.fail_op(op, {"code": f.get("code") or "InternalExecutionError",
                              "message": f.get("message") or "An internal execution error occurred. Please retry later."},
                         fail, status=int(f.get("status") or 500))
            return
        try:
            result = complete() if complete else None
        except ArmError as exc:
            self.fail_op(op, exc.error_object(), fail, status=exc.status)
            return
        self.succeed(op, result)

    def succeed(self, op: Operation, result=None):
        op.status = "Succeeded"
        op.end = self.sim.now()
        op.result = result

    def fail_op(self, op: Operation, error: dict, fail=None, status: int = 500):
        op.status = "Failed"
        op.end = self.sim.now()
        op.error = error
        op.error_status = status
        if fail:
            fail(error)

    def get(self, op_id: str) -> Operation | None:
        return self.ops.get(op_id.lower())

    # -- wire helpers -----------------------------------------------------------------------
    def urls(self, op: Operation) -> tuple[str, str]:
        base = (f"{self.sim.base_url}/subscriptions/{op.subscription}/providers/{op.namespace}"
                f"/locations/{op.location}/{op.kind}/{op.id}")
        return (f"{base}?api-version={op.api_version}",
                f"{base}?monitor=true&api-version={op.api_version}")

    def retry_headers(self, op: Operation | None = None) -> dict:
        interval = float(self.sim.poll_interval_s)
        if op is not None and op.status not in TERMINAL and op.due is not None:
            remaining = op.due - self.sim.now()
            interval = min(interval, max(1.0, remaining))
        real = self.sim.clock.real_seconds(interval)
        if real >= 1.0:
            hint = {"Retry-After": str(int(round(real)))}
        else:
            hint = {"retry-after-ms": str(max(5, int(real * 1000)))}
        return {**hint, **wait_header(interval)}

    def headers(self, op: Operation, location: bool = True) -> dict:
        async_url, location_url = self.urls(op)
        h = {"Azure-AsyncOperation": async_url}
        if location:
            h["Location"] = location_url
        h.update(self.retry_headers(op))
        return h
