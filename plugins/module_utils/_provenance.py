# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Provenance of image versions: the real parent, kept on the original VM, and what a build changed.

The parent of a version is the version the original VM produced before this build, never a guess:

- The original VM carries ``goldenimage.last-version``: the version captured last from a clone of it
  (``image_capture`` writes it when the capture succeeds).
- ``vm_clone`` copies that value onto the clone as ``goldenimage.parent-version`` when it makes the
  clone, so every version captured from one clone has the same parent (siblings, not a chain).
- ``vm_backup`` records, on the restore point collection, which version the original had produced when
  a restore point was made (``goldenimage.version-at.<restore point>``; empty when none); reverting the
  original to that restore point sets ``goldenimage.last-version`` back to it, so the next build's parent
  follows the revert.

What a build changed is written on the version in a compact form that fits Azure's tag limits (a value
holds at most 256 characters): ``<count>:<item>,<item>,...`` with ``,+<n>`` at the end when the list was
cut (``3:KB5044284,KB5044033,KB2267602``, ``40:KB1,...,KB19,+21``).
"""

from __future__ import annotations

TAG_LAST_VERSION = "goldenimage.last-version"
TAG_PARENT_VERSION = "goldenimage.parent-version"
TAG_CLONE_OF = "goldenimage.clone-of"
TAG_UPDATES = "goldenimage.updates"
TAG_ACCOUNTS_REMOVED = "goldenimage.accounts-removed"
TAG_RESTORE_POINT = "goldenimage.restore-point"
TAG_VERSION_AT_PREFIX = "goldenimage.version-at."

# Azure: a tag value holds at most 256 characters, a resource at most 50 tags.
# https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
TAG_VALUE_MAX = 256
# Records kept on a restore point collection (one tag each), leaving room for the operator's own tags.
MAX_VERSION_RECORDS = 40

CHANGE_TAGS = {
    "updates": TAG_UPDATES,
    "accounts_removed": TAG_ACCOUNTS_REMOVED,
    "restore_point": TAG_RESTORE_POINT,
}


def compact_list(items, limit=TAG_VALUE_MAX):
    """``<count>:<a>,<b>,...`` within ``limit`` characters; a cut list ends with ``,+<how many more>``."""
    items = [str(item) for item in items or [] if str(item)]
    head = "%d:" % len(items)
    for shown in range(len(items), -1, -1):
        text = head + ",".join(items[:shown])
        if shown < len(items):
            text += ("," if shown else "") + "+%d" % (len(items) - shown)
        if len(text) <= limit:
            return text
    return head[:limit]


def parse_compact_list(value):
    """``{"count", "items", "more"}`` of a ``compact_list`` value; None when it is not one."""
    if not value or ":" not in value:
        return None
    count, _sep, rest = value.partition(":")
    if not count.isdigit():
        return None
    parts = [part for part in rest.split(",") if part]
    more = 0
    if parts and parts[-1].startswith("+") and parts[-1][1:].isdigit():
        more = int(parts.pop()[1:])
    return {"count": int(count), "items": parts, "more": more}


def change_tags(changes):
    """The tags that say what a build changed, from ``{"updates", "accounts_removed", "restore_point"}``.

    A key that is missing or None is not written (unknown); an empty list is written as ``0:`` (nothing).
    """
    changes = changes or {}
    tags = {}
    for key in ("updates", "accounts_removed"):
        if changes.get(key) is not None:
            tags[CHANGE_TAGS[key]] = compact_list(changes[key])
    if changes.get("restore_point"):
        tags[TAG_RESTORE_POINT] = str(changes["restore_point"])[:TAG_VALUE_MAX]
    return tags


def validate_changes(changes):
    """Check option ``changes`` before any write; raise ValueError naming the option."""
    for key in ("updates", "accounts_removed"):
        for item in (changes or {}).get(key) or []:
            if not item or "," in str(item) or len(str(item)) > 100:
                raise ValueError("Option 'changes.%s' holds %r; items must be non-empty, at most 100 characters "
                                 "and without ','." % (key, item))


def clone_parent(original):
    """The parent a clone of ``original`` records: the version the original produced last, or None."""
    return ((original or {}).get("tags") or {}).get(TAG_LAST_VERSION) or None


def capture_parent(explicit, source_vm):
    """The parent of a version captured from ``source_vm`` (a wire dict), never guessed.

    ``explicit`` (option ``parent_version``) wins; a clone gives the parent recorded when it was made; a VM that
    is not a clone gives the version it produced last. None when nothing is recorded.
    """
    if explicit:
        return explicit
    tags = (source_vm or {}).get("tags") or {}
    if tags.get(TAG_CLONE_OF):
        return tags.get(TAG_PARENT_VERSION) or None
    return tags.get(TAG_LAST_VERSION) or None


def original_tags_after_capture(original_tags, version):
    """The original's tags once ``version`` was captured from a clone of it; None when they stay as they are."""
    tags = dict(original_tags or {})
    if tags.get(TAG_LAST_VERSION) == version:
        return None
    tags[TAG_LAST_VERSION] = version
    return tags


