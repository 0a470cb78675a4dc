"""Honest simulated time (issue 11): the Azure time of a rollout does not depend on how fast the
controller runs. The same 20-host rollout (same seed) runs twice, once as it comes and once with two
CPU-burning processes per core beside it (started and stopped inside the test); the two makespans on
the simulator's clock must agree within 5 % and users must fare the same. Not a timed test: it
compares the two runs, whatever either one took in real time.

Both runs use ``--clock-rate 0``: only the waits the run keeps move the clock, so nothing of the
controller's real time can reach the result. At the default rate (1) the controller's own seconds
count once; they shift the rollout against the users' seeded arrivals, which can put other users on
the drained hosts: two makespans of this rollout were seen, about 14350 s and 13450 s (6 % apart),
whichever the machine's load."""

import os
import subprocess
import sys

from rollout_measure import measure_rollout

BURN_LIMIT_S = 1200  # a burner stops by itself after this, whatever happens to the test
BURNER = ("import time\nstop = time.monotonic() + %d\nx = 0\n"
          "while time.monotonic() < stop:\n    x = (x * 7 + 3) %% 1000003\n" % BURN_LIMIT_S)


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _outcome(report):
    return {"rc": report["rc"], "batches": report["batches"], "violations": report["violations"],
            "throttled": report["arm_requests"]["throttled"],
            **{key: report["users"][key] for key in ("logon_failures", "forced_logoffs",
                                                     "forced_logoffs_without_warning")}}


def test_the_same_rollout_takes_the_same_azure_time_idle_and_under_load():
    idle = measure_rollout(hosts=20, seed=11, timeline=False, clock_rate=0)
    assert idle["rc"] == 0, idle["stdout_tail"]
    burners = [subprocess.Popen([sys.executable, "-c", BURNER])  # pylint: disable=consider-using-with
               for _burner in range(2 * (os.cpu_count() or 1))]
    try:
        loaded = measure_rollout(hosts=20, seed=11, timeline=False, clock_rate=0)
        burnt = [_cpu_seconds(proc.pid) for proc in burners]
    finally:
        for proc in burners:
            proc.kill()
        for proc in burners:
            proc.wait(timeout=30)
    assert loaded["rc"] == 0, loaded["stdout_tail"]
    # the load was real: together the burners kept at least half a core busy while the rollout ran
    # (each of them at least a tenth), also when the machine is loaded by something else as well
    assert sum(burnt) >= 0.5 * loaded["controller_time_s"], (burnt, loaded["controller_time_s"])
    assert min(burnt) >= 0.1 * loaded["controller_time_s"], (burnt, loaded["controller_time_s"])
    summary = {key: (idle[key], loaded[key]) for key in ("azure_time_s", "overhead_free_s", "controller_time_s")}
    print("idle / loaded:", summary, _outcome(idle), _outcome(loaded))
    # the makespan is Azure's: within 5 % however long the controller took
    assert abs(loaded["azure_time_s"] - idle["azure_time_s"]) <= 0.05 * idle["azure_time_s"], summary
    assert _outcome(loaded) == _outcome(idle), (summary, _outcome(idle), _outcome(loaded))
    assert _outcome(idle)["logon_failures"] == 0 and _outcome(idle)["forced_logoffs"] == 0
    # at clock rate 0 nothing but the waits the run kept moved the clock (no real-time leak)
    for report in (idle, loaded):
        assert abs(report["azure_time_s"] - report["overhead_free_s"]) <= 1, summary
