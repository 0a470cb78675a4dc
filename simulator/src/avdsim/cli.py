"""``avdsim serve``: start the simulator and print one JSON line when ready."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import threading
import time

from . import scenario as _scenario
from .durations import DEFAULT_TIME_SCALE


def _parser():
    p = argparse.ArgumentParser(prog="avdsim", description="Local Azure control-plane simulator")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the simulated ARM endpoint over HTTPS")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    s.add_argument("--scenario", default="demo", help="bundled scenario name or YAML path")
    s.add_argument("--time-scale", type=float, default=None,
                   help=f"how many times sooner than Azure clients are asked to come back "
                        f"(default {DEFAULT_TIME_SCALE:g}, or the scenario's time_scale)")
    s.add_argument("--clock-rate", type=float, default=None,
                   help="simulated seconds per real second while no client waits (default 1, or "
                        "the scenario's clock_rate; 0: only waits move the clock, so a run does "
                        "not depend on how fast its client is)")
    s.add_argument("--env-file", default=None, help="write export lines for AZURE_* here")
    s.add_argument("--state-dir", default=None,
                   help="directory for the CA and server certificate (default: a new temp dir)")
    s.add_argument("--verbose", action="store_true", help="log every request to stderr")
    sub.add_parser("scenarios", help="list bundled scenarios")
    return p


def serve(args) -> int:
    from .server import SimHTTPServer, Ticker, make_ssl_context
    from .sim import Simulator
    from .tls import ensure_certificates

    t0 = time.monotonic()
    scen = _scenario.load(args.scenario)
    sim = Simulator(scen, args.time_scale, clock_rate=args.clock_rate)
    state_dir = os.path.abspath(args.state_dir or tempfile.mkdtemp(prefix="avdsim-"))
    certs = ensure_certificates(state_dir)
    server = SimHTTPServer((args.host, args.port), sim,
                           make_ssl_context(certs["cert"], certs["key"]), verbose=args.verbose)
    port = server.server_address[1]
    host = args.host if args.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    sim.base_url = f"https://{host}:{port}"
    sim.load_scenario()
    ticker = Ticker(sim)
    ticker.start()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="avdsim-http", daemon=True)
    thread.start()

    info = {"arm_endpoint": sim.base_url, "authority_host": sim.base_url,
            "metadata_url": f"{sim.base_url}/metadata/endpoints?api-version=2022-09-01",
            "ca_bundle": certs["ca"], "tenant_id": sim.identity.tenant_id,
            "subscription_id": sim.subscription_id, "client_id": sim.identity.client_id,
            "client_secret": sim.identity.client_secret,
            "time_scale": sim.clock.scale, "clock_rate": sim.clock.rate, "state_dir": state_dir,
            "startup_s": round(time.monotonic() - t0, 3), "pid": os.getpid()}
    if args.env_file:
        env = {"AZURE_SUBSCRIPTION_ID": info["subscription_id"],
               "AZURE_CLIENT_ID": info["client_id"], "AZURE_SECRET": info["client_secret"],
               "AZURE_TENANT": info["tenant_id"], "AZURE_CLOUD_ENVIRONMENT": info["metadata_url"],
               "REQUESTS_CA_BUNDLE": info["ca_bundle"]}
        tmp = args.env_file + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            for k, v in env.items():
                f.write(f"export {k}={shlex.quote(v)}\n")
        os.replace(tmp, args.env_file)

    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        if not thread.is_alive():
            print("avdsim: HTTP server thread died", file=sys.stderr)
            return 1
    ticker.stop_event.set()
    server.shutdown()
    server.server_close()
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "scenarios":
        print("\n".join(_scenario.bundled()))
        return 0
    try:
        return serve(args)
    except ValueError as exc:
        print(f"avdsim: {exc}", file=sys.stderr)
        return 2
