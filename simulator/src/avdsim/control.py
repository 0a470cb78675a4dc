"""Control API under /_sim/ (loopback only, no bearer token): metrics, faults, state, clock."""

from __future__ import annotations

from .errors import ArmError
from .routing import route
from .server import Response


@route("GET", "/_sim/metrics", auth=False, api_version=False)
def metrics(sim, req):
    return sim.metrics.snapshot(sim)


@route("GET", "/_sim/faults", auth=False, api_version=False)
def list_faults(sim, req):
    return {"faults": sim.faults.state(), "injected": sim.faults.injected,
            "by_status": dict(sim.faults.by_status)}


@route("POST", "/_sim/faults", auth=False, api_version=False)
def add_fault(sim, req):
    try:
        rule = sim.faults.add(req.json())
    except (ValueError, TypeError) as exc:
        raise ArmError(400, "InvalidFault", str(exc)) from None
    return Response(201, rule)


@route("DELETE", "/_sim/faults", auth=False, api_version=False)
def clear_faults(sim, req):
    n = len(sim.faults.rules)
    sim.faults.clear()
    return {"cleared": n}


@route("GET", "/_sim/state", auth=False, api_version=False)
def state(sim, req):
    return sim.state()


def _clock(sim):
    return {"sim_time_s": round(sim.clock.elapsed(), 3), "sim_now": sim.now_iso(),
            "real_time_s": round(sim.clock.real_elapsed(), 3), "time_scale": sim.clock.scale,
            "clock_rate": sim.clock.rate,
            **sim.pacer.state()}


@route("GET", "/_sim/clock", auth=False, api_version=False)
def get_clock(sim, req):
    return _clock(sim)


@route("POST", "/_sim/clock", auth=False, api_version=False)
def post_clock(sim, req):
    body = req.json()
    try:
        seconds = float(body.get("advance_s", 0))
    except (TypeError, ValueError):
        raise ArmError(400, "InvalidClock", "advance_s must be a number") from None
    if seconds < 0:
        raise ArmError(400, "InvalidClock", "advance_s must be >= 0 (time only moves forward)")
    sim.advance(seconds)
    return _clock(sim)
