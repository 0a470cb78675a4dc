# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Markers on gallery image versions, the version tree, and host pools that follow a marker.

A marker (``pilot``, ``prod``, ...) is a label held by at most one version of an image
definition. It lives in tags of that version:

- ``goldenimage.marker.<marker>``: when the marker was put on the version (ARM clock, ISO 8601);
- ``goldenimage.marker.<marker>.previous``: the version that held the marker before;
- ``goldenimage.marker.<marker>.rolled-back-from``: set only when the marker got there by a
  rollback; a second rollback of the same marker is then a no-op (idempotent re-runs).

Reading rule, used everywhere: if several versions claim a marker (a concurrent writer, or a
crash between the two writes of a move), the newest claim wins (latest set time, then the
highest version number); the others are stale and a move removes them.

This file holds pure decision logic (tags in, plans out) plus ``MarkerStore``, the small layer
that reads and writes the tags through the compute client and serialises writers with a lease.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid

from ._errors import ConflictError, NotFoundError, PreconditionError, classify
from ._ids import validate_name

TAG_PREFIX = "goldenimage."
MARKER_TAG_PREFIX = "goldenimage.marker."
PREVIOUS_SUFFIX = ".previous"
ROLLED_BACK_FROM_SUFFIX = ".rolled-back-from"
PARENT_TAG = "goldenimage.parent-version"
LOCK_TAG = "goldenimage.marker-lock"
FOLLOW_IMAGE_TAG = "goldenimage.follow-image"
FOLLOW_MARKER_TAG = "goldenimage.follow-marker"
PROVENANCE_TAGS = {
    "source_vm": "goldenimage.source-vm",
    "parent_version": PARENT_TAG,
    "build_time": "goldenimage.build-time",
    "build_id": "goldenimage.build-id",
    "notes": "goldenimage.notes",
}

# lenient on read (tags may be hand-written); validate_marker applies the strict rule on write
_MARKER_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_VERSION_RE = re.compile(r"^(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})$")

# Shortest wait between writing the lease claim and reading it back (seconds); see MarkerStore.acquire.
SETTLE_FLOOR = 0.5
# Seconds the lease release may take after the task's own deadline passed.
RELEASE_GRACE = 60.0

# provisioningState values of a gallery image version that mean "not usable yet / any more".
_BUSY_STATES = ("creating", "deleting", "migrating")


# ---------------------------------------------------------------------------------------------
# names, versions, times
# ---------------------------------------------------------------------------------------------

def validate_marker(value, option="marker"):
    """Return ``value`` if it is a valid marker name, else raise ValueError naming ``option``."""
    return validate_name("marker", value, option=option)


def validate_version(value, option="version"):
    """Return ``value`` if it is a gallery image version name ``X.Y.Z`` (32-bit integers)."""
    return validate_name("image_version", value, option=option)


def version_key(name):
    """Sort key of a version name; names that are not X.Y.Z sort first, by text."""
    match = _VERSION_RE.match(name or "")
    if not match:
        return (0, (), name or "")
    return (1, tuple(int(part) for part in match.groups()), "")


def parse_time(value):
    """ISO 8601 text (``Z`` or an offset, up to 7 fractional digits) -> aware UTC datetime, or None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def format_time(moment):
    """Aware or naive-UTC datetime -> ``2026-11-22T00:20:00.123456Z`` (microseconds only when set)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat() + "Z"


# ---------------------------------------------------------------------------------------------
# tags <-> markers
# ---------------------------------------------------------------------------------------------

def marker_key(marker):
    return MARKER_TAG_PREFIX + marker


def previous_key(marker):
    return MARKER_TAG_PREFIX + marker + PREVIOUS_SUFFIX


def rolled_back_from_key(marker):
    return MARKER_TAG_PREFIX + marker + ROLLED_BACK_FROM_SUFFIX


