"""Chained crash runs for the crash tests (issue 15): run a playbook, SIGKILL it with everything it started
when the simulator has seen a given number of write requests from it, start it again, and so on.

One chain costs about one run plus the restart overhead: run 1 is killed at point 1, its re-run at point 2
(later in the job: the re-run skips what is done), ..., and the last re-run completes. The kill points are
counts of write requests the simulator answered (``metrics()["requests"]["writes"]``), observed progress,
never wall-clock time, so they do not depend on the machine's speed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from helpers import REPO, VENV_BIN, ansible_env, descendants, run_playbook

# at least 6 kill points per chain in CI; GOLDENIMAGE_CRASH_POINTS=20 for more
CRASH_POINTS = max(6, int(os.environ.get("GOLDENIMAGE_CRASH_POINTS", "6")))
# bounds of one killed run (real seconds): only a hang ends a run by them
RUN_TIMEOUT = 600


def kill_points(writes_of_a_run, points=CRASH_POINTS):
    """Writes after which each run of the chain is killed, counted from the start of that run.

    ``writes_of_a_run``: the writes of an uninterrupted run; each run gets about an equal share of the
    job, so the kills spread over it (a re-run first repeats a few writes of clean-up and reading back).
    """
    share = max(1, writes_of_a_run // (points + 1))
    return [share] * points


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def kill_everything(proc):
    """SIGKILL ansible-playbook, its process group and every process it started.

    Ansible's workers run modules in sessions of their own (os.setsid): the process group alone would
    leave a module running. Everything is stopped first (SIGSTOP: a stopped process starts nothing), until
    no new descendant shows up, then killed; returns once none of them runs any more.
    """
    stopped = []
    while True:
        new = [pid for pid in [proc.pid] + descendants(proc.pid) if pid not in stopped]
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            stopped.append(pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in stopped):
        assert time.monotonic() < deadline, "killed processes still run: %s" % [p for p in stopped if _alive(p)]
        time.sleep(0.05)


def _tasks(log_path):
    """The tasks the default stdout callback announced so far in a run's log, in order."""
    try:
        lines = Path(log_path).read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line.split("[", 1)[1].rsplit("]", 1)[0] for line in lines if line.startswith("TASK [")]


class Chain:
    """Where the chain got to: the tasks in the order they were first seen, and the point of the last kill (its
    task and how many writes into that task)."""

    def __init__(self):
        self.order = []
        self.last_kill = ()  # (task, writes into it) once a run was killed

    def learn(self, tasks):
        for task in tasks:
            if task not in self.order:
                self.order.append(task)

    def reached(self, tasks, offset):
        """Whether a run that announced ``tasks`` and made ``offset`` writes in the last of them got as far as
        the last kill: past its task, or as many writes into it."""
        if not self.last_kill:
            return True
        task, kill_offset = self.last_kill
        mark = self.order.index(task)
        if any(seen not in self.order or self.order.index(seen) > mark for seen in tasks):
            return True
        return bool(tasks) and tasks[-1] == task and offset >= kill_offset


def run_killed(sim, cmd, env, after_writes, workdir, chain):
    """Run ``cmd``; once it is as far as the last kill of ``chain``, kill it after ``after_writes`` more writes.

    Returns ``{"killed", "writes", "task", "offset", "rc"}``: ``writes`` is how many writes the run had made
    when it was killed (or when it ended by itself), ``task`` the task it was in and ``offset`` how many writes
    into that task. A re-run first repeats what the killed run left undone (reads, clean-up, the step it was
    in, a clone made again): it is killed only after it has passed the point of the kill before, so the kills
    move forward through the job whatever the re-run repeats.
    """
    log_path = Path(workdir) / ("run-%d.log" % time.monotonic_ns())
    start = sim.metrics()["requests"]["writes"]
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=log,  # pylint: disable=consider-using-with
                                stderr=subprocess.STDOUT, start_new_session=True)
    killed, armed_at, task, task_start, writes = False, None, None, start, start
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while proc.poll() is None:
            assert time.monotonic() < deadline, "the run did not reach its kill point in %ss" % RUN_TIMEOUT
            writes = sim.metrics()["requests"]["writes"]
            tasks = _tasks(log_path)
            if tasks and tasks[-1] != task:
                task, task_start = tasks[-1], writes
            if armed_at is None and chain.reached(tasks, writes - task_start):
                armed_at = writes
            if armed_at is not None and writes - armed_at >= after_writes:
                kill_everything(proc)
                killed = True
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            kill_everything(proc)
    chain.learn(_tasks(log_path))
    offset = writes - task_start
    if killed:
        chain.last_kill = (task, offset)
    return {"killed": killed, "writes": sim.metrics()["requests"]["writes"] - start,
            "task": task or "(before the first task)", "offset": offset, "rc": proc.returncode}


def crash_chain(sim, playbook, inventory, extra_vars_file, points, workdir, label):
    """Run ``playbook`` killed at each of ``points`` (writes of each run), then once to the end.

    Returns ``(kills, final)``: the kills as ``run_killed`` reports them and the ``PlaybookResult`` of
    the run that completed. Prints the kill points (pytest -s shows them).
    """
    env = ansible_env(sim)
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    env["ANSIBLE_LOCAL_TEMP"] = str(Path(workdir) / "tmp")
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / playbook)]
    if extra_vars_file:
        cmd += ["-e", "@%s" % extra_vars_file]
    kills, chain = [], Chain()
    for number, after in enumerate(points, 1):
        outcome = run_killed(sim, cmd, env, after, workdir, chain)
        kills.append(outcome)
        print("%s crash %d/%d: %s after %d writes of the run, %d writes into task '%s'" % (
            label, number, len(points), "killed" if outcome["killed"] else "ended (rc=%s)" % outcome["rc"],
            outcome["writes"], outcome["offset"], outcome["task"]))
        if not outcome["killed"]:
            break
    final = run_playbook(sim, str(REPO / playbook), inventory=str(inventory),
                         extra_vars=None if not extra_vars_file else _read_json(extra_vars_file))
    print("%s final run: rc=%s" % (label, final.rc))
    return kills, final


def _read_json(path):
    import json  # pylint: disable=import-outside-toplevel
    return json.loads(Path(path).read_text())
