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


This file holds the pure tag functions (tags in, facts out): marker tags, version summaries and
eligibility, host-pool bindings and the lease tag. Plans are in ``_marker_plans``, the store in
``_marker_store``, the whole change in ``_markers``.
"""

from __future__ import annotations

import datetime
import re

from ._ids import same_id, validate_name

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

# provisioningState values of a gallery image version that mean "not usable yet / any more".
_BUSY_STATES = ("creating", "deleting", "migrating")


# ---------------------------------------------------------------------------------------------
# names and times
# ---------------------------------------------------------------------------------------------

def validate_marker(value, option="marker"):
    """Return ``value`` if it is a valid marker name, else raise ValueError naming ``option``."""
    return validate_name("marker", value, option=option)


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
    reasons = provisioning_reasons(summary)
    end_of_life_at = parse_time(summary.get("end_of_life_date"))
    if end_of_life_at is not None and now is not None and end_of_life_at <= now:
        reasons.append("it is past its end of life (%s)" % summary.get("end_of_life_date"))
    if summary.get("exclude_from_latest") and not allow_excluded:
        reasons.append("it is excluded from use (excludeFromLatest is true; set allow_excluded to "
                       "mark it anyway)")
    if summary.get("reported_for_policy_violation"):
        reasons.append("it was reported for a policy violation")
    return reasons


def provisioning_reasons(summary):
    """Why a version is not usable yet or any more, from its provisioning and replication state."""
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
    return reasons


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


def follows(tags, image_id, marker=None):
    binding = binding_of(tags)
    # binding_of never gives an empty image id, so same_id's "None is None" never applies here
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