def markers_of(tags):
    """Markers a version holds, from its tags: ``{marker: {set_at, previous, rolled_back_from}}``.

    Only the main key ``goldenimage.marker.<marker>`` means "holds"; a lone ``.previous`` key
    (left by an interrupted writer) does not.
    """
    tags = tags or {}
    lowered = {key.lower(): value for key, value in tags.items()}
    found = {}
    for key, value in lowered.items():
        if not key.startswith(MARKER_TAG_PREFIX):
            continue
        name = key[len(MARKER_TAG_PREFIX):]
        if "." in name or not _MARKER_RE.match(name):
            continue
        found[name] = {
            "set_at": value,
            "previous": lowered.get(previous_key(name)) or None,
            "rolled_back_from": lowered.get(rolled_back_from_key(name)) or None,
        }
    return found


def without_marker(tags, marker):
    """A copy of ``tags`` with every key of ``marker`` removed (case-insensitive)."""
    drop = {marker_key(marker), previous_key(marker), rolled_back_from_key(marker)}
    return {key: value for key, value in (tags or {}).items() if key.lower() not in drop}


def rebase_tags(read, wanted, current):
    """Apply the change from ``read`` to ``wanted`` (keys set, keys removed) onto ``current``."""
    out = dict(current)
    for key in read:
        if key not in wanted:
            out.pop(key, None)
    for key, value in wanted.items():
        if read.get(key) != value:
            out[key] = value
    return out


def with_marker(tags, marker, set_at, previous=None, rolled_back_from=None):
    """A copy of ``tags`` claiming ``marker`` (set time, previous holder, rollback origin)."""
    out = without_marker(tags, marker)
    out[marker_key(marker)] = set_at
    if previous:
        out[previous_key(marker)] = previous
    if rolled_back_from:
        out[rolled_back_from_key(marker)] = rolled_back_from
    return out


# ---------------------------------------------------------------------------------------------
# versions: summary and eligibility
# ---------------------------------------------------------------------------------------------

def _get(data, *path):
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def summarize_version(wire, now=None):
    """The facts about one gallery image version (wire-format dict) that this collection uses."""
    tags = dict(wire.get("tags") or {})
    props = wire.get("properties") or {}
    publishing = props.get("publishingProfile") or {}
    replication = props.get("replicationStatus") or {}
    end_of_life = publishing.get("endOfLifeDate")
    end_of_life_at = parse_time(end_of_life)
    lowered = {key.lower(): value for key, value in tags.items()}
    regions = [
        {
            "region": entry.get("region"),
            "state": entry.get("state"),
            "progress": entry.get("progress"),
            "details": entry.get("details"),
        }
        for entry in replication.get("summary") or []
    ]
    summary = {
        "name": wire.get("name"),
        "id": wire.get("id"),
        "location": wire.get("location"),
        "markers": sorted(markers_of(tags)),
        "marker_details": markers_of(tags),
        "parent": lowered.get(PARENT_TAG) or None,
        "provisioning_state": props.get("provisioningState"),
        "replication_state": replication.get("aggregatedState"),
        "replication_regions": regions,
        "target_regions": [region.get("name") for region in publishing.get("targetRegions") or []],
        "published_date": publishing.get("publishedDate"),
        "end_of_life_date": end_of_life,
        "end_of_life_passed": bool(end_of_life_at and now and end_of_life_at <= now),
        "exclude_from_latest": bool(publishing.get("excludeFromLatest")),
        "block_deletion_before_end_of_life": bool(_get(props, "safetyProfile", "blockDeletionBeforeEndOfLife")),
        "reported_for_policy_violation": bool(_get(props, "safetyProfile", "reportedForPolicyViolation")),
        "provenance": {field: lowered.get(key) for field, key in PROVENANCE_TAGS.items() if lowered.get(key)},
        "tags": tags,
    }
    summary["ineligible_reasons"] = ineligible_reasons(summary, now)
    summary["eligible"] = not summary["ineligible_reasons"]
    return summary


