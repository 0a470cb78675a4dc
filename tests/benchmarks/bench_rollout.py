"""Benchmark: roll a 20-host and a 100-host pool (surge 25%) to a new image version against the simulator.

Not a timed test: it prints what each rollout costs. Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_rollout.py [--hosts 20 100] [--surge 25%] [--json]

For each pool size, in a fresh simulator: Azure time (the makespan on the simulator's clock, which
moves only through the waits the run keeps and otherwise at the speed of real time), the
overhead-free figure of the same schedule (the part of the makespan spent waiting for Azure and
users: what a controller that needs no time of its own would take) and how far the makespan is
above it, controller time (real seconds), ARM requests (total, per host, throttled), user impact
(logon failures, forced log-offs, lowest capacity) and a phase timeline on both clocks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from rollout_measure import measure_rollout, render  # noqa: E402  pylint: disable=wrong-import-position


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--surge", default="25%")
    parser.add_argument("--time-scale", type=float, default=3000,
                        help="how many times sooner than Azure the simulator asks clients to come back")
    parser.add_argument("--poll-interval", type=float, default=0.005,
                        help="real seconds between the role's own polls (each counts as 15 s of Azure time)")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON only")
    args = parser.parse_args(argv)

    reports = []
    for hosts in args.hosts:
        report = measure_rollout(hosts=hosts, surge=args.surge, time_scale=args.time_scale,
                                 poll_interval=args.poll_interval)
        reports.append(report)
        if not args.json:
            print(render(report) + "\n", flush=True)
        if report["rc"] != 0:
            print(report["stdout_tail"], file=sys.stderr)
    if args.json:
        print(json.dumps(reports, indent=1))
    return 0 if all(r["rc"] == 0 for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
