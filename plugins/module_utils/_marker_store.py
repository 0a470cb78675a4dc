# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""``MarkerStore``: the marker tags of one image definition, read and written through the compute
client, with the lease that serialises writers."""

from __future__ import annotations

import datetime
import time
import uuid

from ._errors import ConflictError, NotFoundError, azure_errors, get_or_none
from ._marker_tags import LOCK_TAG, format_time, lock_state, lock_value, rebase_tags, summarize_version, without_lock
from ._versions import version_key
from ._wait import wait_operation

# Shortest wait between writing the lease claim and reading it back (seconds); see MarkerStore.acquire.
SETTLE_FLOOR = 0.5
# Seconds the lease release may take after the task's own deadline passed.
RELEASE_GRACE = 60.0


# ---------------------------------------------------------------------------------------------
# reading and writing through the compute client
# ---------------------------------------------------------------------------------------------

class MarkerStore:
    """Marker tags of one image definition, read and written through ``compute``.

    ``to_wire`` turns SDK responses into wire dicts; ``server_now`` is the ARM clock.
    Gallery resources have no ETags, so writers serialise on a lease tag on the image
    definition (``goldenimage.marker-lock``), taken with Fischer's timed mutual exclusion:
    read the lock, write our claim, wait longer than any writer's read-to-write gap, read again;
    only if our claim survived do we hold it. After every move the versions are read again and
    stale claims are removed (newest claim wins), so even a writer that ignores the lease cannot
    leave a marker on two versions for longer than one run.
    """

    def __init__(self, compute, resource_group, gallery, image, to_wire, server_now,
                 timeout=300.0, poll_interval=5.0, lease_seconds=300, clock=time.monotonic, sleep=time.sleep):
        self.compute = compute
        self.resource_group = resource_group
        self.gallery = gallery
        self.image = image
        self.to_wire = to_wire
        self.server_now = server_now
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.sleep = sleep
        self.owner = uuid.uuid4().hex
        self.writes = []

    # -- reads ---------------------------------------------------------------------------------

    def definition(self):
        with azure_errors("read image definition %s" % self.image,
                          not_found="Image definition %s in gallery %s (resource group %s) does not exist." % (
                              self.image, self.gallery, self.resource_group)):
            return self.to_wire(self.compute.gallery_images.get(self.resource_group, self.gallery, self.image))

    def versions(self, replication=False):
        """Summaries of every version, sorted by version number.

        ``replication``: read each version with ``$expand=ReplicationStatus`` (one GET per version;
        the list call does not return it).
        """
        now = self.server_now()
        listed = get_or_none(lambda: [self.to_wire(item) for item in self.compute.gallery_image_versions
                                      .list_by_gallery_image(self.resource_group, self.gallery, self.image)])
        if listed is None:
            return []
        if replication:
            listed = [self.version_wire(item["name"]) or item for item in listed]
        return sorted((summarize_version(item, now) for item in listed), key=lambda item: version_key(item["name"]))

    def version_wire(self, name):
        return self.to_wire(get_or_none(self.compute.gallery_image_versions.get, self.resource_group, self.gallery,
                                        self.image, name, expand="ReplicationStatus"))

    # -- writes --------------------------------------------------------------------------------

    def write_version_tags(self, name, tags, deadline, read_tags=None):
        """PATCH the tags of version ``name`` and wait for it.

        Azure refuses (409) a change while another operation runs on the version (a region being
        added, say). Then wait for it, bounded by ``deadline``, re-read the version and apply our
        change (the keys ``tags`` sets and removes compared with ``read_tags``) to its current tags.
        """
        while True:
            try:
                with azure_errors("update the tags of version %s" % name):
                    poller = self.compute.gallery_image_versions.begin_update(
                        self.resource_group, self.gallery, self.image, name, {"tags": tags})
                break
            except ConflictError:
                if read_tags is None or self.clock() >= deadline:
                    raise
            self.sleep(min(self.poll_interval, max(deadline - self.clock(), 0.0)))
            current = self.version_wire(name)
            if current is None:
                raise NotFoundError("Version %s was deleted while its marker tags were being changed." % name)
            tags, read_tags = rebase_tags(read_tags, tags, current.get("tags") or {}), dict(current.get("tags") or {})
        self._finish(poller, deadline, "update the tags of version %s" % name)
        self.writes.append(name)

    def _write_definition_tags(self, tags, deadline, landed=None):
        """PATCH the definition's tags and wait for it; ``landed()`` is called once Azure accepted it."""
        with azure_errors("update the tags of image definition %s" % self.image):
            poller = self.compute.gallery_images.begin_update(
                self.resource_group, self.gallery, self.image, {"tags": tags})
        if landed is not None:
            landed()
        self._finish(poller, deadline, "update the tags of image definition %s" % self.image)

    def _finish(self, poller, deadline, operation):
        wait_operation(poller, max(deadline - self.clock(), 0.0), operation)

    def apply(self, plan, deadline, versions=()):
        """Write ``plan``; ``versions`` are the summaries it was planned from (for a retry after a 409)."""
        read = {version["name"]: version["tags"] for version in versions}
        for name, tags in plan.writes:
            self.write_version_tags(name, tags, deadline, read_tags=read.get(name))

    # -- lease ---------------------------------------------------------------------------------

    def acquire(self, deadline):
        """Take the lease on the image definition or raise ConflictError at ``deadline``."""
        while True:
            read_at = self.clock()
            tags = dict(self.definition().get("tags") or {})
            state = lock_state(tags, self.owner, self.server_now())
            if state == "mine":
                return
            if state == "free":
                if self.clock() >= deadline:
                    raise ConflictError("Could not take the marker lease on image definition %s within the "
                                        "timeout: other runs kept taking it. Run again later." % self.image)
                expires = self.server_now() + datetime.timedelta(seconds=self.lease_seconds)
                tags = without_lock(tags)
                tags[LOCK_TAG] = lock_value(self.owner, expires)
                landed = []
                self._write_definition_tags(tags, deadline, landed=lambda: landed.append(self.clock()))
                # Fischer: a writer that read "free" before our claim landed writes within its own
                # read-to-write gap; ours (one GET and one PATCH) measures it. Wait twice that
                # (at least SETTLE_FLOOR seconds) after our claim landed, then look again.
                gap = landed[0] - read_at
                settle = max(SETTLE_FLOOR, 2.0 * gap) - (self.clock() - landed[0])
                if settle > 0:
                    self.sleep(settle)
                tags = dict(self.definition().get("tags") or {})
                if lock_state(tags, self.owner, self.server_now()) == "mine":
                    return
                continue
            _held, other, expires = state
            if self.clock() >= deadline:
                raise ConflictError(
                    "Another run holds the marker lease on image definition %s (lease %s, expires %s on "
                    "the ARM clock); it was not released within the timeout. Run again later; if that run "
                    "crashed, the lease expires by itself, or remove tag %s from the image definition." % (
                        self.image, other, format_time(expires), LOCK_TAG))
            self.sleep(min(self.poll_interval, max(deadline - self.clock(), 0.0)))

    def release(self, deadline):
        """Drop our lease if we still hold it (an expired lease is harmless, but others wait for it).

        Runs even after the task's deadline passed (a failure on the way), with a short grace period.
        """
        deadline = max(deadline, self.clock() + RELEASE_GRACE)
        tags = dict(self.definition().get("tags") or {})
        if lock_state(tags, self.owner, self.server_now()) == "mine":
            self._write_definition_tags(without_lock(tags), deadline)

    def new_deadline(self):
        return self.clock() + self.timeout
