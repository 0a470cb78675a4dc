# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""What a golden-image build left in Azure, found from Azure itself, and what to do about it
(``golden_image_cleanup``).

A build can be killed at any point. What it leaves is found from what is in Azure, never from what
the killed run knew: the clone VMs, disks and snapshots by their tags (``goldenimage.clone-of: <id of
the original>``, see ``_clone``), the network interface with the clone VM (``deleteOption: Delete``),
and the original's power state before the first run in its tag ``goldenimage.power-state-before``
(see ``_power``).
"""

from __future__ import annotations

import re

from ._clone import Cloner, TAG_CLONE_OF, is_clone_of
from ._errors import NotFoundError, PreconditionError, azure_errors
from ._power import PowerSwitch, set_power_state

PHASES = ("start", "end")
BUILD_ACTIONS = ("build", "resume", "retry", "finish", "refuse")

# the names vm_clone gives a clone's disks and snapshots (_clone.clone_names): <clone>-osdisk, ...
_PART_RE = re.compile(r"^(?P<clone>.+)-(osdisk|datadisk-[0-9]+|snap-os|snap-data-[0-9]+)$", re.IGNORECASE)


def cleanup_decision(phase, action, failed=False, keep_failed_clone=False):
    """What one phase of a build run cleans up: ``{"keep_clone", "restore_power", "reason"}``.

    ``start`` (before the build steps): a capture that is resumed still needs its clone; every other
    clone is a leftover. The original's power state is put back now only when no build step follows
    (``finish``, ``refuse``); otherwise the build changes it again and the end puts it back once.
    ``end`` (after the build steps, also after a failure): the clone goes unless a failed build keeps it
    for investigation; the power state goes back in any case.
    """
    if phase not in PHASES:
        raise ValueError("Option 'phase' must be one of %s; got %r." % (", ".join(PHASES), phase))
    if action not in BUILD_ACTIONS:
        raise ValueError("Option 'build_action' must be one of %s; got %r." % (", ".join(BUILD_ACTIONS), action))
    if phase == "start":
        keep = action == "resume"
        restore = action in ("finish", "refuse")
        reason = "the resumed capture needs its clone" if keep else "a clone left by an earlier run is a leftover"
        return {"keep_clone": keep, "restore_power": restore, "reason": reason}
    keep = bool(failed) and bool(keep_failed_clone)
    reason = "the failed build keeps its clone for investigation" if keep else "the build is over"
    return {"keep_clone": keep, "restore_power": True, "reason": reason}


def clone_name_of(resource):
    """The clone a disk or snapshot was made for, from its name (``<clone>-osdisk`` -> ``<clone>``), or None."""
    match = _PART_RE.match((resource or {}).get("name") or "")
    return match.group("clone") if match else None


def clones_of(source_id, vms, disks, snapshots):
    """Names of every clone of ``source_id`` that has something left in Azure, found by the tags.

    A VM counts by its own name; a disk or snapshot by the clone it was named after. Only what is
    tagged ``goldenimage.role: clone`` and ``goldenimage.clone-of: <source_id>`` counts.
    """
    names = {}
    for vm in vms:
        if is_clone_of(vm, source_id):
            names.setdefault(vm["name"].lower(), vm["name"])
    for item in list(disks) + list(snapshots):
        name = clone_name_of(item)
        if name and is_clone_of(item, source_id):
            names.setdefault(name.lower(), name)
    return sorted(names.values(), key=str.lower)


def plan_cleanup(found_clones, clone_name, keep_clone):
    """``{"remove": [names], "keep": [names]}``: only the build's own clone ``clone_name`` can be kept."""
    keep = [name for name in found_clones if keep_clone and name.lower() == clone_name.lower()]
    return {"remove": [name for name in found_clones if name not in keep], "keep": keep}


def planned_deletions(found, source_id):
    """``[{"kind", "name"}]`` of one clone's parts found by ``Cloner.find`` that belong to ``source_id``."""
    vm = found["vm"]
    out = [{"kind": "vm", "name": vm["name"]}] if vm is not None and is_clone_of(vm, source_id) else []
    for kind, items in (("disk", found["disks"]), ("snapshot", found["snapshots"])):
        out += [{"kind": kind, "name": item["name"]} for item in items if is_clone_of(item, source_id)]
    return out


# ---------------------------------------------------------------------------------------------
# Azure operations
# ---------------------------------------------------------------------------------------------

def read_leftovers(cloner, source_id):
    """Every clone of ``source_id`` in the cloner's resource group: one list of VMs, disks and snapshots each."""
    compute, resource_group = cloner.compute, cloner.resource_group
    with azure_errors("list the VMs, disks and snapshots of resource group '%s'" % resource_group):
        vms = [cloner.to_wire(vm) for vm in compute.virtual_machines.list(resource_group)]
        disks = [cloner.to_wire(d) for d in compute.disks.list_by_resource_group(resource_group)]
        snapshots = [cloner.to_wire(s) for s in compute.snapshots.list_by_resource_group(resource_group)]
    return clones_of(source_id, vms, disks, snapshots)


def remove_clones(cloner, names, source_id, deadline, check_mode):
    """Delete clones ``names`` of ``source_id`` with their disks, snapshots and network interface; what was (or,
    in check mode, would be) deleted."""
    deleted = []
    for name in names:
        found = cloner.find(name)
        vm = found["vm"]
        if vm is not None and not is_clone_of(vm, source_id):
            raise PreconditionError("VM '%s' is not a clone of %s (tag %s is %r); refusing to delete it."
                                    % (name, source_id, TAG_CLONE_OF, ((vm.get("tags") or {}).get(TAG_CLONE_OF))))
        if vm is not None:
            cloner.check_os_disk(vm)
        planned = planned_deletions(found, source_id)
        if planned and not check_mode:
            cloner.remove(name, found, deadline, source_id)
        deleted += planned
    return deleted


def clean_up(compute, to_wire, params, deadline, check_mode):
    """Run one phase of the clean-up; returns ``(changed, before, after, result)``."""
    resource_group = params["resource_group"]
    cloner = Cloner(compute, to_wire, resource_group)
    original = cloner.get_vm(resource_group, params["original_vm"])
    if original is None:
        raise NotFoundError("Original VM '%s' was not found in resource group '%s'."
                            % (params["original_vm"], resource_group))
    decision = cleanup_decision(params["phase"], params["build_action"], params["failed"],
                                params["keep_failed_clone"])
    plan = plan_cleanup(read_leftovers(cloner, original["id"]), params["clone_name"], decision["keep_clone"])
    deleted = remove_clones(cloner, plan["remove"], original["id"], deadline, check_mode)
    power = {"changed": False, "before": {}, "after": {}, "result": {}}
    if decision["restore_power"]:
        switch = PowerSwitch(compute, resource_group, params["original_vm"], deadline, params["poll_interval"])
        changed, before, after, result = set_power_state(switch, "restored", False, check_mode)
        power = {"changed": changed, "before": before, "after": after, "result": result}
    result = dict(deleted=deleted, kept=plan["keep"], reason=decision["reason"],
                  power_restored=power["changed"],
                  power_state=power["result"].get("power_state"),
                  recorded_power_state=power["result"].get("recorded_power_state"),
                  original_vm_id=original["id"])
    before = dict(clones=plan["remove"] + plan["keep"], **power["before"])
    after = dict(clones=plan["keep"], **power["after"])
    return bool(deleted) or power["changed"], before, after, result
