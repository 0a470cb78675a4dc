"""Crash test (issue 15): the build (playbooks/build_image.yml) and the rollout (playbooks/rollout.yml) are
killed with SIGKILL, with everything they started, at several points spread over the job, started again each
time, and must end where an uninterrupted run ends: one version built, one host per slot, no orphan VM, disk,
snapshot, network interface or registration, no invariant violation, the original VM in the power state it
had before the first run, and no user logged off or refused.

The kills are chained (crash_support): each re-run is killed later in the job and the last one completes, so a
chain costs about one run plus restarts. ``GOLDENIMAGE_CRASH_POINTS=20`` kills each chain 20 times instead of 6.
Run with ``-s`` to see the kill points.
"""

from __future__ import annotations

import json

import rollout_support as rs
from crash_support import CRASH_POINTS, crash_chain, kill_points
from helpers import REPO, wire
from test_golden_image import GALLERY, IMAGE, INVENTORY, TIME_SCALE as BUILD_TIME_SCALE
from test_golden_image import assert_built, power_state, vm_guest
from test_rollout import TIME_SCALE as ROLLOUT_TIME_SCALE
from test_rollout import lowest_capacity, rollout_vars
from test_vm_clone import ORIGINAL, RG

# Write requests of one uninterrupted run, measured against the demo scenario (the kill points are spread
# over them; a different count only moves the points).
BUILD_WRITES = 28
ROLLOUT_WRITES = 30

# what may be orphaned: every one of these must be accounted for after the chain
ORPHAN_TYPES = ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/disks", "Microsoft.Compute/snapshots",
                "Microsoft.Network/networkInterfaces")


def inventory_of(sim):
    """``{type: sorted names}`` of the resources that a crash could leave behind."""
    out = {kind: [] for kind in ORPHAN_TYPES}
    for resource in sim.state()["resources"]:
        if resource["type"] in out:
            out[resource["type"]].append(resource["name"].lower())
    return {kind: sorted(names) for kind, names in out.items()}


def assert_chain_ran(kills):
    assert len(kills) == CRASH_POINTS and all(kill["killed"] for kill in kills), kills
    # the kills land in more than one place of the job
    assert len({kill["task"] for kill in kills}) > 1, kills


def test_a_build_killed_again_and_again_converges_to_one_clean_build(fresh_sim, tmp_path):
    sim = fresh_sim(scenario="demo", time_scale=BUILD_TIME_SCALE)
    original_before = vm_guest(sim, ORIGINAL)
    assert power_state(sim, ORIGINAL) == "PowerState/running"
    resources_before = inventory_of(sim)

    kills, final = crash_chain(sim, "playbooks/build_image.yml", REPO / INVENTORY, None,
                               kill_points(BUILD_WRITES), tmp_path, "build")
    assert final.rc == 0, final.stdout[-6000:]

    # one version, replicated, with the original's content; no clone, disk, snapshot or NIC left; the
    # original running again, as before the first run, and never sysprepped; one restore point
    assert_built(sim, original_before)
    assert inventory_of(sim) == resources_before
    original = wire(sim.compute_client().virtual_machines.get(RG, ORIGINAL))
    assert "goldenimage.power-state-before" not in (original.get("tags") or {})
    metrics = sim.metrics()
    assert metrics["violations"] == []
    print("build chain: %d kills, %d writes in all, %d requests" % (
        len(kills), metrics["requests"]["writes"], metrics["requests"]["total"]))

    # and one more run changes nothing
    writes = metrics["requests"]["writes"]
    again = crash_chain(sim, "playbooks/build_image.yml", REPO / INVENTORY, None, [], tmp_path, "build")[1]
    assert again.rc == 0 and [t["task"] for t in again.tasks if t["result"].get("changed")] == []
    assert sim.metrics()["requests"]["writes"] == writes
    assert sorted(v.name for v in sim.compute_client().gallery_image_versions.list_by_gallery_image(
        RG, GALLERY, IMAGE)) == ["1.0.0", "1.0.1"]
    assert_chain_ran(kills)