def ineligible_reasons(summary, now=None, allow_excluded=False):
    """Why a version must not receive a marker (empty list: it may).

    ``excludeFromLatest`` counts as "excluded from use": an administrator who withdrew a version
    from ``latest`` does not want pools to follow it either. ``allow_excluded`` lifts that one
    rule for the staged-pilot pattern (build excluded from ``latest``, test through ``pilot``).
    """
    reasons = []
    state = (summary.get("provisioning_state") or "").lower()
    replication = (summary.get("replication_state") or "").lower()
    if state == "failed":
        reasons.append("its provisioning failed (provisioningState Failed)")
    elif state in _BUSY_STATES:
        reasons.append("it is still being provisioned or replicated (provisioningState %s)"
                       % summary.get("provisioning_state"))
    if replication == "failed":
        failed = [entry["region"] for entry in summary.get("replication_regions") or []
                  if (entry.get("state") or "").lower() == "failed"]
        reasons.append("its replication failed%s" % (" in " + ", ".join(failed) if failed else ""))
    elif replication and replication != "completed" and state not in _BUSY_STATES:
        pending = [entry["region"] for entry in summary.get("replication_regions") or []
                   if (entry.get("state") or "").lower() != "completed"]
        reasons.append("it is still replicating%s" % (" to " + ", ".join(pending) if pending else ""))
    end_of_life_at = parse_time(summary.get("end_of_life_date"))
    if end_of_life_at is not None and now is not None and end_of_life_at <= now:
        reasons.append("it is past its end of life (%s)" % summary.get("end_of_life_date"))
    if summary.get("exclude_from_latest") and not allow_excluded:
        reasons.append("it is excluded from use (excludeFromLatest is true; set allow_excluded to "
                       "mark it anyway)")
    if summary.get("reported_for_policy_violation"):
        reasons.append("it was reported for a policy violation")
    return reasons


# ---------------------------------------------------------------------------------------------
# resolving and moving markers
# ---------------------------------------------------------------------------------------------

def _claim_order(version, marker):
    claim = version["marker_details"].get(marker) or {}
    moment = parse_time(claim.get("set_at"))
    stamp = moment.timestamp() if moment else float("-inf")
    return (stamp, version_key(version["name"]))


def holders(versions, marker):
    """Versions (summaries) claiming ``marker``, the winning claim first."""
    claiming = [version for version in versions if marker in version["marker_details"]]
    return sorted(claiming, key=lambda version: _claim_order(version, marker), reverse=True)


def resolve_marker(versions, marker):
    """Name of the version that holds ``marker`` under the newest-claim rule, or None."""
    claiming = holders(versions, marker)
    return claiming[0]["name"] if claiming else None


def marker_map(versions):
    """``{marker: version}`` for every marker held by any of ``versions``."""
    names = set()
    for version in versions:
        names.update(version["marker_details"])
    return {name: resolve_marker(versions, name) for name in sorted(names)}


class MarkerPlan:
    """Tag writes that take ``marker`` from ``before`` to ``after`` (version names or None).

    ``writes`` is an ordered list of ``(version, new_tags)``: the new holder first, so that at
    every moment some version holds the marker and the newest-claim rule names the right one.
    """

    def __init__(self, marker, before, after, writes, stale=(), note=None):
        self.marker = marker
        self.before = before
        self.after = after
        self.writes = list(writes)
        self.stale = list(stale)
        self.note = note

    @property
    def changed(self):
        return bool(self.writes)

    def as_dict(self):
        return {"marker": self.marker, "before": self.before, "after": self.after,
                "versions_written": [name for name, _tags in self.writes], "stale_claims": self.stale}


def plan_put(versions, marker, target, set_at, rollback=False):
    """Plan moving ``marker`` onto version ``target`` (which must be among ``versions``).

    ``rollback`` records the version the marker leaves in ``.rolled-back-from`` so that a repeated
    rollback is recognised. A target that already holds the marker keeps its claim; only stale
    claims elsewhere are removed.
    """
    by_name = {version["name"]: version for version in versions}
    if target not in by_name:
        raise NotFoundError("Version %s does not exist in this image definition." % target)
    claiming = holders(versions, marker)
    before = claiming[0]["name"] if claiming else None
    writes = []
    if not any(version["name"] == target for version in claiming):
        writes.append((target, with_marker(
            by_name[target]["tags"], marker, set_at,
            previous=before,
            rolled_back_from=before if rollback else None)))
    leaving = [version["name"] for version in claiming if version["name"] != target]
    for name in leaving:
        writes.append((name, without_marker(by_name[name]["tags"], marker)))
    # the old holder leaves legitimately; any other claim is stale (a crashed or concurrent writer)
    stale = [name for name in leaving if name != before]
    return MarkerPlan(marker, before, target, writes, stale=stale)


