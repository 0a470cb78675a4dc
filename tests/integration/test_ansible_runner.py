"""Jobs the way AWX / Automation Platform runs them: ansible-runner with a private data dir.

AWX syncs a project (here: the repository's playbooks), installs the collection into the job's
collections path, writes the inventory, and injects the "Microsoft Azure Resource Manager"
credential as environment variables (``AZURE_CLIENT_ID``, ``AZURE_SECRET``, ``AZURE_TENANT``,
``AZURE_SUBSCRIPTION_ID``, and ``AZURE_CLOUD_ENVIRONMENT`` when the credential names a cloud).
Job-template survey answers and extra variables arrive in ``env/extravars``. Nothing prompts.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from avdsim.scenario import load as load_scenario
from avdsim.testing import SimServer
from test_lifecycle_rbac import missing_actions, shipped_role

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def installed_collection(tmp_path_factory):
    """The collection installed from a built tarball, as AWX installs it from requirements.yml."""
    dist = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", str(REPO),
                    "--output-path", str(dist)], check=True, cwd=dist, env=env, capture_output=True)
    tarball = next(dist.glob("goldenimage-avd-*.tar.gz"))
    collections = tmp_path_factory.mktemp("requirements_collections")
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", str(tarball),
                    "-p", str(collections)], check=True, cwd=dist, env=env, capture_output=True)
    return collections


def make_private_data_dir(root: Path, collections: Path, extravars: dict) -> Path:
    """Lay out a private data dir the way AWX hands a job to ansible-runner: survey answers in
    ``env/extravars`` (0600, removed with the private data dir after the job), no ``env/envvars``
    (AWX passes the environment to ansible-runner directly, AWX_RUNNER_OMIT_ENV_FILES)."""
    pdd = root / "job"
    shutil.copytree(REPO / "playbooks", pdd / "project",
                    ignore=shutil.ignore_patterns("inventories"))
    shutil.copytree(REPO / "playbooks" / "inventories" / "demo", pdd / "inventory")
    (pdd / "env").mkdir()
    fd = os.open(pdd / "env" / "extravars", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(yaml.safe_dump(extravars))
    return pdd


def job_environment(sim_env: dict, collections: Path) -> dict:
    """The job's environment as AWX sets it: never written to a file by the test."""
    return {
        # What AWX's azure_rm credential injector sets.
        "AZURE_SUBSCRIPTION_ID": sim_env["AZURE_SUBSCRIPTION_ID"],
        "AZURE_CLIENT_ID": sim_env["AZURE_CLIENT_ID"],
        "AZURE_SECRET": sim_env["AZURE_SECRET"],
        "AZURE_TENANT": sim_env["AZURE_TENANT"],
        "AZURE_CLOUD_ENVIRONMENT": sim_env["AZURE_CLOUD_ENVIRONMENT"],
        # The simulator's private CA; TLS stays verified.
        "REQUESTS_CA_BUNDLE": sim_env["REQUESTS_CA_BUNDLE"],
        # What AWX sets for a job whose project installed collections.
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
    }


