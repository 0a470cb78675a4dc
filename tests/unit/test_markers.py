# -*- coding: utf-8 -*-
"""Table-driven tests of marker tags, moves, rollback targets, the version tree and the lease."""

from __future__ import annotations

import datetime
import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_plans as marker_plans
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_tags as marker_tags
    from ansible_collections.goldenimage.avd.plugins.module_utils._versions import validate_version, version_key
    from ansible_collections.goldenimage.avd.plugins.module_utils._errors import NotFoundError, PreconditionError
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_plans as marker_plans
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_tags as marker_tags
    from ansible_collections.goldenimage.avd.plugins.module_utils._versions import validate_version, version_key
    from ansible_collections.goldenimage.avd.plugins.module_utils._errors import NotFoundError, PreconditionError

NOW = datetime.datetime(2026, 11, 22, 12, 0, 0, tzinfo=datetime.timezone.utc)
T1 = "2026-11-20T10:00:00Z"
T2 = "2026-11-21T10:00:00Z"
T3 = "2026-11-22T10:00:00.500000Z"


def wire(name, tags=None, state="Succeeded", replication=None, eol=None, exclude=False, regions=None, block=False):
    props = {"provisioningState": state,
             "publishingProfile": {"excludeFromLatest": exclude, "targetRegions": [{"name": "westeurope"}],
                                   "publishedDate": "2026-11-01T00:00:00Z"}}
    if eol:
        props["publishingProfile"]["endOfLifeDate"] = eol
    if replication:
        props["replicationStatus"] = {"aggregatedState": replication, "summary": regions or []}
    if block:
        props["safetyProfile"] = {"blockDeletionBeforeEndOfLife": True}
    return {"name": name, "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/"
            "win11/versions/" + name, "tags": dict(tags or {}), "properties": props}


def version(name, tags=None, **kw):
    return marker_tags.summarize_version(wire(name, tags, **kw), NOW)


@pytest.mark.parametrize("value,ok", [
    ("prod", True), ("pilot-2", True), ("ring_1", True), ("Prod", False), ("1prod", False),
    ("pro.d", False), ("", False), ("a" * 33, False), (None, False), ("pilot prod", False),
    ("a" * 32, True), ("prod\n", False), ("prod\r\n", False), ("pilot/x", False),
])
def test_validate_marker(value, ok):
    if ok:
        assert marker_tags.validate_marker(value) == value
    else:
        with pytest.raises(ValueError, match="marker"):
            marker_tags.validate_marker(value)


@pytest.mark.parametrize("value,ok", [
    ("1.0.0", True), ("10.20.30", True), ("1.0", False), ("v1.0.0", False), ("1.0.0.0", False),
    ("1.0.2147483648", False), ("1.0.0\n", False),
])
def test_validate_version(value, ok):
    if ok:
        assert validate_version(value) == value
    else:
        with pytest.raises(ValueError, match="version"):
            validate_version(value)


@pytest.mark.parametrize("names,expected", [
    (["1.0.10", "1.0.9", "1.0.2"], ["1.0.2", "1.0.9", "1.0.10"]),
    (["2.0.0", "1.10.0", "1.9.9"], ["1.9.9", "1.10.0", "2.0.0"]),
])
def test_version_key_is_numeric(names, expected):
    assert sorted(names, key=version_key) == expected


@pytest.mark.parametrize("tags,expected", [
    ({}, {}),
    ({"goldenimage.marker.prod": T1}, {"prod": {"set_at": T1, "previous": None, "rolled_back_from": None}}),
    ({"goldenimage.marker.prod": T2, "goldenimage.marker.prod.previous": "1.0.0",
      "goldenimage.marker.prod.rolled-back-from": "1.0.2", "owner": "x"},
     {"prod": {"set_at": T2, "previous": "1.0.0", "rolled_back_from": "1.0.2"}}),
    # a lone .previous (interrupted writer) is not a claim
    ({"goldenimage.marker.pilot.previous": "1.0.0"}, {}),
    # tag keys are case-insensitive in Azure
    ({"GoldenImage.Marker.Prod": T1}, {"prod": {"set_at": T1, "previous": None, "rolled_back_from": None}}),
    ({"goldenimage.marker-lock": "owner=a;expires=" + T1, "goldenimage.parent-version": "1.0.0"}, {}),
])
def test_markers_of(tags, expected):
    assert marker_tags.markers_of(tags) == expected


