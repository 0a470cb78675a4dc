"""tools/demo.py (make demo) fails loudly: a lifecycle that stops gives a failed report and exit 1.

The passing path is `make demo` itself; here the lifecycle is stopped by a bad input so the
driver's failure path runs end to end in seconds: ansible-runner events, report, exit code.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_reports_a_failed_lifecycle_and_exits_non_zero(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AZURE_"))}
    report_path = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "demo.py"), "--out-dir", str(tmp_path),
         "-e", "lifecycle_pilot_marker=prod"],
        check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "goldenimage.avd demo: FAILED" in proc.stdout
    report = json.loads(report_path.read_text())
    assert report["result"] == "failed"
    assert any("must differ" in p for p in report["problems"])
    assert report["stages"][0]["name"] == "Check the lifecycle inputs"
    assert report["arm_requests"]["total"] == 0
    # Neither the simulator's secret nor the generated admin password is in the report.
    assert "avdsim-demo-secret" not in report_path.read_text()
    assert "session_host_rollout_admin_password" not in proc.stdout


def test_demo_stages_report_azure_time_not_controller_overhead(tmp_path):
    """A stage of synchronous host-pool tag writes takes seconds of Azure time, a stage of gallery
    PATCHes (long-running operations) no more than their Azure durations, however long Ansible took."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AZURE_"))}
    env["DEMO_ADMIN_PASSWORD"] = admin_password = "Av1!" + secrets.token_urlsafe(18)
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "demo.py"), "--out-dir", str(tmp_path),
         "-e", 'lifecycle_stages=["pilot"]', "-e", "lifecycle_version=1.0.0",
         "-e", 'lifecycle_host_pools=[{"name": "hp-demo-pooled", "resource_group": "rg-avd-demo", "marker": "pilot"}]'],
        check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Azure time" in proc.stdout and "controller" in proc.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    stages = {stage["name"]: stage for stage in report["stages"]}

    # binding the pool to pilot: host-pool tag writes only, answered at once by Azure
    bind = stages["Check the lifecycle inputs"]
    assert any(op.startswith("PATCH") and op.endswith("hostPools/{hostPoolName}") for op in bind["by_operation"])
    assert bind["azure_time_s"] < 60, bind
    assert bind["waited_s"] == 0, bind

    # marking 1.0.0 for the pilot: tag PATCHes of the image definition (the marker lease) and of the
    # version, each a 20 s operation in Azure (avdsim durations: gallery_update)
    mark = stages["Mark the new version for the pilot"]
    patches = sum(n for op, n in mark["by_operation"].items() if op.startswith("PATCH") and "/galleries/" in op)
    assert patches >= 2, mark
    assert mark["waited_s"] <= patches * 20 + 1, mark
    # the rest is the controller's own seconds, counted once (not multiplied by the time scale)
    assert mark["azure_time_s"] <= mark["waited_s"] + mark["controller_time_s"] + 1, mark
    assert report["azure_time_s"] <= report["waited_s"] + report["controller_time_s"] + 5, report

    # No secret in any file the demo wrote (report, runner artifacts, job events): neither the
    # simulator's client secret nor the admin password handed to the job.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert tmp_path / "runner" / "artifacts" / "demo" / "stdout" in written
    assert len([p for p in written if "job_events" in p.parts]) > 50
    for secret in (_DEMO_SECRET, admin_password):
        leaks = [str(p.relative_to(tmp_path)) for p in written if secret.encode() in p.read_bytes()]
        assert leaks == [], (secret[:4], leaks)


# The demo scenario's client secret (simulator/src/avdsim/scenarios/demo.yaml).
_DEMO_SECRET = "avdsim-demo-secret-5Qx8~pLr2VwZk"
