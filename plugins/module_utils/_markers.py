# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""One marker change on an image definition: validate, lease, write, verify, repair.

What a marker is, the tags that hold it and the reading rule (the newest claim wins) are
described in ``_marker_tags``.

The pure parts live in ``_marker_tags`` (tags, summaries, eligibility, bindings, lease tag) and
``_marker_plans`` (holders, plans, rollback target, version tree), the reads and writes in
``_marker_store``; this file puts them together into one change (validate, lease, write, verify,
repair). Import the other names from their own files.
"""

from __future__ import annotations

from ._errors import NotFoundError, PreconditionError
from ._marker_plans import MarkerPlan, plan_put, plan_remove, plan_repair, resolve_marker, rollback_target
from ._marker_tags import format_time, ineligible_reasons, markers_of, summarize_version


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
