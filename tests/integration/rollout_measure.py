"""Measure one rolling redeploy against the simulator: Azure time, controller time, ARM requests,
throttling and what users experienced. Used by ``tests/benchmarks/bench_rollout.py`` (make bench)
and by the honest-time test (same rollout idle and under load).

Azure time is the simulator's clock from the start to the end of ``playbooks/rollout.yml``: what
the same rollout takes against Azure, with operations, replication and users paced as Azure
paces them and the controller's own seconds counted once. The overhead-free figure of the same
schedule is the part of it the clock moved through waits the run kept (``waits_kept_s``: polls of
operations in progress, users leaving drained hosts, registrations), i.e. the makespan with a
controller that needs no time of its own; the rest is controller time counted once.
"""

from __future__ import annotations

import tempfile
import threading
import time

import rollout_support as rs
from helpers import ensure_collection_link, run_playbook

PHASES = {
    "create VM": ("PUT", "virtualMachines/{vmName}"),
    "extension": ("PUT", "extensions/{vmExtensionName}"),
    "drain": ("PATCH", "sessionHosts/{sessionHostName}"),
    "message": ("POST", "sendMessage"),
    "remove host": ("DELETE", "sessionHosts/{sessionHostName}"),
    "delete VM": ("DELETE", "virtualMachines/{vmName}"),
}
USER_KEYS = ("logon_attempts", "logon_failures", "forced_logoffs", "forced_logoffs_without_warning",
             "messages_sent")


def _phase_counts(metrics):
    counts = {}
    for op, n in metrics["requests"]["by_operation"].items():
        method = op.split(" ", 1)[0]
        for phase, (want, suffix) in PHASES.items():
            if method == want and op.endswith(suffix):
                counts[phase] = counts.get(phase, 0) + n
    return counts


def _sample(sim, stop, events, t0, sim0):
    last = {}
    while not stop.wait(0.2):
        try:
            metrics = sim.metrics()
        except Exception:  # pylint: disable=broad-except
            continue
        counts = _phase_counts(metrics)
        for phase, n in counts.items():
            if n != last.get(phase, 0):
                events.append((round(time.monotonic() - t0, 1), round(metrics["sim_time_s"] - sim0), phase,
                               n - last.get(phase, 0)))
        last = counts


def _waited(metrics):
    return sum(metrics["clock"]["waits_kept_s"].values())


def _waits(metrics):
    return rs.waits_kept(metrics)