def run_job(pdd: Path, playbook: str, job_env: dict, timeout: int = 600):
    """`ansible-runner run` as a separate process, like the AWX task worker."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-runner"), "run", str(pdd), "-p", playbook, "--ident", "job1"],
        check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AZURE_"))},
             "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", **job_env},
        capture_output=True, text=True, timeout=timeout,
    )
    artifacts = pdd / "artifacts" / "job1"
    events = [json.loads(p.read_text()) for p in sorted(
        (artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))]
    return proc, artifacts, events


def files_holding(root: Path, secret: str) -> list:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and secret.encode() in p.read_bytes())


def job_output(artifacts: Path, events: list) -> str:
    """Everything an AWX user can see of the job: stdout and the event data."""
    return (artifacts / "stdout").read_text() + "\n".join(json.dumps(e) for e in events)


def least_privilege_scenario(tmp_path: Path) -> Path:
    """The demo, with the service principal holding ONLY the shipped custom role, assigned on
    the customer's resource group (images, gallery, host pool, VMs and the virtual network all
    live in rg-avd-demo), as README "Azure RBAC" tells an operator to do."""
    sub = load_scenario("demo")["subscription_id"]
    role = shipped_role()
    role["AssignableScopes"] = [f"/subscriptions/{sub}"]
    path = tmp_path / "least_privilege.yaml"
    path.write_text(yaml.safe_dump({"extends": "demo", "rbac": {
        "role_definitions": [role],
        "role_assignments": [{"role": role["Name"],
                              "scope": f"/subscriptions/{sub}/resourceGroups/rg-avd-demo"}]}}))
    return path


def test_lifecycle_runs_as_an_awx_job(installed_collection, tmp_path):
    with SimServer(scenario=str(least_privilege_scenario(tmp_path))) as sim:
        admin_password = "Av1!" + secrets.token_urlsafe(18)
        pdd = make_private_data_dir(tmp_path, installed_collection, {
            # Survey-style inputs, as a job template passes them; nothing prompts.
            "golden_image_version": "1.0.1",
            "session_host_rollout_admin_password": admin_password,
            "awx_job_id": 4711,
        })
        proc, artifacts, events = run_job(pdd, "lifecycle.yml", job_environment(sim.env, installed_collection))
        output = job_output(artifacts, events)
        assert proc.returncode == 0, (artifacts / "stdout").read_text()[-6000:]
        assert (artifacts / "status").read_text().strip() == "successful"
        assert (artifacts / "rc").read_text().strip() == "0"
        # The credential never shows in job output or events.
        assert sim.env["AZURE_SECRET"] not in output
        assert admin_password not in output
        # On disk, the secrets are only where AWX put them and ansible-runner records the job's
        # command line and environment (artifacts/<ident>/command): both in the private data
        # dir AWX removes after the job. Nothing the collection or the job wrote holds them.
        assert files_holding(pdd, admin_password) == ["env/extravars"]
        assert files_holding(pdd, sim.env["AZURE_SECRET"]) == ["artifacts/job1/command"]
        # No play waited for input.
        assert not [e for e in events if e["event"] == "playbook_on_vars_prompt"]
        metrics = sim.metrics()
        # The job ran with only the shipped custom role: the simulator authorized every request
        # (and its linked checks) against it, and the mapping agrees.
        assignments = sim.state()["rbac"]["role_assignments"]
        assert [a["properties"]["scope"].rsplit("/", 1)[-1] for a in assignments] == ["rg-avd-demo"]
        assert "AuthorizationFailed" not in metrics["errors_by_code"]
        assert "LinkedAuthorizationFailed" not in metrics["errors_by_code"]
        assert missing_actions(metrics["requests"]["by_operation"]) == {}
        assert metrics["violations"] == []
        assert metrics["users"]["logon_failures"] == 0
        assert metrics["users"]["forced_logoffs"] == 0
        stats = next(e for e in events if e["event"] == "playbook_on_stats")
        summary = stats["event_data"]["artifact_data"]["goldenimage_lifecycle"]["customer_demo"]
        # The simulator's own view: every session host of the pool runs a VM built from 1.0.1.
        desktop = sim.desktop_client()
        compute = sim.compute_client()
        hosts = list(desktop.session_hosts.list("rg-avd-demo", "hp-demo-pooled"))
        images = {compute.virtual_machines.get("rg-avd-demo", h.resource_id.rsplit("/", 1)[-1])
                  .storage_profile.image_reference.id.rsplit("/", 1)[-1] for h in hosts}
    assert summary["markers"] == {"pilot": "1.0.1", "prod": "1.0.1"}
    assert summary["version"] == "1.0.1"
    pools = {p["name"]: p for p in summary["host_pools"]}
    assert {h["image_version"] for h in pools["hp-demo-pooled"]["hosts"]} == {"1.0.1"}
    assert len(hosts) == 3 and images == {"1.0.1"}
