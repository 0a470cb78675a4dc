# -*- coding: utf-8 -*-
"""Table-driven tests of what a golden-image run cleans up (``_cleanup``): which phase keeps the clone and
puts the original's power state back, and which clones are found from the tags in Azure."""

from __future__ import annotations

import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _cleanup as cleanup
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _cleanup as cleanup

SUB = "00000000-0000-0000-0000-000000000001"
ORIGINAL = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-golden" % SUB
OTHER = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-other" % SUB


def tagged(name, source=ORIGINAL, role="clone"):
    tags = {"goldenimage.role": role}
    if source:
        tags["goldenimage.clone-of"] = source
    return {"name": name, "tags": tags}


@pytest.mark.parametrize("phase, action, failed, keep_failed, keep, restore", [
    # start: only a resumed capture needs the clone; the power goes back now only when no build step follows
    ("start", "build", False, False, False, False),
    ("start", "retry", False, False, False, False),
    ("start", "resume", False, False, True, False),
    ("start", "finish", False, False, False, True),
    ("start", "refuse", False, False, False, True),
    # keep_failed_clone means nothing before the build steps
    ("start", "build", True, True, False, False),
    # end: the power goes back in any case; the clone stays only for a failed build that keeps it
    ("end", "build", False, False, False, True),
    ("end", "build", False, True, False, True),
    ("end", "build", True, False, False, True),
    ("end", "build", True, True, True, True),
    ("end", "resume", False, False, False, True),
    ("end", "finish", False, False, False, True),
    ("end", "retry", True, True, True, True),
])
def test_cleanup_decision(phase, action, failed, keep_failed, keep, restore):
    decision = cleanup.cleanup_decision(phase, action, failed, keep_failed)
    assert (decision["keep_clone"], decision["restore_power"]) == (keep, restore)
    assert decision["reason"]


@pytest.mark.parametrize("phase, action, needle", [
    ("middle", "build", "Option 'phase' must be one of start, end; got 'middle'."),
    ("start", "rebuild", "Option 'build_action' must be one of build, resume, retry, finish, refuse"),
])
def test_cleanup_decision_refuses_what_it_does_not_know(phase, action, needle):
    with pytest.raises(ValueError) as info:
        cleanup.cleanup_decision(phase, action)
    assert needle in str(info.value)


@pytest.mark.parametrize("name, clone", [
    ("c1-osdisk", "c1"),
    ("vm-golden-clone-datadisk-3", "vm-golden-clone"),
    ("vm-golden-clone-snap-os", "vm-golden-clone"),
    ("vm-golden-clone-snap-data-12", "vm-golden-clone"),
    ("VM-Golden-Clone-OSDISK", "VM-Golden-Clone"),
    ("vm-golden-clone", None),
    ("vm-golden-clone-nic", None),
    ("osdisk", None),
    ("", None),
])
def test_clone_name_of(name, clone):
    assert cleanup.clone_name_of({"name": name}) == clone


@pytest.mark.parametrize("vms, disks, snapshots, found", [
    ([], [], [], []),
    # the clone VM, by its tags
    ([tagged("vm-golden-clone"), tagged("vm-golden", source=None, role="original")], [], [], ["vm-golden-clone"]),
    # a delete killed after the VM went: its disks and snapshots still name the clone
    ([], [tagged("vm-golden-clone-osdisk")], [tagged("vm-golden-clone-snap-os")], ["vm-golden-clone"]),
    # a clone made under another name by an earlier run counts too; case does not make two clones
    ([tagged("old-clone")], [tagged("VM-GOLDEN-CLONE-osdisk")], [tagged("vm-golden-clone-snap-os")],
     ["old-clone", "VM-GOLDEN-CLONE"]),
    # not clones of this original: another VM's clone, an untagged disk, a VM tagged clone without its source
    ([tagged("vm-other-clone", source=OTHER), tagged("lost", source=None)],
     [{"name": "vm-golden-clone-osdisk", "tags": {}}, {"name": "data", "tags": None}],
     [tagged("vm-other-clone-snap-os", source=OTHER)], []),
    # a tagged disk whose name vm_clone would not give it is not a clone part
    ([], [tagged("scratch-disk")], [], []),
    # the source id compares case-insensitively, as ARM ids do
    ([tagged("vm-golden-clone", source=ORIGINAL.upper())], [], [], ["vm-golden-clone"]),
])
def test_clones_of_the_original_are_found_by_their_tags(vms, disks, snapshots, found):
    assert cleanup.clones_of(ORIGINAL, vms, disks, snapshots) == found


@pytest.mark.parametrize("found, clone_name, keep_clone, remove, keep", [
    ([], "c", False, [], []),
    ([], "c", True, [], []),
    (["c"], "c", False, ["c"], []),
    (["c"], "C", True, [], ["c"]),
    # only the build's own clone can be kept; another clone of the same original is a leftover
    (["c", "old"], "c", True, ["old"], ["c"]),
    (["c", "old"], "c", False, ["c", "old"], []),
])
def test_plan_cleanup(found, clone_name, keep_clone, remove, keep):
    assert cleanup.plan_cleanup(found, clone_name, keep_clone) == {"remove": remove, "keep": keep}


def test_planned_deletions_list_only_parts_of_this_original():
    found = {"vm": tagged("c"), "disks": [tagged("c-osdisk"), tagged("c-datadisk-0", source=OTHER)],
             "snapshots": [tagged("c-snap-os")]}
    assert cleanup.planned_deletions(found, ORIGINAL) == [
        {"kind": "vm", "name": "c"}, {"kind": "disk", "name": "c-osdisk"}, {"kind": "snapshot", "name": "c-snap-os"}]
    assert cleanup.planned_deletions({"vm": None, "disks": [], "snapshots": []}, ORIGINAL) == []
