"""Edge cases of markers against the simulator: rollbacks whose target is gone or unusable, check mode
and --diff of a rollback, odd marker names, and pruning that must not delete a rollback target.
"""

from __future__ import annotations

import pytest

from helpers import run_module
from test_marker_tag_support import (
    FAST,
    GALLERY,
    IMAGE,
    RG,
    TARGET,
    all_tags,
    create_version,
    end_of_life_soon,
    holders,
    run_many,
    three_versions,
    version_tags,
)

TIME_SCALE = 600


@pytest.fixture(scope="module")
def world():
    """A private demo simulator: 1.0.0 (prod, used by the demo session hosts), 1.0.1 and 1.0.2."""
    with three_versions(TIME_SCALE) as pair:
        yield pair


def marker(sim, name, check=False, diff=False, **args):
    return run_module(sim, "marker_tag", dict(TARGET, marker=name, **FAST, **args), check=check, diff=diff)


def names(compute):
    return sorted((item.name for item in compute.gallery_image_versions.list_by_gallery_image(RG, GALLERY, IMAGE)),
                  key=lambda name: tuple(int(part) for part in name.split(".")))


def set_version(compute, name, **publishing):
    """Change the publishing profile of a version (excludeFromLatest, endOfLifeDate) through the SDK."""
    compute.gallery_image_versions.begin_update(RG, GALLERY, IMAGE, name,
                                                {"properties": {"publishingProfile": publishing}}).result(timeout=60)


def test_rollback_check_mode_and_diff_write_nothing_then_the_real_run_matches(world):
    sim, compute = world
    moved = marker(sim, "prod", version="1.0.1")
    assert moved["changed"] and moved["previous"] == "1.0.0", moved
    before = all_tags(compute)

    preview = marker(sim, "prod", rollback=True, check=True, diff=True)
    assert preview["changed"] and (preview["before"], preview["after"]) == ("1.0.1", "1.0.0"), preview
    assert preview["diff"]["before"] == {"marker": "prod", "version": "1.0.1"}
    assert preview["diff"]["after"] == {"marker": "prod", "version": "1.0.0", "previous": "1.0.1"}
    assert all_tags(compute) == before, "check mode wrote something"

    real = marker(sim, "prod", rollback=True, diff=True)
    assert (real["changed"], real["after"], real["diff"]) == (True, "1.0.0", preview["diff"]), real
    again = marker(sim, "prod", rollback=True, check=True)
    assert not again["changed"] and again["after"] == "1.0.0" and "already rolled back" in again["notes"][0], again
    assert holders(compute, "prod") == ["1.0.0"]


def test_rollback_to_an_excluded_or_expired_previous_holder_is_refused_before_any_write(world):
    sim, compute = world
    marker(sim, "pilot", version="1.0.1")
    marker(sim, "pilot", version="1.0.2")  # pilot on 1.0.2, previous 1.0.1
    set_version(compute, "1.0.1", excludeFromLatest=True)
    before = all_tags(compute)
    refused = marker(sim, "pilot", rollback=True)
    assert refused["failed"] and "1.0.1" in refused["msg"] and "excluded from use" in refused["msg"], refused
    assert all_tags(compute) == before

    allowed = marker(sim, "pilot", rollback=True, allow_excluded=True)
    assert allowed["changed"] and allowed["after"] == "1.0.1", allowed
    marker(sim, "pilot", version="1.0.2")  # forward again: previous 1.0.1
    set_version(compute, "1.0.1", excludeFromLatest=False, endOfLifeDate=end_of_life_soon(sim, 600))
    sim.advance(1200)
    before = all_tags(compute)
    expired = marker(sim, "pilot", rollback=True)
    assert expired["failed"] and "past its end of life" in expired["msg"], expired
    assert all_tags(compute) == before
    marker(sim, "pilot", state="absent")


