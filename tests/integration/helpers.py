"""Run modules and playbooks of goldenimage.avd against the simulator, the way users run them.

    from helpers import run_module, run_playbook

    result = run_module(sim, "marker_tag", {"resource_group": "rg-avd-demo", ...}, check=True, diff=True)
    assert result["changed"] and not result["failed"]

    run = run_playbook(sim, "playbooks/build_image.yml", extra_vars={"image": "win11-avd"})
    assert run.rc == 0, run.stdout
    assert run.task("Capture the image")["changed"]

Both start a real ``ansible-playbook`` process with ``ANSIBLE_COLLECTIONS_PATH=build/collections``
(the symlink made by ``make collection``; created here when missing), the simulator's
environment (``AZURE_*`` and ``REQUESTS_CA_BUNDLE``, exactly what ``sim.env`` holds) and a JSON
stdout callback, so the results are the ones Ansible itself reports. Nothing from the caller's
``ANSIBLE_*``/``AZURE_*`` environment leaks in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "goldenimage" / "avd"
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
CALLBACK = "goldenimage_test_json"
VENV_BIN = Path(sys.executable).parent
DEFAULT_TIMEOUT = 900


def wire(obj):
    """An SDK response as its wire-format dict (camelCase, as the REST API sends it), whichever model
    generation the installed SDK has (msrest models up to azure-mgmt-compute 38, TypeSpec models from
    39): the collection's own ``to_wire`` (conftest puts build/collections on sys.path)."""
    from ansible_collections.goldenimage.avd.plugins.module_utils._module import to_wire  # pylint: disable=import-outside-toplevel

    return to_wire(obj)


class AnsibleRunError(AssertionError):
    """ansible-playbook produced no parsable result (crashed, timed out, bad playbook syntax)."""


def ensure_collection_link():
    """``make collection``: build/collections/ansible_collections/goldenimage/avd -> repository root."""
    if COLLECTION_LINK.is_symlink() or COLLECTION_LINK.exists():
        return COLLECTION_LINK
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        COLLECTION_LINK.symlink_to(Path("..", "..", "..", ".."), target_is_directory=True)
    except FileExistsError:  # another xdist worker made it first
        pass
    return COLLECTION_LINK


