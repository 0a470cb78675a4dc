# -*- coding: utf-8 -*-
"""The marker lease (Fischer's timed mutual exclusion) step by step, on an in-memory image definition.

The simulator tests run the same code against real SDK clients; here a tiny in-memory stand-in for
``gallery_images`` and a fake clock make the interleavings deterministic.
"""

from __future__ import annotations

import datetime
import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _errors as errors
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_store as marker_store
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_tags as marker_tags
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _errors as errors
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_store as marker_store
    from ansible_collections.goldenimage.avd.plugins.module_utils import _marker_tags as marker_tags

NOW = datetime.datetime(2026, 11, 22, 12, 0, 0, tzinfo=datetime.timezone.utc)


class Clock:
    def __init__(self):
        self.now = 0.0
        self.on_sleep = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        while self.on_sleep:
            self.on_sleep.pop(0)()


class Poller:
    def wait(self, timeout=None):
        return None

    def done(self):
        return True

    def result(self):
        return None


class Images:
    """``gallery_images`` with one definition whose tags PATCH replaces (as ARM does)."""

    def __init__(self, clock, tags=None, write_seconds=0.1):
        self.tags = dict(tags or {})
        self.clock = clock
        self.write_seconds = write_seconds
        self.patches = []

    def get(self, resource_group, gallery, image):
        return {"name": image, "tags": dict(self.tags)}

    def begin_update(self, resource_group, gallery, image, body):
        self.clock.now += self.write_seconds
        self.tags = dict(body["tags"])
        self.patches.append(dict(body["tags"]))
        return Poller()


class Compute:
    def __init__(self, images):
        self.gallery_images = images


def store_for(images, clock, owner="me", timeout=30.0):
    store = marker_store.MarkerStore(Compute(images), "rg", "gal", "img", to_wire=lambda item: item,
                                     server_now=lambda: NOW, timeout=timeout, poll_interval=1.0, lease_seconds=300,
                                     clock=clock, sleep=clock.sleep)
    store.owner = owner
    return store


def lock_owner(images):
    lock = marker_tags.parse_lock(images.tags.get(marker_tags.LOCK_TAG))
    return lock[0] if lock else None


def test_free_lease_is_claimed_after_the_settle_wait():
    clock = Clock()
    images = Images(clock, {"team": "avd"})
    store = store_for(images, clock)
    store.acquire(clock() + 30)
    assert lock_owner(images) == "me" and images.tags["team"] == "avd"
    assert marker_tags.parse_lock(images.tags[marker_tags.LOCK_TAG])[1] == NOW + datetime.timedelta(seconds=300)
    # waited at least the floor after the claim landed before trusting it
    assert clock() >= images.write_seconds + marker_store.SETTLE_FLOOR
    store.release(clock() + 30)
    assert marker_tags.LOCK_TAG not in images.tags and images.tags == {"team": "avd"}


def test_a_claim_landing_during_the_settle_wait_wins_and_we_wait():
    """Both read "free"; the other writer's claim lands after ours, during our settle wait."""
    clock = Clock()
    images = Images(clock)
    other = marker_tags.lock_value("other", NOW + datetime.timedelta(seconds=300))

    def other_writes():
        images.tags = dict(images.tags, **{marker_tags.LOCK_TAG: other})

    clock.on_sleep.append(other_writes)
    store = store_for(images, clock)
    with pytest.raises(errors.ConflictError, match="Another run holds the marker lease"):
        store.acquire(clock() + 5)
    assert lock_owner(images) == "other", "we must not overwrite a claim that won"
    assert len(images.patches) == 1


def test_a_live_lease_of_another_run_is_never_overwritten():
    clock = Clock()
    images = Images(clock, {marker_tags.LOCK_TAG: marker_tags.lock_value("other", NOW + datetime.timedelta(seconds=60))})
    store = store_for(images, clock)
    with pytest.raises(errors.ConflictError) as raised:
        store.acquire(clock() + 3)
    assert images.patches == []
    assert "expires 2026-11-22T12:01:00Z" in str(raised.value)
    store.release(clock() + 3)
    assert lock_owner(images) == "other", "release must only remove our own lease"


def test_a_lease_released_while_we_wait_is_taken():
    clock = Clock()
    images = Images(clock, {marker_tags.LOCK_TAG: marker_tags.lock_value("other", NOW + datetime.timedelta(seconds=60))})
    clock.on_sleep.append(lambda: images.tags.pop(marker_tags.LOCK_TAG))
    store = store_for(images, clock)
    store.acquire(clock() + 30)
    assert lock_owner(images) == "me"


@pytest.mark.parametrize("value", ["owner=crashed;expires=2026-11-22T11:59:59Z", "not a lease"])
def test_an_expired_or_unreadable_lease_is_taken_over(value):
    clock = Clock()
    images = Images(clock, {marker_tags.LOCK_TAG: value})
    store = store_for(images, clock)
    store.acquire(clock() + 30)
    assert lock_owner(images) == "me"


def test_the_settle_wait_grows_with_a_slow_write():
    clock = Clock()
    images = Images(clock, write_seconds=2.0)
    store = store_for(images, clock)
    store.acquire(clock() + 30)
    # read-to-write gap of 2 s: wait 2 x 2 s after the claim landed
    assert clock() == pytest.approx(2.0 + 4.0)