def plan_remove(versions, marker, only=None):
    """Plan removing ``marker`` from every version that claims it (or only from version ``only``)."""
    claiming = holders(versions, marker)
    before = claiming[0]["name"] if claiming else None
    if only is not None:
        claiming = [version for version in claiming if version["name"] == only]
        if not claiming:
            return MarkerPlan(marker, before, before, [])
        remaining = [version for version in holders(versions, marker) if version["name"] != only]
        after = remaining[0]["name"] if remaining else None
        return MarkerPlan(marker, before, after, [(only, without_marker(claiming[0]["tags"], marker))])
    writes = [(version["name"], without_marker(version["tags"], marker)) for version in claiming]
    return MarkerPlan(marker, before, None, writes, stale=[version["name"] for version in claiming[1:]])


def plan_repair(versions, marker):
    """Plan removing every stale claim of ``marker`` (keeps the winning claim)."""
    claiming = holders(versions, marker)
    if len(claiming) < 2:
        return MarkerPlan(marker, claiming[0]["name"] if claiming else None,
                          claiming[0]["name"] if claiming else None, [])
    winner = claiming[0]["name"]
    writes = [(version["name"], without_marker(version["tags"], marker)) for version in claiming[1:]]
    return MarkerPlan(marker, winner, winner, writes, stale=[version["name"] for version in claiming[1:]])


def rollback_target(versions, marker):
    """Where a rollback of ``marker`` goes: ``(version or None, holder, reason)``.

    ``None`` means "nothing to do" because the holder got the marker by a rollback already.
    Raises PreconditionError when no version holds the marker or no previous holder is known.
    """
    holder = resolve_marker(versions, marker)
    if holder is None:
        raise PreconditionError("No version of this image definition holds marker %r, so there is "
                                "nothing to roll back." % marker)
    details = next(version for version in versions if version["name"] == holder)["marker_details"][marker]
    if details.get("rolled_back_from"):
        return None, holder, ("marker %r was already rolled back from %s to %s; to move it again, "
                              "give an explicit version" % (marker, details["rolled_back_from"], holder))
    previous = details.get("previous")
    if not previous:
        raise PreconditionError(
            "Version %s holds marker %r but no previous holder is recorded (tag %s); roll back to an "
            "explicit version instead." % (holder, marker, previous_key(marker)))
    if previous not in {version["name"] for version in versions}:
        raise PreconditionError(
            "The previous holder of marker %r, version %s, no longer exists; roll back to an explicit "
            "version instead." % (marker, previous))
    return previous, holder, None


# ---------------------------------------------------------------------------------------------
# version tree
# ---------------------------------------------------------------------------------------------

