"""image_version_info with source_vm against the simulator: the golden-image build decision (which
version, build / finish / refuse), for a missing definition too, the same in check mode; it never writes.
"""

from __future__ import annotations

import pytest

from test_marker_tag_support import RG, TARGET, all_tags, create_version, run_many

TIME_SCALE = 600
VM = "/subscriptions/%s/resourceGroups/" + RG + "/providers/Microsoft.Compute/virtualMachines/vm-golden"


@pytest.fixture(scope="module")
def world():
    from avdsim.testing import SimServer

    with SimServer(scenario="demo", time_scale=TIME_SCALE) as sim:
        compute = sim.compute_client()
        vm_id = VM % sim.subscription_id
        create_version(sim, compute, "1.0.1", tags={"goldenimage.source-vm": vm_id.upper()})
        create_version(sim, compute, "1.0.2", parent="1.0.1", tags={"goldenimage.source-vm": "/x/vm-other"})
        yield sim, compute, vm_id


def test_build_decision(world):
    sim, compute, vm_id = world
    before = all_tags(compute)
    writes = sim.metrics()["requests"]["writes"]
    cases = [
        dict(TARGET, source_vm=vm_id, replication_status=False),
        dict(TARGET, source_vm=vm_id, build_version="1.0.1"),
        dict(TARGET, source_vm=vm_id, build_version="1.0.2"),
        dict(TARGET, source_vm=vm_id, build_version="2.0.0", version="1.0.1"),
        dict(TARGET, image="no-such-def", source_vm=vm_id),
        dict(TARGET),
        dict(TARGET, source_vm=vm_id, build_version="1.1"),
        dict(TARGET, source_vm="vm-golden"),
    ]
    for check in (False, True):
        auto, mine, other, pinned, missing, without, bad_version, bad_vm = run_many(
            sim, "image_version_info", cases, check=check)
        assert not auto["failed"] and not auto["changed"], auto
        assert (auto["build"]["version"], auto["build"]["action"]) == ("1.0.3", "build")
        assert auto["build"]["next_version"] == "1.0.3"
        assert (auto["build"]["unfinished"], auto["build"]["failed"]) == ([], [])
        # 1.0.1 carries the VM id in upper case: ARM ids compare case-insensitively
        assert (mine["build"]["version"], mine["build"]["action"]) == ("1.0.1", "finish")
        assert (other["build"]["version"], other["build"]["action"]) == ("1.0.2", "refuse")
        # the decision covers every version, whatever the version filter returns
        assert (pinned["build"]["version"], pinned["build"]["action"]) == ("2.0.0", "build")
        assert [item["name"] for item in pinned["versions"]] == ["1.0.1"]
        assert missing["exists"] is False and not missing["failed"]
        assert (missing["build"]["version"], missing["build"]["action"]) == ("1.0.0", "build")
        assert not without["failed"] and "build" not in without
        assert bad_version["failed"] and "build_version" in bad_version["msg"]
        assert bad_vm["failed"] and "resource id" in bad_vm["msg"]
    assert all_tags(compute) == before
    assert sim.metrics()["requests"]["writes"] == writes
