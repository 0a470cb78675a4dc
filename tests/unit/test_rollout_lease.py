"""The rollout lease as pure plans (hostpool_rollout_lock, real run and check mode alike): take, renew,
keep (nothing to write), conflict; release and remove."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils import _hostpool as hostpool
from ansible_collections.goldenimage.avd.plugins.module_utils._errors import ConflictError, PreconditionError

NOW = datetime.datetime(2026, 11, 2, 8, 30, tzinfo=datetime.timezone.utc)
LOCK = "goldenimage.rollout-lock"
FLOOR = "goldenimage.min-available-hosts"
FIELDS = {"hosts": 3, "in_service": 3, "floor": 3, "target": "1.0.1"}


def lease(owner, expires, **fields):
    values = dict(FIELDS, **fields)
    return "owner=%s;expires=%s;hosts=%s;in_service=%s;floor=%s;target=%s" % (
        owner, expires, values["hosts"], values["in_service"], values["floor"], values["target"])


MINE_2H = {LOCK: lease("run-a", "2026-11-02T10:30:00Z"), FLOOR: "3", "other": "kept"}


@pytest.mark.parametrize("tags, owner, renew_below, fields, expected", [
    ({}, "run-a", None, FIELDS, "take"),
    ({"other": "x"}, "run-a", None, FIELDS, "take"),
    ({LOCK: lease("run-b", "2026-11-02T08:00:00Z")}, "run-a", None, FIELDS, "take"),  # expired: taken over
    ({LOCK: lease("run-a", "2026-11-02T08:00:00Z")}, "run-a", None, FIELDS, "take"),  # own, expired
    (MINE_2H, "run-a", 3600, FIELDS, "keep"),  # 2 h left, 1 h asked
    (MINE_2H, "run-a", 7200, FIELDS, "keep"),  # exactly enough
    (MINE_2H, "run-a", 7201, FIELDS, "renew"),
    (MINE_2H, "run-a", None, FIELDS, "renew"),  # no renew_below: renew every time (the module passes one)
    (MINE_2H, "run-a", 0, dict(FIELDS, floor=2), "renew"),  # a new floor is written
    (MINE_2H, "run-a", 0, dict(FIELDS, target="1.0.2"), "renew"),
    (MINE_2H, "run-a", 0, dict(FIELDS, hosts=None, in_service=None), "keep"),  # kept from the lease
    ({LOCK: MINE_2H[LOCK]}, "run-a", 0, FIELDS, "renew"),  # the floor tag went missing
])
def test_plan_lease(tags, owner, renew_below, fields, expected):
    action, new_tags = hostpool.plan_lease(tags, owner, NOW, 14400, fields, floor=fields.get("floor"),
                                           renew_below=renew_below)
    assert action == expected
    if action == "keep":
        assert new_tags == tags
        return
    lock = hostpool.lock_state(new_tags, NOW)
    assert lock["owner"] == owner and lock["expires"] == "2026-11-02T12:30:00Z" and not lock["expired"]
    assert new_tags[FLOOR] == str(fields["floor"])
    assert {k: v for k, v in new_tags.items() if k not in (LOCK, FLOOR)} == \
        {k: v for k, v in tags.items() if k not in (LOCK, FLOOR)}


def test_taking_over_keeps_the_pool_size_of_the_first_run():
    tags = {LOCK: lease("run-b", "2026-11-02T08:00:00Z", hosts=5, in_service=4)}
    _action, new_tags = hostpool.plan_lease(tags, "run-a", NOW, 3600, dict(FIELDS, hosts=9, in_service=9), floor=3)
    lock = hostpool.lock_state(new_tags, NOW)
    assert lock["hosts"] == 5 and lock["in_service"] == 4


def test_another_valid_lease_is_a_conflict():
    with pytest.raises(ConflictError, match="being rolled out by run-b until 2026-11-02T10:30:00Z"):
        hostpool.plan_lease({LOCK: lease("run-b", "2026-11-02T10:30:00Z")}, "run-a", NOW, 3600, FIELDS)


@pytest.mark.parametrize("tags, finished, changed, after", [
    (MINE_2H, False, True, {LOCK: lease("run-a", "2026-11-02T08:30:00Z"), "other": "kept"}),
    (MINE_2H, True, True, {"other": "kept"}),
    ({LOCK: lease("run-a", "2026-11-02T08:00:00Z")}, False, False, None),  # expired already: nothing to do
    ({LOCK: lease("run-b", "2026-11-02T08:00:00Z")}, True, True, {}),  # another run's expired lease
    ({"other": "x"}, True, False, None),
    ({}, False, False, None),
])
def test_plan_release(tags, finished, changed, after):
    result, new_tags = hostpool.plan_release(tags, "run-a", NOW, finished)
    assert result is changed
    assert new_tags == (tags if after is None else after)


def test_release_of_another_valid_lease_is_refused():
    with pytest.raises(PreconditionError, match="belongs to run-b, not to run-a"):
        hostpool.plan_release({LOCK: lease("run-b", "2026-11-02T10:30:00Z")}, "run-a", NOW, True)
