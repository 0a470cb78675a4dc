"""The per-customer inventory model (playbooks/inventories/example) with two customers.

Each customer gets its own simulator, with its own subscription, tenant, service principal and
CA, so a module that used the wrong customer's credential or endpoint fails loudly. Customer A
keeps its secret in an ansible-vault file (CLI style), customer B gets its credential from the
AZURE_* environment (AWX style). `--limit customer_a` must not send a single request to customer
B; a run over both with two forks serves both, each with its own credential.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from avdsim.testing import SimServer

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
EXAMPLE = REPO / "playbooks" / "inventories" / "example"
MARKER_TAG = "goldenimage.marker.pilot"

# The demo world's names, for both customers' images.
DEMO_IMAGE = {
    "golden_image_resource_group": "rg-avd-demo",
    "golden_image_original_vm": "vm-golden-w11",
    "golden_image_gallery": "gal_avd_demo",
    "golden_image_image": "win11-avd",
    "lifecycle_host_pools": [],
    "image_marker_host_pools_resource_group": "rg-avd-demo",
}


@pytest.fixture(scope="module")
def two_customers(tmp_path_factory):
    root = tmp_path_factory.mktemp("customers")
    scenario_b = root / "customer_b.yaml"
    scenario_b.write_text(yaml.safe_dump({
        "extends": "demo",
        "name": "customer_b",
        "subscription_id": "7d6c5b4a-3928-4716-a5b4-c3d2e1f0a9b8",
        "tenant_id": "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a",
        "client_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
        "client_secret": "fabrikam-sim-secret-Zq7~Lm2Pw9",
    }))
    with SimServer(scenario="demo") as sim_a, SimServer(scenario=str(scenario_b)) as sim_b:
        assert sim_a.env["AZURE_SECRET"] != sim_b.env["AZURE_SECRET"]
        yield root, sim_a, sim_b


def _inventory(root: Path, sim_a, sim_b) -> tuple[Path, Path]:
    inv = root / "inventory"
    if inv.exists():
        shutil.rmtree(inv)
    shutil.copytree(EXAMPLE, inv)
    # Both customers build the demo world's image, each in its own simulator.
    for host in ("customer_a_win11", "customer_b_win11"):
        (inv / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(DEMO_IMAGE))
    # Customer A: the example's own wiring (azure_secret from the vault variable) with the
    # simulator's ids, and the secret in a real ansible-vault file.
    (inv / "group_vars" / "customer_a" / "zz_simulator.yml").write_text(yaml.safe_dump({
        "azure_subscription_id": sim_a.env["AZURE_SUBSCRIPTION_ID"],
        "azure_tenant": sim_a.env["AZURE_TENANT"],
        "azure_client_id": sim_a.env["AZURE_CLIENT_ID"],
        "azure_cloud_environment": sim_a.env["AZURE_CLOUD_ENVIRONMENT"],
    }))
    vault_password = root / "vault-password"
    vault_password.write_text("test-vault-password\n")
    vault_password.chmod(0o600)
    vault_file = inv / "group_vars" / "customer_a" / "vault.yml"
    vault_file.write_text(yaml.safe_dump({
        "vault_customer_a_azure_secret": sim_a.env["AZURE_SECRET"],
        "vault_customer_a_admin_password": "Adm1n-Passw0rd-For-Tests!",
    }))
    subprocess.run([str(VENV_BIN / "ansible-vault"), "encrypt", "--vault-password-file",
                    str(vault_password), str(vault_file)], check=True, capture_output=True)
    assert vault_file.read_text().startswith("$ANSIBLE_VAULT;")
    # Customer B: only its subscription is pinned in the inventory.
    (inv / "group_vars" / "customer_b" / "zz_simulator.yml").write_text(yaml.safe_dump({
        "azure_subscription_id": sim_b.env["AZURE_SUBSCRIPTION_ID"],
    }))
    return inv, vault_password


def _run(root: Path, sim_a, sim_b, *args):
    inv, vault_password = _inventory(root, sim_a, sim_b)
    # One trust store for both simulators' CAs; TLS stays verified.
    bundle = root / "ca-bundle.pem"
    bundle.write_text(Path(sim_a.env["REQUESTS_CA_BUNDLE"]).read_text()
                      + Path(sim_b.env["REQUESTS_CA_BUNDLE"]).read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AZURE_"))}
    env.update({
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_NOCOLOR": "1",
        "REQUESTS_CA_BUNDLE": str(bundle),
        # What an AWX credential for customer B injects.
        **{k: sim_b.env[k] for k in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_SECRET",
                                     "AZURE_TENANT", "AZURE_CLOUD_ENVIRONMENT")},
    })
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inv), "--vault-password-file", str(vault_password),
         str(REPO / "playbooks" / "lifecycle.yml"),
         "-e", '{"lifecycle_stages": ["pilot"], "lifecycle_version": "1.0.0", "lifecycle_rollout": false}',
         *args],
        check=False, cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert sim_a.env["AZURE_SECRET"] not in output and sim_b.env["AZURE_SECRET"] not in output
    return proc, output


def _pilot_holder(sim):
    versions = sim.compute_client().gallery_image_versions.list_by_gallery_image(
        "rg-avd-demo", "gal_avd_demo", "win11-avd")
    return sorted(v.name for v in versions if MARKER_TAG in (v.tags or {}))


def test_limit_touches_only_that_customer(two_customers):
    root, sim_a, sim_b = two_customers
    before_b = sim_b.metrics()["requests"]["total"]
    proc, output = _run(root, sim_a, sim_b, "--limit", "customer_a")
    assert proc.returncode == 0, output[-6000:]
    assert "customer_b_win11" not in proc.stdout
    assert _pilot_holder(sim_a) == ["1.0.0"]
    assert sim_b.metrics()["requests"]["total"] == before_b
    assert _pilot_holder(sim_b) == []


def test_customers_run_in_parallel_each_with_its_own_credential(two_customers):
    root, sim_a, sim_b = two_customers
    proc, output = _run(root, sim_a, sim_b, "--forks", "2")
    assert proc.returncode == 0, output[-6000:]
    assert "customer_a_win11" in proc.stdout and "customer_b_win11" in proc.stdout
    assert _pilot_holder(sim_a) == ["1.0.0"]
    assert _pilot_holder(sim_b) == ["1.0.0"]
    for sim in (sim_a, sim_b):
        assert sim.metrics()["violations"] == []


def test_customer_without_its_secret_fails_before_touching_azure(two_customers, tmp_path):
    """A missing vault file must not fall back to the AZURE_* credential of another customer."""
    root, sim_a, sim_b = two_customers
    inv, vault_password = _inventory(root, sim_a, sim_b)
    (inv / "group_vars" / "customer_a" / "vault.yml").unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AZURE_"))}
    env.update({"PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
                "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
                "ANSIBLE_NOCOLOR": "1", "REQUESTS_CA_BUNDLE": sim_b.env["REQUESTS_CA_BUNDLE"],
                **{k: sim_b.env[k] for k in ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT",
                                             "AZURE_CLOUD_ENVIRONMENT")}})
    before = (sim_a.metrics()["requests"]["total"], sim_b.metrics()["requests"]["total"])
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inv), str(REPO / "playbooks" / "lifecycle.yml"),
         "--limit", "customer_a", "-e", '{"lifecycle_stages": ["pilot"], "lifecycle_version": "1.0.0"}'],
        check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode != 0
    assert "azure_secret" in proc.stdout and "ansible-vault" in proc.stdout
    assert (sim_a.metrics()["requests"]["total"], sim_b.metrics()["requests"]["total"]) == before