def build_tree(versions):
    """Parent/children of versions from ``goldenimage.parent-version``, and printable lines.

    Versions whose parent is unknown or deleted are roots (``missing_parent`` names it). A line
    shows in brackets the markers the version holds (newest claim wins); a losing claim is shown
    as a stale claim, so a marker is never shown on two versions.
    Returns ``{"roots": [...], "children": {v: [...]}, "missing_parents": {v: p}, "lines": [...]}``.
    """
    names = {version["name"] for version in versions}
    by_name = {version["name"]: version for version in versions}
    children = {name: [] for name in names}
    roots, missing = [], {}
    for version in sorted(versions, key=lambda item: version_key(item["name"])):
        parent = version.get("parent")
        if parent and parent in names and parent != version["name"]:
            children[parent].append(version["name"])
        else:
            roots.append(version["name"])
            if parent and parent != version["name"]:
                missing[version["name"]] = parent
    lines = []
    seen = set()
    winners = marker_map(versions)

    def label(name):
        version = by_name[name]
        text = name
        held = [marker for marker in version["markers"] if winners.get(marker) == name]
        stale = [marker for marker in version["markers"] if winners.get(marker) != name]
        if held:
            text += " [%s]" % ", ".join(held)
        if stale:  # a crashed or concurrent writer's claim; the next change of the marker removes it
            text += " (stale claim of %s)" % ", ".join(stale)
        if name in missing:
            text += " (parent %s not found)" % missing[name]
        return text

    def walk(name, prefix, last, top):
        if name in seen:  # a parent cycle in hand-edited tags must not loop forever
            return
        seen.add(name)
        if top:
            lines.append(label(name))
            child_prefix = ""
        else:
            lines.append(prefix + ("└── " if last else "├── ") + label(name))
            child_prefix = prefix + ("    " if last else "│   ")
        kids = children[name]
        for index, child in enumerate(kids):
            walk(child, child_prefix, index == len(kids) - 1, False)

    for root in roots:
        walk(root, "", True, True)
    # versions only reachable through a cycle are printed as roots, so none is ever hidden
    for name in sorted(names - seen, key=version_key):
        walk(name, "", True, True)
    return {"roots": roots, "children": children, "missing_parents": missing, "lines": lines}


# ---------------------------------------------------------------------------------------------
# host pools that follow a marker
# ---------------------------------------------------------------------------------------------

def binding_of(tags):
    """``{"image_id", "marker"}`` a host pool follows (from its tags), or None."""
    lowered = {key.lower(): value for key, value in (tags or {}).items()}
    image_id = lowered.get(FOLLOW_IMAGE_TAG)
    marker = lowered.get(FOLLOW_MARKER_TAG)
    if not image_id or not marker:
        return None
    return {"image_id": image_id, "marker": marker}


def same_id(left, right):
    """ARM ids compare case-insensitively and without a trailing slash."""
    return bool(left) and bool(right) and left.rstrip("/").lower() == right.rstrip("/").lower()


def follows(tags, image_id, marker=None):
    binding = binding_of(tags)
    if binding is None or not same_id(binding["image_id"], image_id):
        return False
    return marker is None or binding["marker"].lower() == marker.lower()


def with_binding(tags, image_id, marker):
    out = without_binding(tags)
    out[FOLLOW_IMAGE_TAG] = image_id
    out[FOLLOW_MARKER_TAG] = marker
    return out


def without_binding(tags):
    drop = {FOLLOW_IMAGE_TAG, FOLLOW_MARKER_TAG}
    return {key: value for key, value in (tags or {}).items() if key.lower() not in drop}


# ---------------------------------------------------------------------------------------------
# the lease on the image definition
# ---------------------------------------------------------------------------------------------

def lock_value(owner, expires):
    return "owner=%s;expires=%s" % (owner, format_time(expires))


def parse_lock(value):
    """``(owner, expires)`` from a lock tag value, or None when absent or unreadable."""
    if not value:
        return None
    fields = dict(part.split("=", 1) for part in value.split(";") if "=" in part)
    owner = fields.get("owner")
    expires = parse_time(fields.get("expires"))
    if not owner or expires is None:
        return None
    return owner, expires


def lock_state(tags, owner, now):
    """``"free"``, ``"mine"`` or ``("held", other_owner, expires)`` for the lock in ``tags``."""
    lowered = {key.lower(): value for key, value in (tags or {}).items()}
    lock = parse_lock(lowered.get(LOCK_TAG))
    if lock is None:
        return "free"
    if lock[0] == owner:
        return "mine"
    if lock[1] <= now:
        return "free"
    return ("held", lock[0], lock[1])


