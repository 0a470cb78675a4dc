# -*- coding: utf-8 -*-
"""Table-driven tests of image-version provenance (plugins/module_utils/_provenance.py) and of the revert
helpers of plugins/module_utils/_backup.py."""

from __future__ import annotations

import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _backup as backup
    from ansible_collections.goldenimage.avd.plugins.module_utils import _provenance as prov
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _backup as backup
    from ansible_collections.goldenimage.avd.plugins.module_utils import _provenance as prov

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-golden"
KBS = ["KB50%05d" % i for i in range(40)]


@pytest.mark.parametrize("items, limit, expected", [
    ([], 256, "0:"),
    (None, 256, "0:"),
    (["KB5044284", "KB5044033", "KB2267602"], 256, "3:KB5044284,KB5044033,KB2267602"),
    (["alice.local"], 256, "1:alice.local"),
    # cut: the count stays true, the tail says how many are not listed
    (["aaaa", "bbbb", "cccc"], 12, "3:aaaa,+2"),
    (["aaaa", "bbbb", "cccc"], 14, "3:aaaa,bbbb,+1"),
    (["aaaa", "bbbb", "cccc"], 16, "3:aaaa,bbbb,cccc"),
    (["a" * 300], 256, "1:+1"),
])
def test_compact_list(items, limit, expected):
    assert prov.compact_list(items, limit) == expected
    assert len(prov.compact_list(items, limit)) <= limit


def test_compact_list_of_many_updates_fits_a_tag_value_and_parses_back():
    value = prov.compact_list(KBS)
    parsed = prov.parse_compact_list(value)
    assert len(value) <= 256 and value.startswith("40:KB5000000,")
    assert parsed["count"] == 40 and parsed["items"] == KBS[:len(parsed["items"])]
    assert len(parsed["items"]) + parsed["more"] == 40 and parsed["more"] > 0


@pytest.mark.parametrize("value, expected", [
    ("3:a,b,c", {"count": 3, "items": ["a", "b", "c"], "more": 0}),
    ("0:", {"count": 0, "items": [], "more": 0}),
    ("40:KB1,KB2,+38", {"count": 40, "items": ["KB1", "KB2"], "more": 38}),
    ("1:+1", {"count": 1, "items": [], "more": 1}),
    ("hand written", None),
    ("x:a", None),
    ("", None),
    (None, None),
])
def test_parse_compact_list(value, expected):
    assert prov.parse_compact_list(value) == expected


@pytest.mark.parametrize("changes, expected", [
    (None, {}),
    ({}, {}),
    ({"updates": None, "accounts_removed": None, "restore_point": None}, {}),
    ({"updates": [], "accounts_removed": []}, {"goldenimage.updates": "0:", "goldenimage.accounts-removed": "0:"}),
    ({"updates": ["KB1"], "accounts_removed": ["alice.local", "bob.local"], "restore_point": "c/before-1.0.1"},
     {"goldenimage.updates": "1:KB1", "goldenimage.accounts-removed": "2:alice.local,bob.local",
      "goldenimage.restore-point": "c/before-1.0.1"}),
])
def test_change_tags(changes, expected):
    assert prov.change_tags(changes) == expected


@pytest.mark.parametrize("changes, error", [
    ({"updates": ["KB1,KB2"]}, "changes.updates"),
    ({"accounts_removed": [""]}, "changes.accounts_removed"),
    ({"updates": ["x" * 101]}, "changes.updates"),
])
def test_validate_changes_names_the_option(changes, error):
    with pytest.raises(ValueError, match=error):
        prov.validate_changes(changes)


def test_validate_changes_accepts_good_input():
    prov.validate_changes({"updates": ["KB5044284"], "accounts_removed": ["alice.local"]})
    prov.validate_changes(None)