@pytest.mark.parametrize("option", ["marker", "source_marker"])
def test_odd_marker_names_fail_naming_the_option_before_any_write(world, option):
    sim, compute = world
    before = all_tags(compute)
    odd = ["Prod", "pi lot", "pi.lot", "x" * 33, "1prod", "prod\n", "pilot/x", ""]
    cases = []
    for name in odd:
        args = dict(TARGET, **FAST)
        if option == "marker":
            args.update(marker=name, version="1.0.1")
        else:
            args.update(marker="canary", source_marker=name)
        cases.append(args)
    for name, result in zip(odd, run_many(sim, "marker_tag", cases)):
        assert result["failed"], (name, result)
        assert "'%s'" % option in result["msg"], (name, result["msg"])
    assert all_tags(compute) == before, "a refused run wrote something"
    longest = marker(sim, "m" * 32, version="1.0.0", check=True)
    assert longest["changed"] and not longest["failed"], longest


def test_prune_keeps_the_rollback_target_of_a_marker(world):
    sim, compute = world
    create_version(sim, compute, "1.0.3", parent="1.0.2")
    marker(sim, "prod", version="1.0.2")  # prod 1.0.0 -> 1.0.2: a rollback goes to 1.0.0 (used anyway)
    marker(sim, "prod", version="1.0.3")  # prod 1.0.2 -> 1.0.3: a rollback now goes to 1.0.2
    assert version_tags(compute, "1.0.3")["goldenimage.marker.prod.previous"] == "1.0.2"

    preview = run_module(sim, "image_version_prune", dict(TARGET, keep=1, **FAST), check=True)
    assert "1.0.2" not in preview["deleted"], preview
    assert any("rollback" in reason for reason in preview["kept"]["1.0.2"]), preview["kept"]
    pruned = run_module(sim, "image_version_prune", dict(TARGET, keep=1, **FAST))
    assert pruned["deleted"] == ["1.0.1"], pruned
    assert names(compute) == ["1.0.0", "1.0.2", "1.0.3"]

    rolled = marker(sim, "prod", rollback=True)
    assert rolled["changed"] and rolled["after"] == "1.0.2", rolled


def create_resource_group(sim, compute, name, location="westeurope"):
    """A resource group through ARM (no resource-management SDK here: a raw request on the compute client)."""
    from azure.core.rest import HttpRequest

    url = "%s/subscriptions/%s/resourcegroups/%s?api-version=2021-04-01" % (sim.arm_endpoint, sim.subscription_id, name)
    compute._client.send_request(HttpRequest("PUT", url, json={"location": location})).raise_for_status()


def test_hostpool_in_another_resource_group_than_the_gallery(world):
    sim, compute = world
    from azure.mgmt.desktopvirtualization.models import HostPool

    desktop = sim.desktop_client()
    create_resource_group(sim, compute, "rg-avd-pools")
    desktop.host_pools.create_or_update("rg-avd-pools", "hp-other-rg", HostPool(
        location="westeurope", host_pool_type="Pooled", load_balancer_type="BreadthFirst",
        preferred_app_group_type="Desktop", max_session_limit=4))
    args = {"resource_group": "rg-avd-pools", "host_pool": "hp-other-rg", "gallery": GALLERY, "image": IMAGE,
            "marker": "prod"}

    wrong = run_module(sim, "hostpool_marker", args)  # the gallery is not in the pool's resource group
    assert wrong["failed"] and "does not exist" in wrong["msg"], wrong
    args["gallery_resource_group"] = RG
    preview = run_module(sim, "hostpool_marker", args, check=True, diff=True)
    assert preview["changed"] and preview["diff"]["before"] == {"binding": None}, preview
    assert not dict(desktop.host_pools.get("rg-avd-pools", "hp-other-rg").tags or {})
    bound = run_module(sim, "hostpool_marker", args)
    expected_image = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s" % (
        sim.subscription_id, RG, GALLERY, IMAGE)
    assert bound["changed"] and bound["binding"]["image_id"].lower() == expected_image.lower(), bound
    tags = dict(desktop.host_pools.get("rg-avd-pools", "hp-other-rg").tags or {})
    assert tags["goldenimage.follow-image"].lower() == expected_image.lower()
    assert bound["version"] == resolve(compute, "prod")
    again = run_module(sim, "hostpool_marker", args)
    assert not again["changed"], again
    by_id = run_module(sim, "hostpool_marker", {"resource_group": "rg-avd-pools", "host_pool": "hp-other-rg",
                                                "image_id": expected_image, "marker": "prod"})
    assert not by_id["changed"], by_id

    info = run_module(sim, "image_version_info", dict(TARGET, following_host_pools=True, replication_status=False))
    following = {(pool["resource_group"], pool["name"]): pool for pool in info["following_host_pools"]}
    assert following[("rg-avd-pools", "hp-other-rg")]["version"] == resolve(compute, "prod"), following
    narrowed = run_module(sim, "image_version_info", dict(TARGET, following_host_pools=True, replication_status=False,
                                                          host_pools_resource_group="rg-avd-pools"))
    assert [pool["name"] for pool in narrowed["following_host_pools"]] == ["hp-other-rg"], narrowed

    tags_before = dict(desktop.host_pools.get("rg-avd-pools", "hp-other-rg").tags or {})
    bad = run_module(sim, "hostpool_marker", {"resource_group": "rg-avd-pools", "host_pool": "hp-other-rg",
                                              "state": "absent", "marker": "Prod!"})
    assert bad["failed"] and "'marker'" in bad["msg"], bad
    assert dict(desktop.host_pools.get("rg-avd-pools", "hp-other-rg").tags or {}) == tags_before
    removed = run_module(sim, "hostpool_marker", {"resource_group": "rg-avd-pools", "host_pool": "hp-other-rg",
                                                  "state": "absent", "marker": "prod"})
    assert removed["changed"] and not dict(desktop.host_pools.get("rg-avd-pools", "hp-other-rg").tags or {})
    desktop.host_pools.delete("rg-avd-pools", "hp-other-rg")


