"""The collection as users get it.

Built with ``ansible-galaxy collection build``, installed from the tarball into an empty
collections path, and used from a directory outside the repository by fully qualified names
only, against the simulator. Nothing here reaches into the source tree at run time.
"""

import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
import yaml

from avdsim.testing import SimServer

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Paths that are for development only and must never ship in the artifact.
DEV_ONLY = ("simulator/", "tests/", ".venv/", "extensions/", "build/", ".git/", ".ci/", "tools/")
# What ansible-galaxy writes into the artifact itself.
GALAXY_OWN = {"MANIFEST.json", "FILES.json"}


def _source_files():
    """The checkout's files that git does not ignore (tracked, or new and not ignored)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         check=True, cwd=REPO, capture_output=True).stdout
    return {name for name in out.decode().split("\0") if name}


def _clean_env(**extra):
    """Environment without any collections path that could point back into the repository."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AZURE_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "false"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(out)],
        check=True, cwd=out, env=_clean_env(), capture_output=True, text=True,
    )
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    path = out / f"goldenimage-avd-{version}.tar.gz"
    assert path.is_file(), sorted(p.name for p in out.iterdir())
    return path


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """Collections path with only the tarball installed, the way `ansible-galaxy collection install` does it."""
    root = tmp_path_factory.mktemp("installed")
    collections = root / "collections"
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(collections)],
        check=False, cwd=root, env=_clean_env(), capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return collections


def test_tarball_contains_the_product_and_nothing_for_development(tarball):
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        files = {member.name for member in tar.getmembers() if member.isfile()}
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    leaked = sorted(n for n in names if n.startswith(DEV_ONLY) or "/__pycache__/" in n or n.endswith(".pyc"))
    assert leaked == []
    # nothing git ignores ships (virtualenvs such as .venv-azcollection, build output, caches)
    assert sorted(files - _source_files() - GALAXY_OWN) == []
    assert manifest["collection_info"]["namespace"] == "goldenimage"
    assert manifest["collection_info"]["name"] == "avd"
    for required in ("meta/runtime.yml", "plugins/module_utils/_module.py", "README.md", "LICENSE",
                     "CHANGELOG.rst", "changelogs/changelog.yaml", "requirements.txt"):
        assert required in names
    assert "ansible.cfg" not in names  # the checkout's, for development only
    assert "GNU GENERAL PUBLIC LICENSE" in tar_member_text(tarball, "LICENSE")
    assert manifest["collection_info"]["license"] == ["GPL-3.0-or-later"]
    version = manifest["collection_info"]["version"]
    # the release of the version being built is in the shipped changelog
    assert "v%s\n" % version in tar_member_text(tarball, "CHANGELOG.rst")
    assert version in yaml.safe_load(tar_member_text(tarball, "changelogs/changelog.yaml"))["releases"]
    modules = {Path(n).stem for n in names if n.startswith("plugins/modules/") and n.endswith(".py")}
    assert modules, "no modules in the artifact"
    runtime = yaml.safe_load(tar_member_text(tarball, "meta/runtime.yml"))
    # module_defaults: group/goldenimage.avd.azure must cover every shipped module.
    assert set(runtime["action_groups"]["azure"]) >= modules


def tar_member_text(tarball, name):
    with tarfile.open(tarball) as tar:
        return tar.extractfile(name).read().decode()


def test_installed_module_is_the_one_from_the_tarball(installed, tmp_path):
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-doc"), "--json", "goldenimage.avd.image_version_info"],
        check=False, cwd=tmp_path, env=_clean_env(ANSIBLE_COLLECTIONS_PATH=str(installed)),
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["goldenimage.avd.image_version_info"]["doc"]
    assert Path(doc["filename"]).resolve().is_relative_to(installed.resolve())


def test_installed_collection_runs_against_the_simulator_by_fqcn(installed, tmp_path):
    """A user's playbook, outside the repo: module_defaults for the action group, FQCN modules only."""
    workdir = tmp_path / "user-project"
    workdir.mkdir()
    with SimServer(scenario="demo") as sim:
        env = sim.env
        (workdir / "inventory.yml").write_text(yaml.safe_dump({
            "all": {"hosts": {"customer_demo": {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
            }}},
        }))
        # The credential comes in as host variables, the way a per-customer inventory feeds it.
        host_vars = workdir / "host_vars"
        host_vars.mkdir()
        creds = host_vars / "customer_demo.yml"
        creds.write_text(yaml.safe_dump({
            "azure_subscription_id": env["AZURE_SUBSCRIPTION_ID"],
            "azure_tenant": env["AZURE_TENANT"],
            "azure_client_id": env["AZURE_CLIENT_ID"],
            "azure_secret": env["AZURE_SECRET"],
            "azure_cloud_environment": env["AZURE_CLOUD_ENVIRONMENT"],
        }))
        creds.chmod(0o600)
        (workdir / "versions.yml").write_text(textwrap.dedent("""\
            ---
            - name: Read the demo image's versions with the installed collection
              hosts: customer_demo
              gather_facts: false
              module_defaults:
                group/goldenimage.avd.azure:
                  subscription_id: "{{ azure_subscription_id }}"
                  tenant: "{{ azure_tenant }}"
                  client_id: "{{ azure_client_id }}"
                  secret: "{{ azure_secret }}"
                  cloud_environment: "{{ azure_cloud_environment }}"
              tasks:
                - name: Versions of win11-avd
                  goldenimage.avd.image_version_info:
                    resource_group: rg-avd-demo
                    gallery: gal_avd_demo
                    image: win11-avd
                  register: versions

                - name: Show what the collection saw
                  ansible.builtin.copy:
                    content: "{{ versions | to_json }}"
                    dest: "{{ playbook_dir }}/versions.json"
                    mode: "0644"
            """))
        before = sim.metrics()["requests"]["total"]
        proc = subprocess.run(
            [str(VENV_BIN / "ansible-playbook"), "-i", "inventory.yml", "versions.yml"],
            check=False, cwd=workdir,
            # Only the CA of the simulator comes from the environment; no AZURE_* variables.
            env=_clean_env(ANSIBLE_COLLECTIONS_PATH=str(installed),
                           REQUESTS_CA_BUNDLE=env["REQUESTS_CA_BUNDLE"]),
            capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        assert env["AZURE_SECRET"] not in proc.stdout + proc.stderr
        after = sim.metrics()
        assert after["requests"]["total"] > before
        assert after["violations"] == []
    result = json.loads((workdir / "versions.json").read_text())
    assert result["changed"] is False
    assert env["AZURE_SECRET"] not in json.dumps(result)
    names = [v["name"] for v in result["versions"]]
    assert "1.0.0" in names
    assert result["markers"]["prod"] == "1.0.0"


@pytest.mark.parametrize("playbook", ["lifecycle", "build_image", "promote", "rollback", "rollout"])
def test_installed_playbooks_resolve_by_fqcn(installed, tmp_path, playbook):
    """`ansible-playbook goldenimage.avd.<name>` finds the shipped playbook and every role it uses."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,",
         f"goldenimage.avd.{playbook}"],
        check=False, cwd=tmp_path, env=_clean_env(ANSIBLE_COLLECTIONS_PATH=str(installed)),
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    resolved = installed / "ansible_collections" / "goldenimage" / "avd" / "playbooks" / f"{playbook}.yml"
    assert f"playbook: {resolved}" in proc.stdout