def without_lock(tags):
    return {key: value for key, value in (tags or {}).items() if key.lower() != LOCK_TAG}


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
                 timeout=300.0, poll_interval=5.0, lock_ttl=300, clock=time.monotonic, sleep=time.sleep):
        self.compute = compute
        self.resource_group = resource_group
        self.gallery = gallery
        self.image = image
        self.to_wire = to_wire
        self.server_now = server_now
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.lock_ttl = lock_ttl
        self.clock = clock
        self.sleep = sleep
        self.owner = uuid.uuid4().hex
        self.writes = []

    # -- reads ---------------------------------------------------------------------------------

    def definition(self):
        try:
            return self.to_wire(self.compute.gallery_images.get(self.resource_group, self.gallery, self.image))
        except Exception as exc:  # pylint: disable=broad-except
            error = classify(exc)
            if isinstance(error, NotFoundError):
                raise NotFoundError(
                    "Image definition %s in gallery %s (resource group %s) does not exist." % (
                        self.image, self.gallery, self.resource_group)) from None
            raise error from None

    def versions(self, replication=False):
        """Summaries of every version, sorted by version number.

        ``replication``: read each version with ``$expand=ReplicationStatus`` (one GET per version;
        the list call does not return it).
        """
        now = self.server_now()
        try:
            listed = [self.to_wire(item) for item in self.compute.gallery_image_versions.list_by_gallery_image(
                self.resource_group, self.gallery, self.image)]
        except Exception as exc:  # pylint: disable=broad-except
            error = classify(exc)
            if isinstance(error, NotFoundError):
                return []
            raise error from None
        if replication:
            listed = [self.version_wire(item["name"]) or item for item in listed]
        return sorted((summarize_version(item, now) for item in listed), key=lambda item: version_key(item["name"]))

    def version_wire(self, name):
        try:
            return self.to_wire(self.compute.gallery_image_versions.get(
                self.resource_group, self.gallery, self.image, name, expand="ReplicationStatus"))
        except Exception as exc:  # pylint: disable=broad-except
            error = classify(exc)
            if isinstance(error, NotFoundError):
                return None
            raise error from None

    # -- writes --------------------------------------------------------------------------------

    def write_version_tags(self, name, tags, deadline, read_tags=None):
        """PATCH the tags of version ``name`` and wait for it.

        Azure refuses (409) a change while another operation runs on the version (a region being
        added, say). Then wait for it, bounded by ``deadline``, re-read the version and apply our
        change (the keys ``tags`` sets and removes compared with ``read_tags``) to its current tags.
        """
        while True:
            try:
                poller = self.compute.gallery_image_versions.begin_update(
                    self.resource_group, self.gallery, self.image, name, {"tags": tags})
                break
            except Exception as exc:  # pylint: disable=broad-except
                error = classify(exc)
                if not isinstance(error, ConflictError) or read_tags is None or self.clock() >= deadline:
                    raise error from None
            self.sleep(min(self.poll_interval, max(deadline - self.clock(), 0.0)))
            current = self.version_wire(name)
            if current is None:
                raise NotFoundError("Version %s was deleted while its marker tags were being changed." % name)
            tags, read_tags = rebase_tags(read_tags, tags, current.get("tags") or {}), dict(current.get("tags") or {})
        self._finish(poller, deadline, "the tag update of version %s" % name)
        self.writes.append(name)

    def _write_definition_tags(self, tags, deadline, landed=None):
        """PATCH the definition's tags and wait for it; ``landed()`` is called once Azure accepted it."""
        poller = self.compute.gallery_images.begin_update(
            self.resource_group, self.gallery, self.image, {"tags": tags})
        if landed is not None:
            landed()
        self._finish(poller, deadline, "the tag update of image definition %s" % self.image)

    def _finish(self, poller, deadline, describe):
        from ._wait import wait_poller  # local: keeps this module importable for pure unit tests
        wait_poller(poller, max(deadline - self.clock(), 0.0), describe=describe)

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
                expires = self.server_now() + datetime.timedelta(seconds=self.lock_ttl)
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


# ---------------------------------------------------------------------------------------------
# the whole change: validate, lease, write, verify, repair
# ---------------------------------------------------------------------------------------------

def _pick_target(versions, marker, version=None, source_marker=None, rollback=False):
    """``(target or None, note)``; None with a note means "nothing to do"."""
    if version:
        if version not in {item["name"] for item in versions}:
            raise NotFoundError("version: %s does not exist in this image definition (existing: %s)." % (
                version, ", ".join(item["name"] for item in versions) or "none"))
        return version, None
    if source_marker:
        target = resolve_marker(versions, source_marker)
        if target is None:
            raise PreconditionError("source_marker: no version of this image definition holds marker %r, "
                                    "so there is nothing to promote." % source_marker)
        return target, None
    if rollback:
        target, _holder, note = rollback_target(versions, marker)
        return target, note
    raise ValueError("state=present needs one of version, source_marker or rollback.")


