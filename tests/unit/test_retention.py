# -*- coding: utf-8 -*-
"""Table-driven tests of image version retention (plugins/module_utils/_retention.py)."""

from __future__ import annotations

import datetime
import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_tags as marker_tags
    from ansible_collections.goldenimage.avd.plugins.module_utils import _retention as retention
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_tags as marker_tags
    from ansible_collections.goldenimage.avd.plugins.module_utils import _retention as retention

NOW = datetime.datetime(2026, 11, 22, 12, 0, 0, tzinfo=datetime.timezone.utc)
IMAGE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/win11"


def version(name, tags=None, state="Succeeded", exclude=False, eol=None, block=False):
    props = {"provisioningState": state, "publishingProfile": {"excludeFromLatest": exclude}}
    if eol:
        props["publishingProfile"]["endOfLifeDate"] = eol
    if block:
        props["safetyProfile"] = {"blockDeletionBeforeEndOfLife": True}
    return marker_tags.summarize_version({"name": name, "id": IMAGE + "/versions/" + name, "tags": tags or {},
                                          "properties": props}, NOW)


def vm(name, image_id, exact=None):
    reference = {"id": image_id}
    if exact:
        reference["exactVersion"] = exact
    return {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/" + name,
            "properties": {"storageProfile": {"imageReference": reference}}}


NAMES = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.10"]


@pytest.mark.parametrize("vms,used,latest", [
    ([], {}, []),
    ([vm("a", IMAGE + "/versions/1.0.1")], {"1.0.1": ["a"]}, []),
    ([vm("a", IMAGE.upper() + "/VERSIONS/1.0.1"), vm("b", IMAGE + "/versions/1.0.1")], {"1.0.1": ["a", "b"]}, []),
    ([vm("a", IMAGE, exact="1.0.2")], {"1.0.2": ["a"]}, ["a"]),
    ([vm("a", IMAGE + "/versions/latest", exact="1.0.3")], {"1.0.3": ["a"]}, ["a"]),
    ([vm("a", IMAGE)], {}, ["a"]),
    ([vm("a", IMAGE + "2/versions/1.0.1")], {}, []),  # another definition with a common prefix
    ([{"id": "x", "properties": {"storageProfile": {"imageReference": {"publisher": "MicrosoftWindowsDesktop"}}}}],
     {}, []),
])
def test_versions_in_use(vms, used, latest):
    found, latest_users = retention.versions_in_use(vms, IMAGE, NAMES)
    assert {name: [vm_id.rsplit("/", 1)[-1] for vm_id in ids] for name, ids in found.items()} == used
    assert [vm_id.rsplit("/", 1)[-1] for vm_id in latest_users] == latest


