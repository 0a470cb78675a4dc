"""Benchmark: roll a 20-host pool (surge 25%) to a new image version against the simulator.

Not a timed test: it prints what one rollout costs. Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_rollout.py [--hosts 20] [--surge 25%] [--time-scale 3000]

Reports ARM requests (total, reads/writes/deletes, by operation, throttled), simulated duration
(the simulator's clock), real wall time, user impact (logon failures, forced log-offs, lowest
capacity during the rollout) and a phase timeline (when VM creates, drains and deletes happened,
on both clocks), sampled from /_sim/metrics while the playbook runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "integration"))

import rollout_support as rs  # noqa: E402  pylint: disable=wrong-import-position
from helpers import ensure_collection_link, run_playbook  # noqa: E402  pylint: disable=wrong-import-position

PHASES = {
    "create VM": ("PUT", "virtualMachines/{vmName}"),
    "extension": ("PUT", "extensions/{vmExtensionName}"),
    "drain": ("PATCH", "sessionHosts/{sessionHostName}"),
    "message": ("POST", "sendMessage"),
    "remove host": ("DELETE", "sessionHosts/{sessionHostName}"),
    "delete VM": ("DELETE", "virtualMachines/{vmName}"),
}


def _phase_counts(metrics):
    counts = {}
    for op, n in metrics["requests"]["by_operation"].items():
        method = op.split(" ", 1)[0]
        for phase, (want, suffix) in PHASES.items():
            if method == want and op.endswith(suffix):
                counts[phase] = counts.get(phase, 0) + n
    return counts


def sample(sim, stop, events, t0, sim0):
    last = {}
    while not stop.is_set():
        try:
            metrics = sim.metrics()
        except Exception:  # pylint: disable=broad-except
            time.sleep(0.2)
            continue
        counts = _phase_counts(metrics)
        for phase, n in counts.items():
            if n != last.get(phase, 0):
                events.append((round(time.monotonic() - t0, 1), round(metrics["sim_time_s"] - sim0), phase,
                               n - last.get(phase, 0)))
        last = counts
        time.sleep(0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--surge", default="25%")
    parser.add_argument("--time-scale", type=float, default=3000)
    parser.add_argument("--poll-interval", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    args = parser.parse_args(argv)

    from avdsim.testing import SimServer  # pylint: disable=import-outside-toplevel

    ensure_collection_link()
    scenario, _names = rs.big_pool_scenario(hosts=args.hosts)
    with tempfile.TemporaryDirectory() as tmp, \
            SimServer(scenario=rs.write_scenario(tmp, scenario), time_scale=args.time_scale) as sim:
        rs.create_version(sim, "1.0.1")
        rs.move_marker(sim, "1.0.1")
        extra = {
            "host_pool": "hp-big", "resource_group": rs.RG,
            "session_host_rollout_surge": args.surge,
            "session_host_rollout_subnet_id": rs.subnet_id(sim),
            "session_host_rollout_admin_password": rs.ADMIN_PASSWORD,
            "session_host_rollout_join": {"type": "ad", "domain": "contoso.com", "user": "svc-join",
                                          "password": "Join-Pa55word!"},
            "session_host_rollout_drain_timeout": 5400,
            "session_host_rollout_lease_seconds": 30 * 86400,
            "session_host_rollout_poll_interval": args.poll_interval,
        }
        before = sim.metrics()
        events = []
        stop = threading.Event()
        t0 = time.monotonic()
        sampler = threading.Thread(target=sample, args=(sim, stop, events, t0, before["sim_time_s"]), daemon=True)
        sampler.start()
        run = run_playbook(sim, "playbooks/rollout.yml", extra_vars=extra)
        real_s = time.monotonic() - t0
        stop.set()
        sampler.join(timeout=5)
        after = sim.metrics()
        delta = rs.requests_delta(before, after)
        result = {}
        try:
            result = run.task("Record the outcome")["ansible_facts"]["session_host_rollout_result"]
        except KeyError:
            pass
        timeline = rs.capacity_points(after, before["sim_time_s"])
        report = {
            "hosts": args.hosts, "surge": args.surge, "time_scale": args.time_scale, "rc": run.rc,
            "batches": result.get("batches"),
            "real_wall_s": round(real_s, 1),
            "simulated_s": round(after["sim_time_s"] - before["sim_time_s"]),
            "role_arm_clock_s": result.get("duration_s"),
            "arm_requests": {key: delta[key] for key in ("total", "writes", "deletes", "throttled")},
            "arm_requests_per_replaced_host": round(delta["total"] / float(args.hosts), 1),
            "by_operation": dict(sorted(delta["by_operation"].items(), key=lambda kv: -kv[1])),
            "users": {key: after["users"][key] - before["users"][key]
                      for key in ("logon_attempts", "logon_failures", "forced_logoffs",
                                  "forced_logoffs_without_warning", "messages_sent")},
            "lowest_available_hosts": min((p[1] for p in timeline), default=None),
            "violations": after["violations"],
            "phases": [{"real_s": e[0], "sim_s": e[1], "phase": e[2], "count": e[3]} for e in events],
        }
        if args.json:
            print(json.dumps(report, indent=1))
        else:
            print("rollout of %d hosts, surge %s, time scale %g: rc=%s, %s batches" % (
                args.hosts, args.surge, args.time_scale, run.rc, report["batches"]))
            print("real wall time %.1f s; simulated %d s (%.1f h)" % (
                report["real_wall_s"], report["simulated_s"], report["simulated_s"] / 3600.0))
            print("ARM requests: %(total)d (writes %(writes)d, deletes %(deletes)d, throttled %(throttled)d)"
                  % report["arm_requests"], "- %.1f per host" % report["arm_requests_per_replaced_host"])
            print("users: %s; lowest available hosts %s; violations %d" % (
                report["users"], report["lowest_available_hosts"], len(report["violations"])))
            print("top operations:")
            for op, n in list(report["by_operation"].items())[:12]:
                print("  %5d  %s" % (n, op))
            print("phases (real s / simulated s):")
            for event in report["phases"]:
                print("  %7.1f  %8d  %-12s +%d" % (event["real_s"], event["sim_s"], event["phase"], event["count"]))
        if run.rc != 0:
            print(run.stdout[-3000:], file=sys.stderr)
        return 0 if run.rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