def test_with_and_without_marker_keep_other_tags():
    tags = {"owner": "ops", "goldenimage.marker.prod": T1, "goldenimage.marker.prod.previous": "0.9.0",
            "goldenimage.marker.pilot": T2}
    moved = marker_tags.with_marker(tags, "prod", T3, previous="1.0.0")
    assert moved == {"owner": "ops", "goldenimage.marker.prod": T3, "goldenimage.marker.prod.previous": "1.0.0",
                     "goldenimage.marker.pilot": T2}
    assert marker_tags.without_marker(moved, "prod") == {"owner": "ops", "goldenimage.marker.pilot": T2}


@pytest.mark.parametrize("kwargs,allow_excluded,expected", [
    ({}, False, []),
    ({"state": "Failed"}, False, ["provisioning failed"]),
    ({"state": "Creating"}, False, ["still being provisioned"]),
    ({"replication": "InProgress", "regions": [{"region": "westeurope", "state": "Completed"},
                                               {"region": "northeurope", "state": "Replicating"}]},
     False, ["still replicating to northeurope"]),
    ({"replication": "Failed", "regions": [{"region": "northeurope", "state": "Failed"}]},
     False, ["replication failed in northeurope"]),
    ({"replication": "Completed"}, False, []),
    ({"eol": "2026-11-22T11:59:59Z"}, False, ["past its end of life"]),
    ({"eol": "2027-01-01T00:00:00Z"}, False, []),
    ({"exclude": True}, False, ["excluded from use"]),
    ({"exclude": True}, True, []),
    ({"state": "Updating"}, False, []),  # a tag update in flight does not make a version unusable
])
def test_ineligible_reasons(kwargs, allow_excluded, expected):
    summary = version("1.0.1", **kwargs)
    reasons = marker_tags.ineligible_reasons(summary, NOW, allow_excluded=allow_excluded)
    assert len(reasons) == len(expected)
    for reason, fragment in zip(reasons, expected):
        assert fragment in reason


def test_summary_fields():
    summary = version("1.0.1", {"goldenimage.parent-version": "1.0.0", "goldenimage.source-vm": "/x/vm",
                                "goldenimage.marker.pilot": T1}, eol="2026-01-01T00:00:00Z")
    assert summary["parent"] == "1.0.0"
    assert summary["markers"] == ["pilot"]
    assert summary["provenance"] == {"parent_version": "1.0.0", "source_vm": "/x/vm"}
    assert summary["end_of_life_passed"] is True
    assert summary["eligible"] is False


@pytest.mark.parametrize("claims,expected", [
    ({}, None),
    ({"1.0.0": T1}, "1.0.0"),
    ({"1.0.0": T1, "1.0.1": T2}, "1.0.1"),
    ({"1.0.0": T3, "1.0.1": T2}, "1.0.0"),        # newest claim wins, not the highest version
    ({"1.0.0": T2, "1.0.10": T2, "1.0.9": T2}, "1.0.10"),  # tie: highest version number
    ({"1.0.0": "garbage", "1.0.1": T1}, "1.0.1"),  # an unreadable time is the oldest claim
])
def test_resolve_marker(claims, expected):
    versions = [version(name, {"goldenimage.marker.prod": when}) for name, when in claims.items()]
    versions.append(version("2.0.0"))
    assert marker_plans.resolve_marker(versions, "prod") == expected


def _tags_after(plan):
    return dict(plan.writes)