@pytest.mark.parametrize("versions,keep,in_use,latest_users,deleted,kept_reason", [
    # keep the newest N by version number (1.0.10 > 1.0.3)
    ([version(n) for n in NAMES], 2, {}, [], ["1.0.0", "1.0.1", "1.0.2"], {"1.0.10": "newest 2", "1.0.3": "newest 2"}),
    ([version(n) for n in NAMES], 10, {}, [], [], {}),
    # a marked version is never deleted
    ([version("1.0.0", {"goldenimage.marker.prod": "2026-01-01T00:00:00Z"}), version("1.0.1"), version("1.0.2")],
     1, {}, [], ["1.0.1"], {"1.0.0": "marker prod"}),
    # a version used by a session host VM is never deleted
    ([version(n) for n in NAMES], 1, {"1.0.1": ["/x/avd-demo-0"]}, [], ["1.0.0", "1.0.2", "1.0.3"],
     {"1.0.1": "avd-demo-0"}),
    # 'latest' users protect what latest resolves to (excluded versions are skipped by latest)
    ([version("1.0.0"), version("1.0.1"), version("1.0.2", exclude=True)], 1, {}, ["/x/vm"], ["1.0.0"],
     {"1.0.1": "latest"}),
    # versions another operation is working on are left alone
    ([version("1.0.0", state="Creating"), version("1.0.1", state="Deleting"), version("1.0.2")], 1, {}, [], [],
     {"1.0.0": "Creating", "1.0.1": "Deleting"}),
    # failed old versions are cleaned up
    ([version("1.0.0", state="Failed"), version("1.0.1")], 1, {}, [], ["1.0.0"], {}),
    # Azure blocks deletion before end of life
    ([version("1.0.0", block=True, eol="2027-01-01T00:00:00Z"), version("1.0.1", block=True,
                                                                        eol="2026-01-01T00:00:00Z"),
      version("1.0.2")], 1, {}, [], ["1.0.1"], {"1.0.0": "end of life"}),
    # the previous holder of a marker is where its rollback goes: kept (1.0.0, older, is not)
    ([version("1.0.0"), version("1.0.1"), version("1.0.2", {"goldenimage.marker.prod": "2026-11-01T00:00:00Z",
                                                            "goldenimage.marker.prod.previous": "1.0.1"})],
     1, {}, [], ["1.0.0"], {"1.0.1": "rollback target of marker prod"}),
    # one version can be the rollback target of several markers
    ([version("1.0.0"), version("1.0.1", {"goldenimage.marker.pilot": "2026-11-01T00:00:00Z",
                                          "goldenimage.marker.pilot.previous": "1.0.0"}),
      version("1.0.2", {"goldenimage.marker.prod": "2026-11-01T00:00:00Z",
                        "goldenimage.marker.prod.previous": "1.0.0"})],
     1, {}, [], [], {"1.0.0": "rollback target of marker pilot, prod"}),
    # after a rollback, a second rollback is a no-op: the version rolled back from is not protected
    ([version("1.0.0", {"goldenimage.marker.prod": "2026-11-01T00:00:00Z", "goldenimage.marker.prod.previous": "1.0.1",
                        "goldenimage.marker.prod.rolled-back-from": "1.0.1"}), version("1.0.1"), version("1.0.2")],
     1, {}, [], ["1.0.1"], {"1.0.0": "marker prod"}),
    # a stale claim's previous holder is not a rollback target (the newest claim wins)
    ([version("1.0.0"), version("1.0.1", {"goldenimage.marker.prod": "2026-10-01T00:00:00Z",
                                          "goldenimage.marker.prod.previous": "1.0.0"}),
      version("1.0.2"), version("1.0.3", {"goldenimage.marker.prod": "2026-11-01T00:00:00Z"})],
     1, {}, [], ["1.0.0", "1.0.2"], {"1.0.1": "holds marker prod"}),
    # a rollback target that a rollback could not use (failed, past its end of life) is not kept for it
    ([version("1.0.0", state="Failed"), version("1.0.1", eol="2026-01-01T00:00:00Z"),
      version("1.0.2", {"goldenimage.marker.prod": "2026-11-01T00:00:00Z", "goldenimage.marker.prod.previous": "1.0.1",
                        "goldenimage.marker.pilot": "2026-11-01T00:00:00Z", "goldenimage.marker.pilot.previous": "1.0.0"})],
     1, {}, [], ["1.0.0", "1.0.1"], {}),
])
def test_select_for_deletion(versions, keep, in_use, latest_users, deleted, kept_reason):
    delete, kept = retention.select_for_deletion(versions, keep, in_use, latest_users, NOW)
    assert delete == deleted
    for name, fragment in kept_reason.items():
        assert any(fragment in reason for reason in kept[name]), kept[name]
    assert set(delete).isdisjoint(kept)
    assert set(delete) | set(kept) == {item["name"] for item in versions}


@pytest.mark.parametrize("keep", [0, -1, "2", None, True])
def test_select_for_deletion_rejects_bad_keep(keep):
    with pytest.raises(ValueError, match="keep"):
        retention.select_for_deletion([version("1.0.0")], keep, {})


def test_latest_version():
    assert retention.latest_version([version("1.0.9"), version("1.0.10"), version("1.0.11", exclude=True)]) == "1.0.10"
    assert retention.latest_version([version("1.0.0", exclude=True)]) is None