def measure_rollout(hosts=20, surge="25%", time_scale=3000, poll_interval=0.02, seed=None, timeline=True,
                    clock_rate=None):
    """Roll a pool of ``hosts`` hosts (users on every host) to a new version; return the report."""
    from avdsim.testing import SimServer  # pylint: disable=import-outside-toplevel

    ensure_collection_link()
    scenario, _names = rs.big_pool_scenario(hosts=hosts)
    if seed is not None:
        scenario["seed"] = seed
    with tempfile.TemporaryDirectory() as tmp, \
            SimServer(scenario=rs.write_scenario(tmp, scenario), time_scale=time_scale,
                      clock_rate=clock_rate) as sim:
        rs.create_version(sim, "1.0.1")
        rs.move_marker(sim, "1.0.1")
        extra = {
            "host_pool": "hp-big", "resource_group": rs.RG,
            "session_host_rollout_surge": surge,
            "session_host_rollout_subnet_id": rs.subnet_id(sim),
            "session_host_rollout_admin_password": rs.ADMIN_PASSWORD,
            "session_host_rollout_join": {"type": "ad", "domain": "contoso.com", "user": "svc-join",
                                          "password": "Join-Pa55word!"},
            "session_host_rollout_drain_timeout": 5400,
            "session_host_rollout_lease_seconds": 30 * 86400,
            "session_host_rollout_poll_interval": poll_interval,
        }
        before = sim.metrics()
        events, stop = [], threading.Event()
        t0 = time.monotonic()
        sampler = threading.Thread(target=_sample, args=(sim, stop, events, t0, before["sim_time_s"]), daemon=True)
        if timeline:
            sampler.start()
        run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=extra, timeout=1800)
        controller_s = time.monotonic() - t0
        stop.set()
        if timeline:
            sampler.join(timeout=5)
        after = sim.metrics()
    delta = rs.requests_delta(before, after)
    result = {}
    try:
        result = run.task("Record the outcome")["ansible_facts"]["session_host_rollout_result"]
    except KeyError:
        pass
    azure_s = after["sim_time_s"] - before["sim_time_s"]
    waited_s = _waited(after) - _waited(before)
    capacity = rs.capacity_points(after, before["sim_time_s"])
    return {
        "hosts": hosts, "surge": surge, "time_scale": time_scale, "poll_interval": poll_interval, "rc": run.rc,
        "clock_rate": 1.0 if clock_rate is None else clock_rate,
        "batches": result.get("batches"),
        "azure_time_s": round(azure_s),
        "overhead_free_s": round(waited_s),
        "overhead_pct": round(100.0 * (azure_s - waited_s) / waited_s, 1) if waited_s else None,
        "controller_time_s": round(controller_s, 1),
        "role_arm_clock_s": result.get("duration_s"),
        "arm_requests": {key: delta[key] for key in ("total", "writes", "deletes", "throttled")},
        "arm_requests_per_host": round(delta["total"] / float(hosts), 1),
        # requests that kept a wait (a poll of an operation or of users leaving): as many as the
        # same run makes against Azure with 15 s polls; the rest is the rollout's own work
        "arm_requests_waiting": _waits(after) - _waits(before),
        "arm_requests_working_per_host": round((delta["total"] - (_waits(after) - _waits(before))) / float(hosts), 1),
        "errors_by_code": delta["errors_by_code"],
        "by_operation": dict(sorted(delta["by_operation"].items(), key=lambda kv: -kv[1])),
        "users": {key: after["users"][key] - before["users"][key] for key in USER_KEYS},
        "lowest_available_hosts": min((p[1] for p in capacity), default=None),
        "violations": after["violations"],
        "phases": [{"controller_s": e[0], "azure_s": e[1], "phase": e[2], "count": e[3]} for e in events],
        "stdout_tail": run.stdout[-3000:] if run.rc else "",
    }


def hours(seconds):
    return "%dh %02dm" % divmod(int(round(seconds / 60.0)), 60)


def render(report):
    lines = [
        "rollout of %d hosts, surge %s: rc=%s, %s batches" % (
            report["hosts"], report["surge"], report["rc"], report["batches"]),
        "Azure time (makespan) %s (%d s); overhead-free figure %s (%d s), %s %% above it" % (
            hours(report["azure_time_s"]), report["azure_time_s"], hours(report["overhead_free_s"]),
            report["overhead_free_s"], report["overhead_pct"]),
        "controller time %.1f s (real)" % report["controller_time_s"],
        "ARM requests: %(total)d (writes %(writes)d, deletes %(deletes)d, throttled %(throttled)d)"
        % report["arm_requests"] + " - %.1f per host; %d of them polls while waiting (15 s apart in Azure "
        "time), %.1f per host of work" % (report["arm_requests_per_host"], report["arm_requests_waiting"],
                                          report["arm_requests_working_per_host"]),
        "users: %s; lowest available hosts %s; violations %d" % (
            report["users"], report["lowest_available_hosts"], len(report["violations"])),
        "top operations:",
    ]
    lines.extend("  %5d  %s" % (n, op) for op, n in list(report["by_operation"].items())[:12])
    if report["phases"]:
        lines.append("phases (controller s / Azure s):")
        lines.extend("  %7.1f  %8d  %-12s +%d" % (e["controller_s"], e["azure_s"], e["phase"], e["count"])
                     for e in report["phases"])
    return "\n".join(lines)