def test_plan_put_first_time():
    versions = [version("1.0.0"), version("1.0.1")]
    plan = marker_plans.plan_put(versions, "pilot", "1.0.1", T3)
    assert (plan.before, plan.after, plan.changed) == (None, "1.0.1", True)
    assert _tags_after(plan) == {"1.0.1": {"goldenimage.marker.pilot": T3}}


def test_plan_put_moves_and_records_previous_new_holder_first():
    versions = [version("1.0.0", {"goldenimage.marker.prod": T1, "goldenimage.marker.prod.previous": "0.9.0",
                                  "keep": "me"}),
                version("1.0.1", {"goldenimage.marker.pilot": T2})]
    plan = marker_plans.plan_put(versions, "prod", "1.0.1", T3)
    assert [name for name, _tags in plan.writes] == ["1.0.1", "1.0.0"]
    assert _tags_after(plan) == {
        "1.0.1": {"goldenimage.marker.pilot": T2, "goldenimage.marker.prod": T3,
                  "goldenimage.marker.prod.previous": "1.0.0"},
        "1.0.0": {"keep": "me"},
    }
    assert (plan.before, plan.after, plan.stale) == ("1.0.0", "1.0.1", [])


def test_plan_put_is_idempotent():
    versions = [version("1.0.0"), version("1.0.1", {"goldenimage.marker.prod": T2})]
    plan = marker_plans.plan_put(versions, "prod", "1.0.1", T3)
    assert plan.changed is False
    assert (plan.before, plan.after) == ("1.0.1", "1.0.1")


def test_plan_put_onto_a_claiming_version_cleans_the_other_claims():
    versions = [version("1.0.0", {"goldenimage.marker.prod": T3}), version("1.0.1", {"goldenimage.marker.prod": T1}),
                version("1.0.2", {"goldenimage.marker.prod": T2})]
    plan = marker_plans.plan_put(versions, "prod", "1.0.1", T3)
    assert sorted(_tags_after(plan)) == ["1.0.0", "1.0.2"]
    assert all(tags == {} for tags in _tags_after(plan).values())
    assert plan.before == "1.0.0" and plan.stale == ["1.0.2"]


def test_plan_put_rollback_records_origin():
    versions = [version("1.0.0"), version("1.0.1", {"goldenimage.marker.prod": T2,
                                                    "goldenimage.marker.prod.previous": "1.0.0"})]
    plan = marker_plans.plan_put(versions, "prod", "1.0.0", T3, rollback=True)
    assert _tags_after(plan)["1.0.0"] == {"goldenimage.marker.prod": T3, "goldenimage.marker.prod.previous": "1.0.1",
                                          "goldenimage.marker.prod.rolled-back-from": "1.0.1"}
    assert _tags_after(plan)["1.0.1"] == {}


def test_plan_put_unknown_version():
    with pytest.raises(NotFoundError, match="9.9.9"):
        marker_plans.plan_put([version("1.0.0")], "prod", "9.9.9", T3)


@pytest.mark.parametrize("claims,before,writes", [
    ({}, None, []),
    ({"1.0.0": T1}, "1.0.0", ["1.0.0"]),
    ({"1.0.0": T1, "1.0.1": T2}, "1.0.1", ["1.0.1", "1.0.0"]),
])
def test_plan_remove(claims, before, writes):
    versions = [version(name, {"goldenimage.marker.prod": when, "x": "y"}) for name, when in claims.items()]
    plan = marker_plans.plan_remove(versions, "prod")
    assert plan.before == before and plan.after is None
    assert [name for name, _tags in plan.writes] == writes
    assert all(tags == {"x": "y"} for _name, tags in plan.writes)


def test_plan_repair_keeps_newest_claim():
    versions = [version("1.0.0", {"goldenimage.marker.prod": T1}), version("1.0.1", {"goldenimage.marker.prod": T3}),
                version("1.0.2", {"goldenimage.marker.prod": T2})]
    plan = marker_plans.plan_repair(versions, "prod")
    assert plan.after == "1.0.1"
    assert sorted(plan.stale) == ["1.0.0", "1.0.2"]
    assert marker_plans.plan_repair(versions[:1], "prod").changed is False