def _with_replication(store, versions, name):
    """``versions`` with the summary of ``name`` re-read including its replication status."""
    wire = store.version_wire(name)
    if wire is None:
        raise NotFoundError("Version %s does not exist in this image definition." % name)
    now = store.server_now()
    return [summarize_version(wire, now) if item["name"] == name else item for item in versions]


def _plan(store, versions, marker, state, version, source_marker, rollback, allow_excluded):
    if state == "absent":
        if version and version not in {item["name"] for item in versions}:
            return MarkerPlan(marker, resolve_marker(versions, marker), resolve_marker(versions, marker), []), \
                "version %s does not exist, so it does not hold marker %r" % (version, marker)
        return plan_remove(versions, marker, only=version), None
    target, note = _pick_target(versions, marker, version=version, source_marker=source_marker, rollback=rollback)
    if target is None:
        repair = plan_repair(versions, marker)
        return repair, note
    current = resolve_marker(versions, marker)
    if current != target:
        versions = _with_replication(store, versions, target)
        summary = next(item for item in versions if item["name"] == target)
        reasons = ineligible_reasons(summary, store.server_now(), allow_excluded=allow_excluded)
        if reasons:
            raise PreconditionError("Version %s cannot hold marker %r: %s." % (target, marker, "; ".join(reasons)))
    return plan_put(versions, marker, target, format_time(store.server_now()), rollback=rollback), note


def change_marker(store, marker, state="present", version=None, source_marker=None, rollback=False,
                  allow_excluded=False, check_mode=False):
    """Put, move, roll back or remove ``marker`` on the image definition behind ``store``.

    Returns ``{"changed", "before", "after", "previous", "plan", "notes", "versions"}`` where
    ``before``/``after`` are the holders (version names or None) and ``versions`` the summaries
    after the change. Check mode reads only (no lease, no writes).
    """
    notes = []
    store.definition()  # a missing definition is a clear NotFoundError before anything else
    versions = store.versions()
    plan, note = _plan(store, versions, marker, state, version, source_marker, rollback, allow_excluded)
    if note:
        notes.append(note)
    if check_mode or not plan.changed:
        return _result(plan, versions, marker, notes)
    deadline = store.new_deadline()
    store.acquire(deadline)
    try:
        # the state may have moved while we waited for the lease: plan again from a fresh read
        versions = store.versions()
        plan, note = _plan(store, versions, marker, state, version, source_marker, rollback, allow_excluded)
        store.apply(plan, deadline, versions)
        after = store.versions()
        repair = plan_repair(after, marker)
        if repair.changed:
            notes.append("removed stale claims of marker %r on %s" % (marker, ", ".join(repair.stale)))
            store.apply(repair, deadline, after)
            after = store.versions()
    finally:
        store.release(deadline)
    final = resolve_marker(after, marker)
    if final != plan.after:
        notes.append("marker %r was moved to %s by another run at the same time" % (marker, final))
    result = _result(plan, after, marker, notes)
    result["after"] = final
    # another run may have made our change while we waited for the lease: then we changed nothing
    result["changed"] = plan.changed or repair.changed
    return result


def _result(plan, versions, marker, notes):
    holder = resolve_marker(versions, marker) if not plan.changed else plan.after
    details = {}
    for item in versions:
        if item["name"] == holder:
            details = item["marker_details"].get(marker) or {}
    for name, tags in plan.writes:  # in check mode the planned tags say what would be recorded
        if name == holder and marker in markers_of(tags):
            details = markers_of(tags)[marker]
    return {
        "changed": plan.changed,
        "before": plan.before,
        "after": plan.after if plan.changed else holder,
        "previous": details.get("previous"),
        "plan": plan.as_dict(),
        "notes": notes,
        "versions": versions,
    }
