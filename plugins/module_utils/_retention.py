# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Retention of gallery image versions: which old versions may be deleted, and why the others stay."""

from __future__ import annotations

from ._ids import same_id
from ._marker_plans import marker_map
from ._marker_tags import parse_time
from ._versions import version_key

# provisioningState values that mean another operation owns the version right now
_BUSY_STATES = ("creating", "updating", "deleting", "migrating")


def image_references(vm):
    """The gallery image ids a VM (wire dict) was deployed from: ``(id, exact_version)``."""
    reference = ((vm.get("properties") or {}).get("storageProfile") or {}).get("imageReference") or {}
    return reference.get("id"), reference.get("exactVersion")


def versions_in_use(vms, image_id, version_names):
    """``({version: [vm ids]}, [vm ids deployed from "latest"])`` for the image definition ``image_id``.

    A VM references either a version id (``.../images/<image>/versions/1.0.0``) or the definition
    itself (``latest``); for the latter Azure reports the version it resolved in ``exactVersion``,
    which is then counted as in use as well.
    """
    used = {}
    latest_users = []
    prefix = image_id.rstrip("/").lower() + "/versions/"
    lowered_names = {name.lower(): name for name in version_names}
    for vm in vms:
        reference_id, exact_version = image_references(vm)
        if not reference_id:
            continue
        lowered = reference_id.rstrip("/").lower()
        if lowered.startswith(prefix):
            name = lowered[len(prefix):]
            if name == "latest":
                latest_users.append(vm.get("id"))
                name = (exact_version or "").lower()
            if name in lowered_names:
                used.setdefault(lowered_names[name], []).append(vm.get("id"))
        elif same_id(reference_id, image_id):
            latest_users.append(vm.get("id"))
            if exact_version and exact_version.lower() in lowered_names:
                used.setdefault(lowered_names[exact_version.lower()], []).append(vm.get("id"))
    return used, latest_users


def latest_version(versions):
    """The version Azure resolves ``latest`` to: the highest one not excluded from latest."""
    candidates = [item for item in versions if not item.get("exclude_from_latest")]
    if not candidates:
        return None
    return max(candidates, key=lambda item: version_key(item["name"]))["name"]


def rollback_targets(versions):
    """``{version: [markers]}``: where a rollback of each marker would go.

    That is the previous holder recorded on the version that holds the marker (newest claim), unless
    the marker got there by a rollback already (a second rollback is a no-op, see ``_marker_plans.rollback_target``).
    """
    by_name = {item["name"]: item for item in versions}
    targets = {}
    for marker, holder in marker_map(versions).items():
        details = (by_name[holder].get("marker_details") or {}).get(marker) or {}
        previous = details.get("previous")
        if previous and previous != holder and not details.get("rolled_back_from"):
            targets.setdefault(previous, []).append(marker)
    return targets


def select_for_deletion(versions, keep, in_use, latest_users=(), now=None):
    """Split ``versions`` (summaries from ``_marker_tags.summarize_version``) into delete / keep.

    Keeps the ``keep`` highest version numbers, and of the rest every version that holds a
    marker, is where a rollback of a marker goes (its recorded previous holder, unless a rollback
    could not use it: failed or past its end of life), is used by a VM, is what ``latest``
    resolves to while a VM deploys ``latest``, is busy (being created, updated or deleted by
    another operation) or whose deletion Azure blocks until its end of life. Returns
    ``(delete_names, {kept_name: [reasons]})``; deletion order is oldest first.
    """
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise ValueError("keep: must be an integer >= 1 (the newest versions always kept), got %r." % (keep,))
    ordered = sorted(versions, key=lambda item: version_key(item["name"]), reverse=True)
    latest = latest_version(versions) if latest_users else None
    targets = rollback_targets(versions)
    delete, kept = [], {}
    for index, item in enumerate(ordered):
        reasons = keep_reasons(item, keep if index < keep else 0, targets, in_use, latest, now)
        if reasons:
            kept[item["name"]] = reasons
        else:
            delete.append(item["name"])
    delete.sort(key=version_key)
    return delete, kept


def keep_reasons(item, newest, targets, in_use, latest, now):
    """Why version ``item`` stays (empty: it may be deleted); ``newest`` is ``keep`` when it is among the newest."""
    name = item["name"]
    reasons = []
    if newest:
        reasons.append("one of the newest %d versions" % newest)
    if item.get("markers"):
        reasons.append("holds marker %s" % ", ".join(item["markers"]))
    end_of_life = parse_time(item.get("end_of_life_date"))
    past_end_of_life = end_of_life is not None and now is not None and end_of_life <= now
    usable = (item.get("provisioning_state") or "").lower() != "failed" and not past_end_of_life
    if targets.get(name) and usable:
        reasons.append("rollback target of marker %s (its previous holder)" % ", ".join(targets[name]))
    if in_use.get(name):
        reasons.append("used by %d VM(s): %s" % (len(in_use[name]), ", ".join(
            vm_id.rsplit("/", 1)[-1] for vm_id in in_use[name])))
    if name == latest:
        reasons.append("is what 'latest' resolves to and VMs deploy 'latest'")
    if (item.get("provisioning_state") or "").lower() in _BUSY_STATES:
        reasons.append("another operation is running on it (provisioningState %s)" % item["provisioning_state"])
    if item.get("block_deletion_before_end_of_life") and (end_of_life is None or now is None or end_of_life > now):
        reasons.append("Azure blocks its deletion before its end of life (%s)" % (
            item.get("end_of_life_date") or "not set"))
    return reasons