def test_rollback_target_goes_to_previous():
    versions = [version("1.0.0"), version("1.0.1", {"goldenimage.marker.prod": T2,
                                                    "goldenimage.marker.prod.previous": "1.0.0"})]
    assert marker_plans.rollback_target(versions, "prod") == ("1.0.0", "1.0.1", None)


def test_rollback_target_after_a_rollback_is_a_noop():
    versions = [version("1.0.0", {"goldenimage.marker.prod": T3, "goldenimage.marker.prod.previous": "1.0.1",
                                  "goldenimage.marker.prod.rolled-back-from": "1.0.1"}), version("1.0.1")]
    target, holder, note = marker_plans.rollback_target(versions, "prod")
    assert target is None and holder == "1.0.0"
    assert "already rolled back from 1.0.1" in note


@pytest.mark.parametrize("versions,message", [
    ([version("1.0.0")], "nothing to roll back"),
    ([version("1.0.0", {"goldenimage.marker.prod": T1})], "no previous holder"),
    ([version("1.0.1", {"goldenimage.marker.prod": T1, "goldenimage.marker.prod.previous": "1.0.0"})],
     "no longer exists"),
])
def test_rollback_target_refusals(versions, message):
    with pytest.raises(PreconditionError, match=message):
        marker_plans.rollback_target(versions, "prod")


def test_marker_map():
    versions = [version("1.0.0", {"goldenimage.marker.prod": T1}),
                version("1.0.1", {"goldenimage.marker.pilot": T2, "goldenimage.marker.test": T2})]
    assert marker_plans.marker_map(versions) == {"pilot": "1.0.1", "prod": "1.0.0", "test": "1.0.1"}


def test_build_tree():
    versions = [
        version("1.0.0", {"goldenimage.marker.prod": T1}),
        version("1.0.1", {"goldenimage.parent-version": "1.0.0"}),
        version("1.0.2", {"goldenimage.parent-version": "1.0.1", "goldenimage.marker.pilot": T2}),
        version("1.0.10", {"goldenimage.parent-version": "1.0.0"}),
        version("2.0.0", {"goldenimage.parent-version": "0.5.0"}),
    ]
    tree = marker_plans.build_tree(versions)
    assert tree["roots"] == ["1.0.0", "2.0.0"]
    assert tree["children"]["1.0.0"] == ["1.0.1", "1.0.10"]
    assert tree["missing_parents"] == {"2.0.0": "0.5.0"}
    assert tree["lines"] == [
        "1.0.0 [prod]",
        "├── 1.0.1",
        "│   └── 1.0.2 [pilot]",
        "└── 1.0.10",
        "2.0.0 (parent 0.5.0 not found)",
    ]


def test_build_tree_shows_a_marker_on_its_winning_claim_only():
    versions = [
        version("1.0.0", {"goldenimage.marker.prod": T1, "goldenimage.marker.pilot": T1}),
        version("1.0.1", {"goldenimage.parent-version": "1.0.0", "goldenimage.marker.prod": T2}),
    ]
    assert marker_plans.build_tree(versions)["lines"] == [
        "1.0.0 [pilot] (stale claim of prod)",
        "└── 1.0.1 [prod]",
    ]


def test_build_tree_survives_a_parent_cycle():
    versions = [version("1.0.0", {"goldenimage.parent-version": "1.0.1"}),
                version("1.0.1", {"goldenimage.parent-version": "1.0.0"})]
    tree = marker_plans.build_tree(versions)
    assert sorted(line.strip("└─ ") for line in tree["lines"]) == ["1.0.0", "1.0.1"]


def test_build_tree_empty():
    assert marker_plans.build_tree([]) == {"roots": [], "children": {}, "missing_parents": {}, "lines": []}


IMAGE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/win11"