def original_produced(original_tags, version_name, version_tags):
    """Whether an existing version still has to be recorded as the original's last one (a run that stopped
    between the capture and the tag): the original still shows the version's own parent."""
    original_tags = original_tags or {}
    if original_tags.get(TAG_LAST_VERSION) == version_name:
        return False
    return (original_tags.get(TAG_LAST_VERSION) or None) == ((version_tags or {}).get(TAG_PARENT_VERSION) or None)


def version_record_key(restore_point):
    return TAG_VERSION_AT_PREFIX + restore_point


def recorded_version(collection_tags, restore_point):
    """``(recorded, version or None)``: what the original had produced when ``restore_point`` was made."""
    tags = {key.lower(): value for key, value in (collection_tags or {}).items()}
    key = version_record_key(restore_point).lower()
    if key not in tags:
        return False, None
    return True, tags[key] or None


def collection_tags_with_record(collection_tags, restore_point, version, existing_points):
    """The collection's tags with ``restore_point`` recorded as having ``version`` (None: no version yet).

    Records of restore points that no longer exist are dropped, and at most MAX_VERSION_RECORDS are kept
    (the newest, in the order of ``existing_points``, oldest first). None when the tags stay as they are.
    """
    tags = dict(collection_tags or {})
    keep = [name.lower() for name in existing_points or []]
    keep = [name for name in keep if name != restore_point.lower()][-(MAX_VERSION_RECORDS - 1):]
    keep.append(restore_point.lower())
    out = {key: value for key, value in tags.items()
           if not key.lower().startswith(TAG_VERSION_AT_PREFIX) or key[len(TAG_VERSION_AT_PREFIX):].lower() in keep}
    out = {key: value for key, value in out.items() if key.lower() != version_record_key(restore_point).lower()}
    out[version_record_key(restore_point)] = version or ""
    return None if out == tags else out


def collection_tags_without_records(collection_tags, existing_points):
    """The collection's tags without the records of restore points that are gone; None when unchanged."""
    keep = {name.lower() for name in existing_points or []}
    tags = dict(collection_tags or {})
    out = {key: value for key, value in tags.items()
           if not key.lower().startswith(TAG_VERSION_AT_PREFIX) or key[len(TAG_VERSION_AT_PREFIX):].lower() in keep}
    return None if out == tags else out


def original_tags_after_restore(vm_tags, recorded, version):
    """The original's tags once its disks are back at a restore point: its last version follows the revert.

    Without a record (a restore point made outside the collection) the last version is unknown and removed,
    so the next version has no parent rather than a wrong one.
    """
    tags = dict(vm_tags or {})
    if recorded and version:
        tags[TAG_LAST_VERSION] = version
    else:
        tags.pop(TAG_LAST_VERSION, None)
    return tags


def provenance_changes(tags):
    """``updates``, ``accounts_removed`` (parsed compact lists) and ``restore_point`` of a version's tags."""
    lowered = {key.lower(): value for key, value in (tags or {}).items()}
    out = {}
    for field in ("updates", "accounts_removed"):
        parsed = parse_compact_list(lowered.get(CHANGE_TAGS[field]))
        if parsed is not None:
            out[field] = parsed
    if lowered.get(TAG_RESTORE_POINT):
        out["restore_point"] = lowered[TAG_RESTORE_POINT]
    return out
