# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Gallery image version names (``Major.Minor.Patch``): the one rule, sort keys, the next number,
and the golden-image build decision (build, resume, retry or finish which version). Pure functions."""

from __future__ import annotations

from ._ids import VERSION_PART_MAX, VERSION_RE, same_id, validate_name

FIRST_VERSION = "1.0.0"


def validate_version(value, option="version"):
    """Return ``value`` if it is a gallery image version name ``X.Y.Z`` (32-bit integers)."""
    return validate_name("image_version", value, option=option)


def parse_version(name):
    """``"1.10.2"`` -> ``(1, 10, 2)``; None when ``name`` is not a version name Azure accepts."""
    match = VERSION_RE.fullmatch(name) if isinstance(name, str) else None
    if not match:
        return None
    parts = tuple(int(part) for part in match.groups())
    if any(part > VERSION_PART_MAX for part in parts):
        return None
    return parts


def version_key(name):
    """Sort key of a version name: numeric; names that are not X.Y.Z sort first, by text."""
    parts = parse_version(name)
    if parts is None:
        return (0, (), name or "")
    return (1, parts, "")


def highest_version(names):
    """The highest three-part version among ``names`` (others ignored), or None."""
    versions = [name for name in names if parse_version(name) is not None]
    if not versions:
        return None
    return max(versions, key=version_key)


def next_patch_version(names, first=FIRST_VERSION):
    """The next patch after the highest existing version, or ``first`` when there is none."""
    top = highest_version(names)
    if top is None:
        return first
    major, minor, patch = parse_version(top)
    return "%d.%d.%d" % (major, minor, patch + 1)


# ---------------------------------------------------------------------------------------------
# the golden-image build decision
# ---------------------------------------------------------------------------------------------

# action -> what the golden_image role does
BUILD_ACTIONS = {
    "build": "capture a new version from a fresh clone of the original VM",
    "resume": "an unfinished capture of this original VM is resumed with the clone it was started from",
    "retry": "the version whose replication failed is deleted and captured again",
    "finish": "the version was built from this original VM already: only its replication is finished",
    "refuse": "the version exists and was not built from this original VM",
}


def built_from(version, source_vm_id):
    """Whether a version summary's provenance tag ``goldenimage.source-vm`` names ``source_vm_id``."""
    source = ((version or {}).get("provenance") or {}).get("source_vm")
    # an untagged version was built from no VM we know, whatever _ids.same_id says of None and None
    return bool(source) and bool(source_vm_id) and same_id(source, source_vm_id)


def decide_build(versions, source_vm_id, requested="auto"):
    """Which version a golden-image build of ``source_vm_id`` makes, and how.

    ``versions``: summaries with ``name``, ``provisioning_state`` and ``provenance.source_vm``.
    ``requested``: ``auto`` or a version name. Returns ``{"version", "action", "reason",
    "next_version", "unfinished", "failed"}``; ``action`` is one of ``BUILD_ACTIONS``.
    ``auto`` resumes (or retries) the highest unfinished version of this VM, else takes the next
    patch after the highest version of the image definition.
    """
    mine = [item for item in versions if built_from(item, source_vm_id)]
    unfinished = sorted((item["name"] for item in mine if item.get("provisioning_state") != "Succeeded"),
                        key=version_key)
    failed = [item["name"] for item in mine if item.get("provisioning_state") == "Failed"]
    next_version = next_patch_version([item["name"] for item in versions])
    if requested and requested != "auto":
        action = _pinned_action(requested, versions, mine, failed)
        version = requested
    elif unfinished:
        version = unfinished[-1]
        action = "retry" if version in failed else "resume"
    else:
        version, action = next_version, "build"
    return {
        "version": version,
        "action": action,
        "reason": "%s: %s" % (version, BUILD_ACTIONS[action]),
        "next_version": next_version,
        "unfinished": unfinished,
        "failed": sorted(failed, key=version_key),
    }


def _pinned_action(requested, versions, mine, failed):
    if requested in failed:
        return "retry"
    if requested in {item["name"] for item in mine}:
        return "finish"
    if requested in {item["name"] for item in versions}:
        return "refuse"
    return "build"