def test_a_rollout_killed_again_and_again_converges_without_hurting_users(fresh_sim, tmp_path):
    sim = fresh_sim(scenario="demo", time_scale=ROLLOUT_TIME_SCALE)
    rs.create_version(sim, "1.0.1")
    rs.move_marker(sim, "1.0.1")
    # the re-run of a killed rollout is the same job (as an AWX job template relaunch): same owner of the lease
    variables = rollout_vars(sim, session_host_rollout_owner="awx-template-crash")
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    before = sim.metrics()
    resources_before = inventory_of(sim)

    kills, final = crash_chain(sim, "playbooks/rollout.yml", inventory, vars_file, kill_points(ROLLOUT_WRITES),
                               tmp_path, "rollout")
    assert final.rc == 0, final.stdout[-6000:]
    after = sim.metrics()

    # one host per slot, all on the new version, none of the old ones; nothing else left
    versions = rs.host_versions(sim)
    assert len(versions) == 3 and set(versions.values()) == {"1.0.1"}, versions
    assert not set(versions) & set(rs.DEMO_HOSTS)
    resources = inventory_of(sim)
    machines = sorted(name.lower() for name in versions)
    assert resources["Microsoft.Compute/virtualMachines"] == sorted(
        [name for name in resources_before["Microsoft.Compute/virtualMachines"] if name not in rs.DEMO_HOSTS]
        + machines)
    assert resources["Microsoft.Compute/snapshots"] == resources_before["Microsoft.Compute/snapshots"]
    # every disk and NIC belongs to a VM that exists
    vm_refs = set()
    for vm in rs.vms(sim).values():
        vm_refs.add(vm.storage_profile.os_disk.managed_disk.id.rsplit("/", 1)[-1].lower())
        vm_refs.update(d.managed_disk.id.rsplit("/", 1)[-1].lower() for d in vm.storage_profile.data_disks or [])
        vm_refs.update(n.id.rsplit("/", 1)[-1].lower() for n in vm.network_profile.network_interfaces or [])
    orphans = [name for kind in ("Microsoft.Compute/disks", "Microsoft.Network/networkInterfaces")
               for name in resources[kind] if name not in vm_refs]
    assert orphans == []
    # registrations: exactly the three hosts, no token left, no lease, no floor
    assert sorted(name.lower() for name in rs.session_hosts(sim)) == machines
    # KNOWN GAP (reported, issue 15): a run killed between minting the pool's registration token and deleting
    # it leaves the token, and a re-run with nothing left to deploy does not delete it; it lives no longer
    # than the 2 hours session_host_deploy gives a token (TOKEN_LIFETIME), as asserted here.
    tokens = sim.desktop_client().host_pools.list_registration_tokens(rs.RG, rs.POOL)
    now = rs.sim_now(sim)
    assert [t for t in (tokens.value or []) if t.token
            and (t.expiration_time - now).total_seconds() > 2 * 3600 + 60] == []
    tags = rs.pool_tags(sim)
    assert "goldenimage.rollout-lock" not in tags and "goldenimage.min-available-hosts" not in tags

    # the users: nobody logged off by force or refused, never fewer hosts in service than at the start
    assert after["users"]["forced_logoffs"] == before["users"]["forced_logoffs"]
    assert after["users"]["logon_failures"] == before["users"]["logon_failures"]
    assert after["violations"] == []
    assert lowest_capacity(after, before["sim_time_s"]) >= 3
    print("rollout chain: %d kills, %d writes, %d requests, %d messages to users" % (
        len(kills), after["requests"]["writes"] - before["requests"]["writes"],
        after["requests"]["total"] - before["requests"]["total"],
        after["users"]["messages_sent"] - before["users"]["messages_sent"]))
    assert_chain_ran(kills)