def ansible_env(sim=None, extra_env=None):
    """The environment ansible runs with: the caller's minus ANSIBLE_*/AZURE_*, plus the simulator's,
    plus ``extra_env`` (a value of None removes that variable)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "AZURE_")) and key != "REQUESTS_CA_BUNDLE"}
    env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
        "ANSIBLE_STDOUT_CALLBACK": CALLBACK,
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        # the modules need the Azure SDKs of this virtualenv
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if sim is not None:
        env.update(sim.env)
    for key, value in (extra_env or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class PlaybookResult:
    """What one ``ansible-playbook`` run did.

    ``rc``, ``stdout``, ``stderr``; ``plays`` (the callback's JSON); ``tasks``: one dict per task and
    host, in order, ``{"play", "task", "action", "host", "result"}``; ``stats`` per host.
    """

    def __init__(self, rc, stdout, stderr, document):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.plays = document.get("plays", [])
        self.stats = document.get("stats", {})
        self.tasks = []
        for play in self.plays:
            for entry in play.get("tasks", []):
                for host, result in entry.get("hosts", {}).items():
                    self.tasks.append({
                        "play": play["play"]["name"],
                        "task": entry["task"]["name"],
                        "action": entry["task"]["action"],
                        "host": host,
                        "result": result,
                    })

    @property
    def failed(self):
        return self.rc != 0

    def results(self, name):
        """Results of every run of the task called ``name`` (or whose name ends with ``: name``, as
        tasks from roles are shown), on every host."""
        return [entry["result"] for entry in self.tasks
                if entry["task"] == name or entry["task"].endswith(" : " + name)]

    def task(self, name, host=None):
        """The result of the task called ``name`` (the last run of it; on ``host`` when given)."""
        matches = [entry for entry in self.tasks
                   if (entry["task"] == name or entry["task"].endswith(" : " + name))
                   and (host is None or entry["host"] == host)]
        if not matches:
            raise KeyError("no task %r in this run; tasks: %s" % (name, [entry["task"] for entry in self.tasks]))
        return matches[-1]["result"]

    def __repr__(self):
        return "PlaybookResult(rc=%r, tasks=%d)" % (self.rc, len(self.tasks))


def _parse_document(stdout):
    # the callback prints one JSON document at the end; anything before it (e.g. warnings some
    # plugins print to stdout) is skipped
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("{"):
            try:
                return json.loads("\n".join(lines[index:]))
            except ValueError:
                continue
    return None


def _inventory_file(inventory, workdir):
    if inventory is None:
        data = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}
    elif isinstance(inventory, dict):
        data = inventory
    else:
        path = Path(inventory)
        if not path.is_absolute():
            path = REPO / path
        return str(path)
    target = Path(workdir) / "inventory.yml"
    target.write_text(yaml.safe_dump(data))
    return str(target)


def _playbook_file(playbook, workdir):
    if isinstance(playbook, (list, dict)):
        target = Path(workdir) / "playbook.yml"
        target.write_text(yaml.safe_dump(playbook if isinstance(playbook, list) else [playbook], sort_keys=False))
        return str(target)
    text = str(playbook)
    if "\n" not in text and (text.endswith((".yml", ".yaml")) or isinstance(playbook, Path)):
        path = Path(text)
        if not path.is_absolute():
            path = REPO / path
        if not path.is_file():
            raise FileNotFoundError("playbook %s not found" % path)
        return str(path)
    target = Path(workdir) / "playbook.yml"
    target.write_text(text)
    return str(target)


def run_playbook(sim, playbook_path_or_yaml_text, extra_vars=None, inventory=None, check=False,
                 *, diff=False, extra_env=None, args=(), timeout=DEFAULT_TIMEOUT):
    """Run a playbook against ``sim`` and return a ``PlaybookResult``.

    ``playbook_path_or_yaml_text``: a path (relative to the repository root, or absolute), YAML text,
    or a list of plays. ``inventory``: a path, an inventory dict, or None for a local ``localhost``.
    ``extra_vars`` go in as JSON (``-e @file``). ``check``/``diff`` add ``--check``/``--diff``.
    ``sim`` may be None for playbooks that do not talk to Azure. The run is bounded by ``timeout``.
    """
    ensure_collection_link()
    with tempfile.TemporaryDirectory(prefix="goldenimage-run-") as workdir:
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", _inventory_file(inventory, workdir),
               _playbook_file(playbook_path_or_yaml_text, workdir)]
        if extra_vars:
            vars_file = Path(workdir) / "extra_vars.json"
            vars_file.write_text(json.dumps(extra_vars))
            cmd += ["-e", "@" + str(vars_file)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd += list(args)
        env = ansible_env(sim, extra_env)
        env["ANSIBLE_LOCAL_TEMP"] = str(Path(workdir) / "tmp")
        try:
            proc = subprocess.run(cmd, cwd=str(REPO), env=env, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AnsibleRunError("ansible-playbook did not finish within %ss: %s\nstdout:\n%s\nstderr:\n%s"
                                  % (timeout, " ".join(cmd), exc.stdout, exc.stderr)) from None
    document = _parse_document(proc.stdout)
    if document is None:
        raise AnsibleRunError("ansible-playbook (rc=%s) printed no result document.\nstdout:\n%s\nstderr:\n%s"
                              % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, document)


def run_module(sim, name, args, check=False, diff=False, *, extra_env=None, timeout=DEFAULT_TIMEOUT):
    """Run ``goldenimage.avd.<name>`` once on localhost against ``sim``; return its result dict.

    The dict is what the module returned (after Ansible's own processing, so ``no_log`` values are
    masked) and always has ``changed`` and ``failed``; ``msg`` and ``diff`` are there when the module
    set them (``diff`` only with ``diff=True``). A failing module is a result with ``failed: true``,
    not an exception.
    """
    task = {"name": "goldenimage.avd.%s" % name, "goldenimage.avd.%s" % name: dict(args or {})}
    play = {"name": "run_module", "hosts": "localhost", "gather_facts": False, "tasks": [task]}
    run = run_playbook(sim, [play], check=check, diff=diff, extra_env=extra_env, timeout=timeout)
    results = run.results(task["name"])
    if len(results) != 1:
        raise AnsibleRunError("expected one result for %s, got %d.\nstdout:\n%s\nstderr:\n%s"
                              % (name, len(results), run.stdout[-4000:], run.stderr[-4000:]))
    result = dict(results[0])
    result.setdefault("changed", False)
    result.setdefault("failed", False)
    return result


def descendants(pid):
    """Process ids of every descendant of ``pid`` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
