"""tools/demo.py (make demo) fails loudly: a lifecycle that stops gives a failed report and exit 1.

The passing path is `make demo` itself; here the lifecycle is stopped by a bad input so the
driver's failure path runs end to end in seconds: ansible-runner events, report, exit code.
"""

import json
import os
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