@pytest.mark.parametrize("tags,marker,expected", [
    ({}, None, False),
    ({"goldenimage.follow-image": IMAGE, "goldenimage.follow-marker": "prod"}, None, True),
    ({"goldenimage.follow-image": IMAGE.upper(), "goldenimage.follow-marker": "prod"}, "prod", True),
    ({"goldenimage.follow-image": IMAGE, "goldenimage.follow-marker": "prod"}, "pilot", False),
    ({"goldenimage.follow-image": IMAGE + "2", "goldenimage.follow-marker": "prod"}, "prod", False),
    ({"goldenimage.follow-marker": "prod"}, "prod", False),
])
def test_follows(tags, marker, expected):
    assert marker_tags.follows(tags, IMAGE, marker) is expected


def test_binding_tags_roundtrip():
    tags = marker_tags.with_binding({"cost": "1"}, IMAGE, "prod")
    assert marker_tags.binding_of(tags) == {"image_id": IMAGE, "marker": "prod"}
    assert marker_tags.without_binding(tags) == {"cost": "1"}


@pytest.mark.parametrize("value,expected", [
    (None, "free"),
    ("garbage", "free"),
    ("owner=me;expires=2026-11-22T12:05:00Z", "mine"),
    ("owner=me;expires=2026-11-22T11:00:00Z", "mine"),
    ("owner=other;expires=2026-11-22T11:59:59Z", "free"),
    ("owner=other;expires=2026-11-22T12:05:00Z", ("held", "other", marker_tags.parse_time("2026-11-22T12:05:00Z"))),
])
def test_lock_state(value, expected):
    tags = {"goldenimage.marker-lock": value} if value else {}
    assert marker_tags.lock_state(tags, "me", NOW) == expected


def test_lock_value_roundtrip():
    value = marker_tags.lock_value("abc", NOW)
    assert value == "owner=abc;expires=2026-11-22T12:00:00Z"
    assert marker_tags.parse_lock(value) == ("abc", NOW)
    assert len(value) <= 256  # Azure tag value limit


@pytest.mark.parametrize("text,expected", [
    ("2021-09-02T03:28:31.0693976+00:00", datetime.datetime(2021, 9, 2, 3, 28, 31, 69397, tzinfo=datetime.timezone.utc)),
    ("2026-11-22T12:00:00Z", NOW),
    ("2026-11-22T13:00:00+01:00", NOW),
    ("2026-11-22T12:00:00", NOW),
    ("yesterday", None),
    (None, None),
])
def test_parse_time(text, expected):
    assert marker_tags.parse_time(text) == expected


def test_plan_remove_only_one_version():
    versions = [version("1.0.0", {"goldenimage.marker.prod": T1}), version("1.0.1", {"goldenimage.marker.prod": T2})]
    plan = marker_plans.plan_remove(versions, "prod", only="1.0.1")
    assert [name for name, _tags in plan.writes] == ["1.0.1"]
    assert (plan.before, plan.after) == ("1.0.1", "1.0.0")
    assert marker_plans.plan_remove(versions, "prod", only="2.0.0").changed is False


@pytest.mark.parametrize("read,wanted,current,expected", [
    ({"a": "1"}, {"a": "1", "m": "t"}, {"a": "1"}, {"a": "1", "m": "t"}),
    # someone else added a tag meanwhile: kept
    ({"a": "1"}, {"a": "1", "m": "t"}, {"a": "1", "b": "2"}, {"a": "1", "b": "2", "m": "t"}),
    # our removal still applies, their change to another key stays
    ({"a": "1", "m": "t", "m.previous": "1.0.0"}, {"a": "1"}, {"a": "9", "m": "t", "m.previous": "1.0.0"}, {"a": "9"}),
    # a key we did not touch and they removed stays removed
    ({"a": "1", "x": "y"}, {"a": "1", "x": "y", "m": "t"}, {"a": "1"}, {"a": "1", "m": "t"}),
])
def test_rebase_tags(read, wanted, current, expected):
    assert marker_tags.rebase_tags(read, wanted, current) == expected
