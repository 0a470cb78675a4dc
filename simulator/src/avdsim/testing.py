"""``SimServer``: the one way tests start the simulator.

    with SimServer(scenario="demo", time_scale=3000) as sim:
        compute = sim.compute_client()
        vms = list(compute.virtual_machines.list("rg-avd-demo"))
        sim.advance(600)
        print(sim.metrics()["requests"]["total"])
"""

from __future__ import annotations

import json
import os
import select
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request


class SimServerError(RuntimeError):
    pass


class SimServer:
    def __init__(self, scenario: str = "demo", time_scale: float | None = None,
                 clock_rate: float | None = None,
                 state_dir: str | None = None, startup_timeout: float = 30.0,
                 extra_args: list | None = None, verbose: bool = False):
        self.scenario = scenario
        self.time_scale = time_scale
        self.clock_rate = clock_rate
        self._own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="avdsim-test-")
        self.startup_timeout = startup_timeout
        self.extra_args = list(extra_args or [])
        self.verbose = verbose
        self.proc = None
        self.info: dict = {}
        self.env: dict = {}
        self.env_file = os.path.join(self.state_dir, "avdsim.env")
        self._ssl = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "SimServer":
        cmd = [sys.executable, "-m", "avdsim", "serve", "--port", "0", "--scenario",
               self.scenario, "--state-dir", self.state_dir, "--env-file", self.env_file]
        if self.time_scale is not None:
            cmd += ["--time-scale", str(self.time_scale)]
        if self.clock_rate is not None:
            cmd += ["--clock-rate", str(self.clock_rate)]
        if self.verbose:
            cmd.append("--verbose")
        cmd += self.extra_args
        self._stderr = open(os.path.join(self.state_dir, "avdsim.stderr.log"), "wb")
        # The child runs the very avdsim package this process imported (not whatever the venv's
        # editable install points at).
        src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                   else "")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, env=env)
        line = self._read_line(self.startup_timeout)
        try:
            self.info = json.loads(line)
        except ValueError:
            self.stop()
            raise SimServerError(f"avdsim printed no JSON line: {line!r}; "
                                 f"stderr: {self.stderr_text()[-2000:]}") from None
        self.env = {
            "AZURE_SUBSCRIPTION_ID": self.info["subscription_id"],
            "AZURE_CLIENT_ID": self.info["client_id"],
            "AZURE_SECRET": self.info["client_secret"],
            "AZURE_TENANT": self.info["tenant_id"],
            "AZURE_CLOUD_ENVIRONMENT": self.info["metadata_url"],
            "REQUESTS_CA_BUNDLE": self.info["ca_bundle"],
        }
        self._ssl = ssl.create_default_context(cafile=self.info["ca_bundle"])
        return self

    def _read_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise SimServerError(f"avdsim did not start within {timeout}s; stderr: "
                                     f"{self.stderr_text()[-2000:]}")
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.proc.wait(timeout=5)
                    raise SimServerError(f"avdsim exited with {self.proc.returncode}; stderr: "
                                         f"{self.stderr_text()[-2000:]}")
                buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def stderr_text(self) -> str:
        try:
            with open(os.path.join(self.state_dir, "avdsim.stderr.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()
        rc = self.proc.returncode
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- shortcuts --------------------------------------------------------------------------
    @property
    def arm_endpoint(self) -> str:
        return self.info["arm_endpoint"]

    @property
    def subscription_id(self) -> str:
        return self.info["subscription_id"]

    def _call(self, method: str, path: str, body=None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.arm_endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self._ssl, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def metrics(self) -> dict:
        return self._call("GET", "/_sim/metrics")

    def state(self) -> dict:
        return self._call("GET", "/_sim/state")

    def add_fault(self, **spec) -> dict:
        return self._call("POST", "/_sim/faults", spec)

    def clear_faults(self) -> dict:
        return self._call("DELETE", "/_sim/faults")

    def advance(self, seconds: float) -> dict:
        return self._call("POST", "/_sim/clock", {"advance_s": seconds})

    def clock(self) -> dict:
        return self._call("GET", "/_sim/clock")

    # -- real SDK clients -------------------------------------------------------------------
    def credential(self, secret: str | None = None):
        from azure.identity import ClientSecretCredential
        return ClientSecretCredential(
            self.info["tenant_id"], self.info["client_id"],
            secret if secret is not None else self.info["client_secret"],
            authority=self.info["authority_host"], disable_instance_discovery=True,
            connection_verify=self.info["ca_bundle"])

    def _client_kwargs(self, **kwargs):
        kw = {"base_url": self.arm_endpoint,
              "credential_scopes": [self.arm_endpoint + "/.default"],
              "connection_verify": self.info["ca_bundle"]}
        kw.update(kwargs)
        return kw

    def compute_client(self, credential=None, **kwargs):
        from azure.mgmt.compute import ComputeManagementClient
        return ComputeManagementClient(credential or self.credential(), self.subscription_id,
                                       **self._client_kwargs(**kwargs))

    def desktop_client(self, credential=None, **kwargs):
        from azure.mgmt.desktopvirtualization import DesktopVirtualizationMgmtClient
        return DesktopVirtualizationMgmtClient(credential or self.credential(),
                                               self.subscription_id,
                                               **self._client_kwargs(**kwargs))

    def network_client(self, credential=None, **kwargs):
        from azure.mgmt.network import NetworkManagementClient
        return NetworkManagementClient(credential or self.credential(), self.subscription_id,
                                       **self._client_kwargs(**kwargs))

    def resource_client(self, credential=None, **kwargs):
        from azure.mgmt.resource.resources import ResourceManagementClient
        return ResourceManagementClient(credential or self.credential(), self.subscription_id,
                                        **self._client_kwargs(**kwargs))
