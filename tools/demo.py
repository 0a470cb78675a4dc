"""`make demo`: the whole golden-image lifecycle against the simulator, and what it cost.

Starts ``avdsim --scenario demo``, runs ``playbooks/lifecycle.yml`` through ansible-runner (the
engine AWX uses) with the credential injected as AWX injects it, samples the simulator's clock
and request counters at every stage boundary, and prints a short report that is also written
as JSON to ``build/demo/report.json``. Exits non-zero when the playbook failed, when any
invariant violation was recorded, or when a host pool did not end on the version its marker
points at.

No secret is written under the output directory: the credential reaches ansible-playbook
through its environment, the generated admin password through an extra-vars file in a private
scratch directory removed after the job, and ansible-runner's ``command`` artifact (which
records the job's whole environment) stays in that scratch directory.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
# the report sorts versions with the collection's own rule (make demo makes build/collections first)
sys.path.insert(0, str(REPO / "build" / "collections"))

from demo_report import build_report, render_text  # noqa: E402


def _collections_path() -> Path:
    path = REPO / "build" / "collections"
    link = path / "ansible_collections" / "goldenimage" / "avd"
    if not link.exists():
        raise SystemExit(f"{link} is missing: run `make collection` (make demo does) first")
    return path


class StageClock:
    """Turns ansible-runner events into stages, each timed twice: Azure time (the simulator's
    clock: what the stage would take against Azure, the controller's own seconds counted once)
    with the part of it spent waiting for Azure and users, and controller time (real seconds)."""

    def __init__(self, sim, echo=print):
        self.sim = sim
        self.echo = echo
        self.stages: list[dict] = []
        self.failures: list[dict] = []
        self.artifact_data: dict = {}
        self._open: dict | None = None

    def _sample(self) -> dict:
        metrics = self.sim.metrics()
        return {"azure": metrics["sim_time_s"], "requests": metrics["requests"]["total"],
                "controller": time.monotonic(),
                "waited": sum((metrics.get("clock") or {}).get("waits_kept_s", {}).values()),
                "by_operation": dict(metrics["requests"]["by_operation"])}

    def _close(self):
        if self._open is None:
            return
        stage, start, end = self._open, self._open.pop("_start"), self._sample()
        stage["azure_time_s"] = round(end["azure"] - start["azure"], 1)
        stage["waited_s"] = round(end["waited"] - start["waited"], 1)
        stage["controller_time_s"] = round(end["controller"] - start["controller"], 1)
        stage["arm_requests"] = end["requests"] - start["requests"]
        ops = {op: n - start["by_operation"].get(op, 0) for op, n in end["by_operation"].items()}
        stage["by_operation"] = {op: n for op, n in sorted(ops.items()) if n}
        self.stages.append(stage)
        self._open = None

    def __call__(self, event: dict) -> bool:
        kind = event.get("event")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            self._close()
            self._open = {"name": data.get("play", ""), "_start": self._sample()}
            self.echo(f"==> {self._open['name']}")
        elif kind == "runner_on_ok" and data.get("task_action") in ("debug", "ansible.builtin.debug"):
            # The roles' progress lines (batch k of n, hosts waiting, users left, version tree).
            msg = (data.get("res") or {}).get("msg")
            for line in (msg if isinstance(msg, list) else [msg] if msg else []):
                self.echo(f"    {str(line).strip()}")
        elif kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            result = data.get("res", {})
            failure = {"stage": self._open["name"] if self._open else "", "host": data.get("host"),
                       "task": data.get("task"), "msg": result.get("msg", "")}
            self.failures.append(failure)
            self.echo(f"    ! {failure['host']}: {failure['task']}: {failure['msg']}")
        elif kind == "playbook_on_stats":
            self._close()
            self.artifact_data = data.get("artifact_data") or {}
        return True


def _extra_var(text: str) -> tuple:
    """``KEY=VALUE``; a VALUE that is JSON (a list, a mapping, a number) is passed as that value."""
    key, _sep, value = text.partition("=")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _observed_host_versions(sim, summary) -> dict:
    """The simulator's own answer, through the SDK: which image version each pool's session hosts run."""
    desktop, compute = sim.desktop_client(), sim.compute_client()
    observed = {}
    for image in (summary or {}).values():
        for pool in image.get("host_pools", []):
            versions = []
            for host in desktop.session_hosts.list(pool["resource_group"], pool["name"]):
                vm = compute.virtual_machines.get(pool["resource_group"], host.resource_id.rsplit("/", 1)[-1])
                versions.append(vm.storage_profile.image_reference.id.rsplit("/", 1)[-1])
            observed[pool["name"]] = sorted(versions)
    return observed


def _keep_artifacts(scratch: Path, dest: Path) -> None:
    """Copy the run's artifacts (stdout, job events, status, rc) to ``dest``, all but ``command``:
    ansible-runner writes the job's command line and environment there, credential included."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(scratch, dest, ignore=shutil.ignore_patterns("command"))


def _run_job(sim, args, out_dir: Path, clock: "StageClock"):
    """ansible-runner with the credential in the environment (as AWX injects it) and the admin
    password in an extra-vars file of a private scratch directory that is removed after the job:
    nothing secret is on a command line or in a file under ``out_dir``."""
    import ansible_runner

    envvars = {
        # As AWX's "Microsoft Azure Resource Manager" credential injects them.
        **{k: sim.env[k] for k in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_SECRET",
                                   "AZURE_TENANT", "AZURE_CLOUD_ENVIRONMENT")},
        "REQUESTS_CA_BUNDLE": sim.env["REQUESTS_CA_BUNDLE"],
        "ANSIBLE_COLLECTIONS_PATH": str(_collections_path()),
        "ANSIBLE_NOCOLOR": "1",
    }
    with tempfile.TemporaryDirectory(prefix="goldenimage-demo-") as scratch:
        secret_vars = Path(scratch) / "secret-extravars.json"
        fd = os.open(secret_vars, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            # New session hosts need a local admin password: DEMO_ADMIN_PASSWORD from the
            # environment, else a fresh one per run; never stored.
            password = os.environ.get("DEMO_ADMIN_PASSWORD") or "Av1!" + secrets.token_urlsafe(18)
            json.dump({"session_host_rollout_admin_password": password}, handle)
        try:
            return ansible_runner.run(
                private_data_dir=str(out_dir / "runner"),
                artifact_dir=str(Path(scratch) / "artifacts"),
                project_dir=str(REPO / "playbooks"),
                playbook="lifecycle.yml",
                inventory=str(REPO / "playbooks" / "inventories" / args.inventory),
                envvars=envvars,
                extravars=dict(_extra_var(kv) for kv in args.extra_vars),
                cmdline=f"-e @{shlex.quote(str(secret_vars))}",
                ident="demo",
                quiet=True,
                event_handler=clock,
                suppress_env_files=True,
                timeout=args.timeout,
            )
        finally:
            artifacts = Path(scratch) / "artifacts" / "demo"
            if artifacts.is_dir():
                _keep_artifacts(artifacts, out_dir / "runner" / "artifacts" / "demo")


def run(args) -> int:
    from avdsim.testing import SimServer

    out_dir = Path(args.out_dir).resolve()
    # A fresh private data dir: ansible-runner prefers env files left by an earlier run over the
    # values passed in, and this run's credential must not be written to disk at all.
    shutil.rmtree(out_dir / "runner", ignore_errors=True)
    (out_dir / "runner").mkdir(parents=True)
    # ansible-runner starts ansible-playbook from PATH: the one of this virtualenv.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    _collections_path()
    started = time.monotonic()
    sim_kwargs = {"scenario": args.scenario}
    if args.time_scale:
        sim_kwargs["time_scale"] = args.time_scale
    with SimServer(**sim_kwargs) as sim:
        print(f"avdsim is serving scenario '{args.scenario}' at {sim.env['AZURE_CLOUD_ENVIRONMENT'].split('/metadata')[0]}")
        clock = StageClock(sim)
        result = _run_job(sim, args, out_dir, clock)
        metrics = sim.metrics()
        observed = _observed_host_versions(sim, clock.artifact_data.get("goldenimage_lifecycle"))
        # What ran is the product's own view (the lifecycle's summary); the simulator's metrics
        # say what it cost and how users fared.
        report = build_report(
            status=result.status, rc=result.rc, stages=clock.stages, failures=clock.failures,
            summary=clock.artifact_data.get("goldenimage_lifecycle"), metrics=metrics,
            controller_time_s=time.monotonic() - started, time_scale=sim.info.get("time_scale"),
            observed=observed,
        )
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(render_text(report))
    print(f"\nJSON report: {_shown(out_dir / 'report.json')}"
          f"  full job output: {_shown(out_dir / 'runner' / 'artifacts' / 'demo' / 'stdout')}")
    return 0 if report["result"] == "passed" else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--inventory", default="demo", help="directory under playbooks/inventories")
    parser.add_argument("--time-scale", type=float, default=None,
                        help="how many times sooner than Azure the simulator asks clients to come back "
                             "(default: the scenario's); Azure time does not depend on it")
    parser.add_argument("--timeout", type=int, default=900,
                        help="real seconds before the job is stopped (the demo takes about one to two minutes)")
    parser.add_argument("--out-dir", default=str(REPO / "build" / "demo"),
                        help="where report.json and the runner's private data dir go")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra variable; a JSON VALUE (list, mapping) is passed as that value")
    args = parser.parse_args(argv)
    os.chdir(REPO)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
