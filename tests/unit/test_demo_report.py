"""The demo's verdict and version tree (tools/demo_report.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from demo_report import build_report, render_text, version_tree  # noqa: E402

GOOD_SUMMARY = {"customer_demo": {
    "gallery": "gal_avd_demo", "image": "win11-avd",
    "versions": [{"name": "1.0.0", "parent": None, "markers": []},
                 {"name": "1.0.1", "parent": "1.0.0", "markers": ["pilot", "prod"]}],
    "markers": {"pilot": "1.0.1", "prod": "1.0.1"},
    "host_pools": [{"name": "hp-demo-pooled", "marker": "prod", "target_version": "1.0.1",
                    "hosts": [{"name": f"avd-demo-{i}", "version": "1.0.1", "status": "Available"}
                              for i in range(3)]}],
}}
GOOD_METRICS = {"sim_time_s": 5000.0, "requests": {"total": 420, "reads": 300, "writes": 100, "deletes": 20},
                "throttled": 0, "violations": [],
                "users": {"logon_attempts": 40, "logon_failures": 0, "forced_logoffs": 0,
                          "forced_logoffs_without_warning": 0, "messages_sent": 6, "min_available_hosts": 3}}


def _with_pool_hosts(versions):
    summary = {"customer_demo": dict(GOOD_SUMMARY["customer_demo"])}
    pool = dict(summary["customer_demo"]["host_pools"][0])
    pool["hosts"] = [{"name": f"h{i}", "version": v} for i, v in enumerate(versions)]
    summary["customer_demo"]["host_pools"] = [pool]
    return summary


@pytest.mark.parametrize("status,rc,failures,summary,metrics,expected_problems", [
    ("successful", 0, [], GOOD_SUMMARY, GOOD_METRICS, []),
    ("failed", 2, [{"host": "customer_demo", "task": "Capture", "msg": "boom"}], GOOD_SUMMARY, GOOD_METRICS,
     ["the lifecycle playbook ended failed (rc 2)", "customer_demo: Capture: boom"]),
    ("successful", 0, [], None, GOOD_METRICS,
     ["the lifecycle playbook published no summary (goldenimage_lifecycle)"]),
    ("successful", 0, [], _with_pool_hosts(["1.0.1", "1.0.0"]), GOOD_METRICS,
     ["customer_demo: host pool hp-demo-pooled runs 1.0.0, 1.0.1, its marker prod points at 1.0.1"]),
    ("successful", 0, [], _with_pool_hosts([]), GOOD_METRICS,
     ["customer_demo: host pool hp-demo-pooled has no session hosts"]),
    ("successful", 0, [], GOOD_SUMMARY,
     {**GOOD_METRICS, "violations": [{"kind": "capacity_below_floor", "resource": "hp", "detail": "1 < 2"}]},
     ["violation capacity_below_floor: hp: 1 < 2"]),
])
def test_verdict(status, rc, failures, summary, metrics, expected_problems):
    report = build_report(status=status, rc=rc, stages=[], failures=failures, summary=summary,
                          metrics=metrics, controller_time_s=1.0)
    assert report["problems"] == expected_problems
    assert report["result"] == ("failed" if expected_problems else "passed")


@pytest.mark.parametrize("observed,expected_problems", [
    (None, []),
    ({"hp-demo-pooled": ["1.0.1", "1.0.1", "1.0.1"]}, []),
    ({"hp-demo-pooled": ["1.0.0", "1.0.1", "1.0.1"]},
     ["host pool hp-demo-pooled: the playbook reported ['1.0.1', '1.0.1', '1.0.1'], "
      "the simulator has ['1.0.0', '1.0.1', '1.0.1']"]),
    ({}, ["host pool hp-demo-pooled: the playbook reported ['1.0.1', '1.0.1', '1.0.1'], the simulator has None"]),
])
def test_verdict_compares_with_the_simulators_view(observed, expected_problems):
    report = build_report(status="successful", rc=0, stages=[], failures=[], summary=GOOD_SUMMARY,
                          metrics=GOOD_METRICS, controller_time_s=1.0, observed=observed)
    assert report["problems"] == expected_problems


def test_report_sums_stages_and_copies_user_impact():
    stages = [{"name": "Build", "azure_time_s": 3000.0, "waited_s": 2980.0, "arm_requests": 200,
               "controller_time_s": 20.0},
              {"name": "Roll out", "azure_time_s": 1500.5, "waited_s": 1490.0, "arm_requests": 220,
               "controller_time_s": 15.0}]
    report = build_report(status="successful", rc=0, stages=stages, failures=[], summary=GOOD_SUMMARY,
                          metrics=GOOD_METRICS, controller_time_s=40.04)
    assert report["azure_time_s"] == 4500.5 and report["waited_s"] == 4470.0
    assert report["arm_requests"] == {"total": 420, "reads": 300, "writes": 100, "deletes": 20, "throttled": 0,
                                      "by_operation": {}}
    assert report["user_impact"]["messages_sent"] == 6
    assert report["controller_time_s"] == 40.0
    text = render_text(report)
    assert "Azure time" in text and "controller" in text
    assert "PASSED" in text and "1h 15m 00s" in text and "1h 14m 30s" in text and "hp-demo-pooled: follows prod -> 1.0.1" in text


@pytest.mark.parametrize("versions,expected", [
    ([], []),
    ([{"name": "1.0.0", "markers": ["prod"]}], ["1.0.0  [prod]"]),
    ([{"name": "1.0.10", "parent": "1.0.2"}, {"name": "1.0.2", "parent": "1.0.0"},
      {"name": "1.0.0"}, {"name": "1.0.3", "parent": "1.0.0", "markers": ["pilot"]}],
     ["1.0.0", "├── 1.0.2", "│   └── 1.0.10", "└── 1.0.3  [pilot]"]),
    # A parent that was pruned: the child becomes a root of its own.
    ([{"name": "2.0.0", "parent": "1.9.9"}], ["2.0.0"]),
])
def test_version_tree(versions, expected):
    assert version_tree(versions) == expected