@pytest.mark.parametrize("explicit, tags, expected", [
    # a clone: the parent recorded when it was made, whatever the original shows now
    (None, {"goldenimage.clone-of": VM, "goldenimage.parent-version": "1.0.4"}, "1.0.4"),
    (None, {"goldenimage.clone-of": VM, "goldenimage.last-version": "1.0.9"}, None),
    (None, {"goldenimage.clone-of": VM}, None),
    # a VM captured directly: the version it produced last
    (None, {"goldenimage.last-version": "1.0.2"}, "1.0.2"),
    (None, {}, None),
    ("2.0.0", {"goldenimage.clone-of": VM, "goldenimage.parent-version": "1.0.4"}, "2.0.0"),
])
def test_capture_parent_is_recorded_never_guessed(explicit, tags, expected):
    assert prov.capture_parent(explicit, {"id": "/x", "tags": tags}) == expected


@pytest.mark.parametrize("tags, expected", [
    ({"goldenimage.last-version": "1.0.3", "goldenimage.role": "original"}, "1.0.3"),
    ({"goldenimage.role": "original"}, None),
    ({"goldenimage.last-version": ""}, None),
])
def test_clone_parent(tags, expected):
    assert prov.clone_parent({"tags": tags}) == expected


@pytest.mark.parametrize("before, version, expected", [
    ({"goldenimage.role": "original"}, "1.0.1", {"goldenimage.role": "original", "goldenimage.last-version": "1.0.1"}),
    ({"goldenimage.last-version": "1.0.0"}, "1.0.1", {"goldenimage.last-version": "1.0.1"}),
    ({"goldenimage.last-version": "1.0.1"}, "1.0.1", None),
])
def test_original_tags_after_capture(before, version, expected):
    assert prov.original_tags_after_capture(before, version) == expected


@pytest.mark.parametrize("original, version, version_tags, expected", [
    # a run stopped between the capture and the record: the original still shows the version's parent
    ({"goldenimage.last-version": "1.0.0"}, "1.0.1", {"goldenimage.parent-version": "1.0.0"}, True),
    ({}, "1.0.1", {}, True),
    # recorded already
    ({"goldenimage.last-version": "1.0.1"}, "1.0.1", {"goldenimage.parent-version": "1.0.0"}, False),
    # an older version never moves the record back
    ({"goldenimage.last-version": "1.0.2"}, "1.0.1", {"goldenimage.parent-version": "1.0.0"}, False),
    ({"goldenimage.last-version": "1.0.2"}, "1.0.1", {}, False),
])
def test_original_produced(original, version, version_tags, expected):
    assert prov.original_produced(original, version, version_tags) is expected


@pytest.mark.parametrize("tags, name, expected", [
    ({"goldenimage.version-at.before-1.0.2": "1.0.1"}, "before-1.0.2", (True, "1.0.1")),
    ({"goldenimage.version-at.before-1.0.2": ""}, "before-1.0.2", (True, None)),
    ({"goldenimage.version-at.BEFORE-1.0.2": "1.0.1"}, "before-1.0.2", (True, "1.0.1")),
    ({"goldenimage.version-at.other": "1.0.1"}, "before-1.0.2", (False, None)),
    (None, "x", (False, None)),
])
def test_recorded_version(tags, name, expected):
    assert prov.recorded_version(tags, name) == expected


@pytest.mark.parametrize("tags, name, version, points, expected", [
    ({}, "rp1", "1.0.0", [], {"goldenimage.version-at.rp1": "1.0.0"}),
    ({}, "rp1", None, [], {"goldenimage.version-at.rp1": ""}),
    ({"goldenimage.version-at.rp1": "1.0.0"}, "rp1", "1.0.0", ["rp1"], None),
    # records of restore points that are gone are dropped, the operator's own tags stay
    ({"owner": "it", "goldenimage.version-at.gone": "0.9.0", "goldenimage.version-at.rp1": "1.0.0"}, "rp2", "1.0.1",
     ["rp1"], {"owner": "it", "goldenimage.version-at.rp1": "1.0.0", "goldenimage.version-at.rp2": "1.0.1"}),
])
def test_collection_tags_with_record(tags, name, version, points, expected):
    assert prov.collection_tags_with_record(tags, name, version, points) == expected