def resolve(compute, name):
    found = holders(compute, name)
    assert len(found) == 1, found
    return found[0]


def test_prune_keeps_a_version_a_vm_in_another_resource_group_uses(world):
    """The default looks at every VM of the subscription; vm_resource_groups narrows it (documented)."""
    sim, compute = world
    create_resource_group(sim, compute, "rg-avd-hosts-b")
    create_version(sim, compute, "1.0.4", parent="1.0.3")
    create_version(sim, compute, "1.0.5", parent="1.0.4")
    subnet = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-avd/subnets/"
              "snet-hosts" % (sim.subscription_id, RG))
    body = {
        "location": "westeurope",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {
                "imageReference": {"id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/"
                                         "%s/images/%s/versions/1.0.4" % (sim.subscription_id, RG, GALLERY, IMAGE)},
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete",
                           "managedDisk": {"storageAccountType": "Premium_LRS"}}},
            "osProfile": {"computerName": "hostb0", "adminUsername": "avdadmin", "adminPassword": "Sim-Adm1n-Passw0rd!"},
            "networkProfile": {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [{
                "name": "hostb0-nic", "properties": {"primary": True, "deleteOption": "Delete", "ipConfigurations": [
                    {"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}]}}]},
        },
    }
    compute.virtual_machines.begin_create_or_update("rg-avd-hosts-b", "avd-b-0", body).result(timeout=120)

    narrowed = run_module(sim, "image_version_prune", dict(TARGET, keep=1, vm_resource_groups=[RG], **FAST), check=True)
    assert "1.0.4" in narrowed["deleted"], narrowed  # only rg-avd-demo looked at: the other VM is not seen
    preview = run_module(sim, "image_version_prune", dict(TARGET, keep=1, **FAST), check=True, diff=True)
    assert "1.0.4" not in preview["deleted"], preview
    assert any("avd-b-0" in reason for reason in preview["kept"]["1.0.4"]), preview["kept"]
    # the VM in the other resource group is the only difference: what else goes depends on the marker
    # history the other tests of this worker left (xdist spreads this module's tests over workers)
    assert sorted(preview["deleted"]) == sorted(set(narrowed["deleted"]) - {"1.0.4"}), (narrowed, preview)
    before = preview["diff"]["before"]["versions"]
    assert preview["diff"]["after"]["versions"] == [v for v in before if v not in preview["deleted"]], preview["diff"]
    real = run_module(sim, "image_version_prune", dict(TARGET, keep=1, **FAST))
    assert real["deleted"] == preview["deleted"] and "1.0.4" in names(compute), real
    assert not run_module(sim, "image_version_prune", dict(TARGET, keep=1, **FAST))["changed"]
    compute.virtual_machines.begin_delete("rg-avd-hosts-b", "avd-b-0").result(timeout=120)


def test_tree_shows_a_stale_claim_as_such_and_the_next_move_cleans_it(world):
    sim, compute = world
    holder = resolve(compute, "prod")
    stale_on = "1.0.5"
    tags = version_tags(compute, stale_on)
    tags["goldenimage.marker.prod"] = "2020-01-01T00:00:00Z"  # an old claim left by a crashed writer
    compute.gallery_image_versions.begin_update(RG, GALLERY, IMAGE, stale_on, {"tags": tags}).result(timeout=60)

    info = run_module(sim, "image_version_info", dict(TARGET, replication_status=False))
    assert info["markers"]["prod"] == holder
    lines = info["tree"]["lines"]
    assert [line for line in lines if "[prod" in line or ", prod" in line] == \
        [line for line in lines if line.lstrip("│├└─ ").startswith(holder + " ")], lines
    assert any(line.endswith(stale_on + " (stale claim of prod)") for line in lines), lines

    repaired = run_module(sim, "marker_tag", dict(TARGET, marker="prod", version=holder, **FAST))
    assert repaired["changed"] and repaired["stale_claims"] == [stale_on], repaired
    assert holders(compute, "prod") == [holder]
    assert not any("stale" in line for line in run_module(sim, "image_version_info", TARGET)["tree"]["lines"])


def test_rollback_to_a_deleted_previous_holder_and_promote_onto_itself_are_refused(world):
    sim, compute = world
    create_version(sim, compute, "2.0.0", parent="1.0.5")
    create_version(sim, compute, "2.0.1", parent="2.0.0")
    marker(sim, "canary", version="2.0.0")
    marker(sim, "canary", version="2.0.1")  # previous 2.0.0
    compute.gallery_image_versions.begin_delete(RG, GALLERY, IMAGE, "2.0.0").result(timeout=120)
    before = all_tags(compute)
    gone, itself = run_many(sim, "marker_tag", [dict(TARGET, marker="canary", rollback=True, **FAST),
                                                dict(TARGET, marker="canary", source_marker="canary", **FAST)])
    assert gone["failed"] and "2.0.0, no longer exists" in gone["msg"] and "explicit version" in gone["msg"], gone
    assert itself["failed"] and "source_marker" in itself["msg"] and "differ" in itself["msg"], itself
    assert all_tags(compute) == before, "a refused run wrote something"
    explicit = marker(sim, "canary", rollback=True, version="1.0.5", check=True, diff=True)
    assert explicit["changed"] and explicit["diff"]["after"]["version"] == "1.0.5", explicit
    assert all_tags(compute) == before
    marker(sim, "canary", state="absent")
    assert holders(compute, "canary") == []


def test_rollback_playbook_in_check_mode_with_diff_writes_nothing(world):
    from helpers import run_playbook

    sim, compute = world
    marker(sim, "canary", version="1.0.2")
    marker(sim, "canary", version="1.0.5")  # previous 1.0.2
    before = all_tags(compute)
    writes = sim.metrics()["requests"]["writes"]
    run = run_playbook(sim, "playbooks/rollback.yml", extra_vars={"marker": "canary", "image_marker_lease_seconds": 86400},
                       inventory="playbooks/inventories/demo", check=True, diff=True)
    assert run.rc == 0, run.stdout[-3000:]
    moved = run.task("Move the marker (rollback)")
    assert moved["changed"] and moved["diff"]["after"]["version"] == "1.0.2", moved
    result = run.task("Record the marker outcome")["ansible_facts"]["image_marker_result"]
    assert (result["before"], result["after"]) == ("1.0.5", "1.0.2"), result
    assert all_tags(compute) == before and sim.metrics()["requests"]["writes"] == writes
    promote_onto_itself = run_playbook(sim, "playbooks/promote.yml", inventory="playbooks/inventories/demo",
                                       extra_vars={"marker": "canary", "source_marker": "canary"})
    assert promote_onto_itself.rc != 0 and "source_marker" in promote_onto_itself.task(
        "Move the marker (promote)")["msg"]
    assert all_tags(compute) == before
    marker(sim, "canary", state="absent")
