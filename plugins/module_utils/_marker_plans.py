# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Marker plans, pure: who holds a marker (newest claim wins), the tag writes that move, remove or
repair it, where a rollback goes, and the version tree. Tags and summaries come from ``_marker_tags``."""

from __future__ import annotations

from ._errors import NotFoundError, PreconditionError
from ._marker_tags import parse_time, previous_key, with_marker, without_marker
from ._versions import version_key


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
