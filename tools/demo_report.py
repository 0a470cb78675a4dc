"""Report of a lifecycle run: what changed, what it cost, and how users fared.

``build_report`` combines the lifecycle playbook's own summary (the ``goldenimage_lifecycle``
stats it publishes: versions with markers and parents, host pools with the versions their hosts
run) with the simulator's metrics; ``render_text`` prints it for a terminal. Pure functions, so
the verdict logic is unit-testable.
"""

from __future__ import annotations

# the collection's one rule for ordering versions (build/collections on sys.path: demo.py, unit tests)
from ansible_collections.goldenimage.avd.plugins.module_utils._versions import version_key


def _host_version(host: dict):
    return host.get("image_version", host.get("version"))


def _verdict(status, rc, failures, summary, metrics, observed) -> list[str]:
    problems = []
    if status != "successful" or rc != 0:
        problems.append(f"the lifecycle playbook ended {status} (rc {rc})")
    problems.extend(f"{f['host']}: {f['task']}: {f['msg']}" for f in failures)
    if not summary:
        problems.append("the lifecycle playbook published no summary (goldenimage_lifecycle)")
    for image_host, image in (summary or {}).items():
        for pool in image.get("host_pools", []):
            target = pool.get("target_version")
            running = sorted({_host_version(h) for h in pool.get("hosts", [])}, key=str)
            if not pool.get("hosts"):
                problems.append(f"{image_host}: host pool {pool['name']} has no session hosts")
            elif target and running != [target]:
                problems.append(f"{image_host}: host pool {pool['name']} runs {', '.join(map(str, running))}, "
                                f"its marker {pool.get('marker')} points at {target}")
    # The simulator's own view of each pool must agree with what the playbook reported.
    for image in (summary or {}).values():
        for pool in image.get("host_pools", []):
            reported = sorted(_host_version(h) for h in pool.get("hosts", []))
            if observed is not None and observed.get(pool["name"]) != reported:
                problems.append(f"host pool {pool['name']}: the playbook reported {reported}, "
                                f"the simulator has {observed.get(pool['name'])}")
    for violation in metrics.get("violations", []):
        problems.append(f"violation {violation.get('kind')}: {violation.get('resource')}: {violation.get('detail')}")
    return problems


def build_report(*, status, rc, stages, failures, summary, metrics, controller_time_s, time_scale=None,
                 observed=None) -> dict:
    """``stages``: ``{name, azure_time_s, waited_s, controller_time_s, arm_requests}`` each. Azure time
    is the simulator's clock: what the stage takes against Azure (operations, replication, users
    leaving, and the controller's own seconds once); ``waited_s`` is the part of it the run spent
    waiting for Azure and users; controller time is real seconds of Ansible."""
    users = metrics.get("users") or {}
    requests = metrics.get("requests") or {}
    problems = _verdict(status, rc, failures, summary, metrics, observed)
    return {
        "result": "failed" if problems else "passed",
        "problems": problems,
        "images": summary or {},
        "observed_host_versions": observed,
        "stages": stages,
        "azure_time_s": round(sum(s.get("azure_time_s", 0) for s in stages), 1),
        "waited_s": round(sum(s.get("waited_s", 0) for s in stages), 1),
        "arm_requests": {
            "total": requests.get("total", 0),
            "reads": requests.get("reads", 0),
            "writes": requests.get("writes", 0),
            "deletes": requests.get("deletes", 0),
            "throttled": metrics.get("throttled", 0),
            "by_operation": dict(sorted((requests.get("by_operation") or {}).items())),
        },
        "user_impact": {
            key: users.get(key, 0) for key in (
                "logon_attempts", "logon_failures", "forced_logoffs",
                "forced_logoffs_without_warning", "messages_sent", "min_available_hosts")
        },
        "violations": metrics.get("violations", []),
        "controller_time_s": round(controller_time_s, 1),
        "time_scale": time_scale,
    }


def _duration(seconds) -> str:
    seconds = int(round(seconds or 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def version_tree(versions: list[dict]) -> list[str]:
    """Lines of the version history, children indented under the version they were built from."""
    by_name = {v["name"]: v for v in versions}
    children: dict = {}
    roots = []
    for v in sorted(versions, key=lambda v: version_key(v["name"])):
        parent = v.get("parent")
        if parent and parent in by_name and parent != v["name"]:
            children.setdefault(parent, []).append(v)
        else:
            roots.append(v)
    lines: list[str] = []

    def walk(node, prefix, last, depth):
        markers = sorted(node.get("markers") or [])
        label = node["name"] + (f"  [{', '.join(markers)}]" if markers else "")
        if depth == 0:
            lines.append(label)
            child_prefix = ""
        else:
            lines.append(f"{prefix}{'└── ' if last else '├── '}{label}")
            child_prefix = prefix + ("    " if last else "│   ")
        kids = children.get(node["name"], [])
        for i, kid in enumerate(kids):
            walk(kid, child_prefix, i == len(kids) - 1, depth + 1)

    for root in roots:
        walk(root, "", True, 0)
    return lines


def render_text(report: dict) -> str:
    out = [f"goldenimage.avd demo: {report['result'].upper()}"]
    for image_host, image in report["images"].items():
        out.append("")
        out.append(f"Image {image.get('gallery')}/{image.get('image')} ({image_host})")
        out.extend("  " + line for line in version_tree(image.get("versions", [])))
        out.append("Host pools")
        for pool in image.get("host_pools", []):
            out.append(f"  {pool['name']}: follows {pool.get('marker')} -> {pool.get('target_version')}")
            for host in pool.get("hosts", []):
                out.append(f"    {host.get('name'):<24} {_host_version(host)!s:<8} {host.get('status', '')}")
    out.append("")
    out.append(f"{'Stage':<44} {'Azure time':>12} {'waiting':>12} {'controller':>10} {'ARM requests':>13}")
    for stage in report["stages"]:
        out.append(f"{stage['name'][:44]:<44} {_duration(stage['azure_time_s']):>12} "
                   f"{_duration(stage.get('waited_s', 0)):>12} {stage['controller_time_s']:>9.1f}s "
                   f"{stage['arm_requests']:>13}")
    out.append(f"{'Total':<44} {_duration(report['azure_time_s']):>12} {_duration(report['waited_s']):>12} "
               f"{report['controller_time_s']:>9.1f}s {report['arm_requests']['total']:>13}")
    out.append("Azure time: what the run takes against Azure (the simulator's clock: operations, replication "
               "and users as Azure paces them, the controller's own seconds once); waiting: the part spent "
               "waiting for Azure and users; controller: real seconds of Ansible.")
    req = report["arm_requests"]
    out.append("")
    out.append(f"ARM requests: {req['total']} ({req['reads']} reads, {req['writes']} writes, "
               f"{req['deletes']} deletes), throttled {req['throttled']}")
    users = report["user_impact"]
    out.append(f"Users: {users['logon_attempts']} logons, {users['logon_failures']} logon failures, "
               f"{users['forced_logoffs']} forced log-offs ({users['forced_logoffs_without_warning']} "
               f"without warning), {users['messages_sent']} messages, "
               f"at least {users['min_available_hosts']} hosts available throughout")
    out.append("Violations: " + ("none" if not report["violations"] else str(len(report["violations"]))))
    for violation in report["violations"]:
        out.append(f"  {violation.get('kind')}: {violation.get('resource')}: {violation.get('detail')}")
    if report["problems"]:
        out.append("Problems:")
        out.extend(f"  - {p}" for p in report["problems"])
    return "\n".join(out)