def test_collection_records_stay_within_the_tag_limit():
    points = ["rp%02d" % i for i in range(60)]
    tags = {prov.version_record_key(p): "1.0.%d" % i for i, p in enumerate(points)}
    out = prov.collection_tags_with_record(tags, "new", "2.0.0", points)
    assert len(out) == prov.MAX_VERSION_RECORDS <= 50
    assert out[prov.version_record_key("new")] == "2.0.0" and prov.version_record_key("rp59") in out
    assert prov.version_record_key("rp00") not in out


@pytest.mark.parametrize("tags, remaining, expected", [
    ({"goldenimage.version-at.a": "1", "goldenimage.version-at.b": "2", "x": "y"}, ["b"],
     {"goldenimage.version-at.b": "2", "x": "y"}),
    ({"goldenimage.version-at.a": "1"}, ["a"], None),
])
def test_collection_tags_without_records(tags, remaining, expected):
    assert prov.collection_tags_without_records(tags, remaining) == expected


@pytest.mark.parametrize("vm_tags, recorded, version, expected", [
    ({"goldenimage.last-version": "1.0.2", "a": "b"}, True, "1.0.1", {"goldenimage.last-version": "1.0.1", "a": "b"}),
    # recorded without a version (made before the first build), or not recorded at all: unknown, no parent
    ({"goldenimage.last-version": "1.0.2"}, True, None, {}),
    ({"goldenimage.last-version": "1.0.2", "a": "b"}, False, None, {"a": "b"}),
])
def test_original_tags_after_restore(vm_tags, recorded, version, expected):
    assert prov.original_tags_after_restore(vm_tags, recorded, version) == expected


def test_provenance_changes():
    assert prov.provenance_changes({"goldenimage.updates": "2:KB1,KB2", "goldenimage.restore-point": "c/rp",
                                    "goldenimage.accounts-removed": "junk"}) == {
        "updates": {"count": 2, "items": ["KB1", "KB2"], "more": 0}, "restore_point": "c/rp"}


def rp(name, created, state="Succeeded"):
    return {"name": name, "properties": {"timeCreated": created, "provisioningState": state}}


@pytest.mark.parametrize("points, expected", [
    ([], None),
    ([rp("a", "2026-01-01T00:00:00Z"), rp("b", "2026-02-01T00:00:00Z")], "b"),
    ([rp("a", "2026-01-01T00:00:00Z"), rp("b", "2026-02-01T00:00:00Z", "Failed")], "a"),
    ([rp("b", "2026-02-01T00:00:00Z", "Creating")], None),
])
def test_latest_restore_point(points, expected):
    found = backup.latest_restore_point(points)
    assert (found or {}).get("name") == expected


@pytest.mark.parametrize("disk, expected", [
    ({"tags": {"goldenimage.replaced-disk-of": VM}}, True),
    ({"tags": {"goldenimage.replaced-disk-of": VM.upper()}}, True),
    ({"tags": {"goldenimage.replaced-disk-of": VM}, "managedBy": VM}, False),
    ({"tags": {"goldenimage.replaced-disk-of": VM + "2"}}, False),
    ({"tags": {}}, False),
])
def test_is_replaced_disk_of(disk, expected):
    assert backup.is_replaced_disk_of(disk, VM) is expected


def test_replaced_disk_tags_keep_the_disks_own():
    assert backup.replaced_disk_tags({"goldenimage.restored-from": "c/rp0"}, VM, "c/rp1") == {
        "goldenimage.restored-from": "c/rp0", "goldenimage.replaced-disk-of": VM, "goldenimage.replaced-by": "c/rp1"}
