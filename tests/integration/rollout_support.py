"""Test support for the rollout tests (hostpool_info, session_host_deploy, hostpool_drain, rollout).

Everything here talks to the simulator through the real SDK clients (``sim.compute_client()``,
``sim.desktop_client()``) or its control API; nothing is mocked.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import yaml

RG = "rg-avd-demo"
POOL = "hp-demo-pooled"
GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
MARKER = "prod"
DEMO_HOSTS = ["avd-demo-0", "avd-demo-1", "avd-demo-2"]
# A password that satisfies Azure's complexity rule; a test value, never a real secret.
ADMIN_PASSWORD = "Rollout-Test-Pa55!"


def subnet_id(sim):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-avd/"
            "subnets/snet-hosts" % (sim.subscription_id, RG))


def definition_id(sim):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s"
            % (sim.subscription_id, RG, GALLERY, IMAGE))


def version_id(sim, version):
    return "%s/versions/%s" % (definition_id(sim), version)


def sim_now(sim):
    return datetime.datetime.fromisoformat(sim.clock()["sim_now"].replace("Z", "+00:00"))


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_version(sim, version, base="1.0.0", regions=("westeurope",)):
    """A new gallery image version with the (generalized) content of ``base``: a managed disk from
    the base version, captured as ``version`` (real SDK calls, as a build pipeline would)."""
    compute = sim.compute_client()
    disk = compute.disks.begin_create_or_update(RG, "disk-build-%s" % version.replace(".", "-"), {
        "location": "westeurope",
        "properties": {"creationData": {"createOption": "FromImage",
                                        "galleryImageReference": {"id": version_id(sim, base)}}},
    }).result()
    body = {
        "location": "westeurope",
        "properties": {
            "storageProfile": {"osDiskImage": {"source": {"id": disk.id}}},
            "publishingProfile": {"targetRegions": [{"name": region, "regionalReplicaCount": 1}
                                                    for region in regions]},
        },
    }
    created = compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, IMAGE, version, body).result()
    compute.disks.begin_delete(RG, disk.name).result()
    return created


def move_marker(sim, version, marker=MARKER):
    """Move ``marker`` to ``version`` the way marker_tag does (tags on the versions)."""
    compute = sim.compute_client()
    key = "goldenimage.marker.%s" % marker
    previous = None
    for item in compute.gallery_image_versions.list_by_gallery_image(RG, GALLERY, IMAGE):
        tags = dict(item.tags or {})
        if key in tags and item.name != version:
            previous = item.name
            tags.pop(key)
            compute.gallery_image_versions.begin_update(RG, GALLERY, IMAGE, item.name, {"tags": tags}).result()
    target = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, version)
    tags = dict(target.tags or {})
    tags[key] = iso(sim_now(sim))
    if previous:
        tags[key + ".previous"] = previous
    compute.gallery_image_versions.begin_update(RG, GALLERY, IMAGE, version, {"tags": tags}).result()


def session_hosts(sim, pool=POOL, rg=RG):
    desktop = sim.desktop_client()
    return {sh.name.split("/")[-1].split(".")[0]: sh for sh in desktop.session_hosts.list(rg, pool)}


def vms(sim, rg=RG):
    return {vm.name: vm for vm in sim.compute_client().virtual_machines.list(rg)}


def host_versions(sim, pool=POOL, rg=RG):
    """``{host: image version}`` of every session host of the pool, read from its VM."""
    machines = vms(sim, rg)
    out = {}
    for name, sh in session_hosts(sim, pool, rg).items():
        vm = machines.get(name)
        ref = vm.storage_profile.image_reference if vm else None
        out[name] = (ref.exact_version or (ref.id or "").rsplit("/", 1)[-1]) if ref else None
    return out


def pool_tags(sim, pool=POOL, rg=RG):
    return dict(sim.desktop_client().host_pools.get(rg, pool).tags or {})


def users(sim):
    return sim.metrics()["users"]


def requests_delta(before, after):
    out = {"total": after["requests"]["total"] - before["requests"]["total"],
           "writes": after["requests"]["writes"] - before["requests"]["writes"],
           "deletes": after["requests"]["deletes"] - before["requests"]["deletes"],
           "throttled": after["throttled"] - before["throttled"]}
    out["errors_by_code"] = {code: n - before.get("errors_by_code", {}).get(code, 0)
                             for code, n in after.get("errors_by_code", {}).items()
                             if n - before.get("errors_by_code", {}).get(code, 0)}
    ops = {}
    for op, count in after["requests"]["by_operation"].items():
        delta = count - before["requests"]["by_operation"].get(op, 0)
        if delta:
            ops[op] = delta
    out["by_operation"] = ops
    return out


def waits_kept(metrics):
    """How many requests kept a wait so far (polls of operations, of users leaving; avdsim.pacing)."""
    return sum(metrics["clock"]["waits_kept"].values())


def capacity_points(metrics, since_s=0.0):
    return [point for point in metrics["users"]["capacity_timeline"] if point[0] >= since_s]


def wait_until(predicate, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %ss" % timeout)


def write_scenario(tmp_path, data, name="scenario.yaml"):
    path = Path(tmp_path) / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def demo_subscription_id():
    import avdsim  # pylint: disable=import-outside-toplevel
    demo = Path(avdsim.__file__).resolve().parent / "scenarios" / "demo.yaml"
    return yaml.safe_load(demo.read_text())["subscription_id"]


def big_pool_scenario(hosts=20, users_per_host=4, session_minutes=None, pool="hp-big"):
    """The demo world plus a pooled host pool of ``hosts`` session hosts on 1.0.0 following ``prod``."""
    definition = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s"
                  % (demo_subscription_id(), RG, GALLERY, IMAGE))
    names = ["avd-big-%d" % i for i in range(hosts)]
    data = {
        "extends": "demo",
        "virtual_machines": [
            {"resource_group": RG, "name": name, "size": "Standard_D4s_v5",
             "image": {"gallery": GALLERY, "image": IMAGE, "version": "1.0.0"},
             "admin_username": "avdadmin", "subnet": "vnet-avd/snet-hosts", "power_state": "running"}
            for name in names
        ],
        "host_pools": [{
            "resource_group": RG, "name": pool, "host_pool_type": "Pooled",
            "load_balancer_type": "BreadthFirst", "max_session_limit": 8,
            "tags": {"goldenimage.follow-image": definition, "goldenimage.follow-marker": MARKER},
            "session_hosts": names,
            "users": {"target_concurrent_users": hosts * users_per_host,
                      "session_minutes": session_minutes or {"distribution": "lognormal", "median_minutes": 30,
                                                             "sigma": 0.4, "min_minutes": 10, "max_minutes": 60}},
        }],
    }
    return data, names


def run_steps(sim, steps):
    """Run several module calls in ONE ansible-playbook process (a process costs seconds to start).

    ``steps``: ``[(name, module, args, task_options)]``, e.g. ``("check", "hostpool_drain", {...},
    {"check_mode": True, "diff": True})``. Every step runs with ``ignore_errors`` so that a refusal
    can be asserted; returns ``{name: result}`` (Ansible's result, ``failed`` included).
    """
    from helpers import run_playbook  # pylint: disable=import-outside-toplevel

    tasks = []
    for name, module, args, options in steps:
        task = {"name": name, "goldenimage.avd.%s" % module: dict(args), "ignore_errors": True}
        task.update(options or {})
        tasks.append(task)
    run = run_playbook(sim, [{"name": "steps", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    out = {}
    for name, _module, _args, _options in steps:
        result = dict(run.task(name))
        result.setdefault("changed", False)
        result.setdefault("failed", False)
        out[name] = result
    return out
