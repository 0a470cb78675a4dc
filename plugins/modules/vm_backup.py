#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_backup
short_description: Back up a VM as an Azure restore point, prune old ones, or revert the VM to one
version_added: 0.1.0
description:
  - O(state=present) makes a restore point of all managed disks of O(vm) in a restore point collection
    (created when missing, in the VM's region). With O(retain), the oldest restore points of that
    collection beyond that number are deleted; the one named here is always kept.
  - O(state=absent) deletes the restore point O(name).
  - O(state=restored) reverts the VM's disks to restore point O(name) - new disks are created from the
    disk restore points and attached in place of the current ones. The VM must be deallocated. The
    replaced disks are not deleted (they are returned in RV(replaced_disk_ids)); delete them once the
    restored VM is good. Running it again when the VM already uses disks restored from that restore
    point changes nothing.
  - Restore points are the backup the golden-image workflow takes of the original VM before each change.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description: Resource group of the VM and of the restore point collection.
    type: str
    required: true
  vm:
    description: Name of the VM.
    type: str
    required: true
  name:
    description:
      - Name of the restore point.
      - With O(state=present) it defaults to C(backup-<UTC time of the Azure clock>), which makes a new
        restore point on every run; give a name to make the task idempotent.
      - Required with O(state=absent) and O(state=restored).
    type: str
  collection:
    description: Name of the restore point collection; defaults to C(<vm>-restorepoints).
    type: str
  retain:
    description:
      - With O(state=present), keep at most this many restore points in the collection, deleting the
        oldest first. Unset keeps all.
    type: int
  state:
    description: V(present) backs up, V(absent) deletes a restore point, V(restored) reverts the VM to one.
    type: str
    choices: [present, absent, restored]
    default: present
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
notes:
  - O(poll_interval) is accepted for symmetry; the waits of this module follow the C(Retry-After)
    interval of the Azure operations.
seealso:
  - module: goldenimage.avd.vm_power
"""

EXAMPLES = r"""
- name: Back up the original VM before the monthly update, keeping the last five backups
  goldenimage.avd.vm_backup:
    resource_group: rg-avd-demo
    vm: vm-golden-w11
    name: before-build-1.0.1
    retain: 5

- name: Revert the original VM to that backup (VM must be deallocated)
  goldenimage.avd.vm_backup:
    resource_group: rg-avd-demo
    vm: vm-golden-w11
    name: before-build-1.0.1
    state: restored

- name: Delete a restore point
  goldenimage.avd.vm_backup:
    resource_group: rg-avd-demo
    vm: vm-golden-w11
    name: before-build-1.0.0
    state: absent
"""

RETURN = r"""
restore_point:
  description: The restore point (in check mode, what it would be).
  returned: when O(state=present) or O(state=restored)
  type: dict
  contains:
    id:
      description: Resource id of the restore point.
      type: str
    name:
      description: Name of the restore point.
      type: str
      sample: before-build-1.0.1
    time_created:
      description: When Azure made the restore point.
      type: str
    provisioning_state:
      description: Provisioning state of the restore point.
      type: str
      sample: Succeeded
    consistency_mode:
      description: Consistency of the restore point (ApplicationConsistent, CrashConsistent, FileSystemConsistent).
      type: str
    disks:
      description: The disks the restore point holds, with C(lun) (null for the OS disk), C(disk_id), C(name), C(disk_restore_point_id).
      type: list
      elements: dict
collection:
  description: Name and id of the restore point collection, and whether this run created it.
  returned: always
  type: dict
  sample: {"name": "vm-golden-w11-restorepoints", "id": "/subscriptions/.../restorePointCollections/vm-golden-w11-restorepoints", "created": false}
pruned:
  description: Names of the restore points deleted (or that would be) because of O(retain).
  returned: when O(state=present)
  type: list
  elements: str
  sample: [before-build-1.0.0]
restored_disks:
  description: Names of the disks created from the restore point.
  returned: when O(state=restored)
  type: list
  elements: str
replaced_disk_ids:
  description: Ids of the disks the VM used before the restore; they are left in place.
  returned: when O(state=restored)
  type: list
  elements: str
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._backup import (
    Backup,
    default_collection_name,
    describe_restore_point,
    restore_points_to_prune,
    validate_backup_params,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._errors import ConflictError, NotFoundError, \
    PreconditionError
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._vm import power_state
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_timeout


def ensure_collection(azure, backup, vm, collection_info):
    """The VM's restore point collection (None when check mode would create it); True when it is new."""
    collection = backup.get_collection()
    if collection is not None:
        backup.ensure_collection(vm, {})
        return collection, False
    collection_info["created"] = True
    if not azure.check_mode:
        collection, _created = backup.ensure_collection(vm, {})
    return collection, True


def ensure_restore_point(azure, backup, name, points_before, deadline):
    """``(before, restore point, restore points after, changed)`` for restore point ``name``."""
    existing = next((rp for rp in points_before if (rp.get("name") or "").lower() == name.lower()), None)
    if existing is not None:
        existing = backup.get_restore_point(existing["name"])
    if existing is not None and (existing.get("properties") or {}).get("provisioningState") == "Failed":
        raise ConflictError("Restore point '%s' exists but failed; delete it (state=absent) and run again." % name)
    if existing is not None:
        before = describe_restore_point(existing)
        return before, before, points_before, False
    if azure.check_mode:
        return {}, {"name": name}, points_before + [{"name": name, "properties": {"timeCreated": "9999"}}], True
    restore_point = describe_restore_point(backup.create_restore_point(name, deadline))
    return {}, restore_point, backup.list_restore_points(), True


def run_present(azure, backup, collection_info):
    params = azure.params
    deadline = Deadline(params["timeout"])
    vm = backup.get_vm()
    name = params["name"] or "backup-%s" % azure.server_now().strftime("%Y%m%dT%H%M%SZ")
    collection, changed = ensure_collection(azure, backup, vm, collection_info)
    points_before = backup.list_restore_points(collection)
    if collection is not None:
        collection_info["id"] = collection.get("id")
    before, restore_point, points_after, created = ensure_restore_point(azure, backup, name, points_before,
                                                                        deadline)
    pruned = [rp["name"] for rp in restore_points_to_prune(points_after, params["retain"], keep_name=name)]
    if pruned and not azure.check_mode:
        for rp_name in pruned:
            backup.delete_restore_point(rp_name, deadline)
    diff = azure.make_diff(
        {"restore_point": before, "restore_points": sorted(rp.get("name") for rp in points_before)},
        {"restore_point": restore_point,
         "restore_points": sorted(rp.get("name") for rp in points_after if rp.get("name") not in pruned)})
    azure.exit(changed or created or bool(pruned), diff=diff, restore_point=restore_point,
               collection=collection_info, pruned=pruned)


def run_absent(azure, backup, collection_info):
    params = azure.params
    collection = backup.get_collection()
    if collection is not None:
        collection_info["id"] = collection.get("id")
    existing = backup.get_restore_point(params["name"]) if collection is not None else None
    if existing is None:
        azure.exit(False, diff=azure.make_diff({}, {}), collection=collection_info)
        return
    if not azure.check_mode:
        backup.delete_restore_point(params["name"], Deadline(params["timeout"]))
    azure.exit(True, diff=azure.make_diff(describe_restore_point(existing), {}), collection=collection_info)


def run_restored(azure, backup, collection_info):
    params = azure.params
    vm = backup.get_vm()
    collection = backup.get_collection()
    restore_point = backup.get_restore_point(params["name"]) if collection is not None else None
    if restore_point is None:
        raise NotFoundError("Restore point '%s' was not found in collection '%s'." % (
            params["name"], backup.collection))
    collection_info["id"] = collection.get("id")
    plan = backup.restore_plan(vm, restore_point)
    described = describe_restore_point(restore_point)
    if not plan:
        azure.exit(False, diff=azure.make_diff({}, {}), restore_point=described, collection=collection_info,
                   restored_disks=[], replaced_disk_ids=[])
        return
    if power_state(vm) != "deallocated":
        raise PreconditionError("VM '%s' must be deallocated to restore its disks (power state: %s); deallocate it "
                                "with goldenimage.avd.vm_power first." % (params["vm"], power_state(vm)))
    new_names = [name for _lun, _current, name, _drp in plan]
    replaced = [current for _lun, current, _name, _drp in plan if current]
    diff = azure.make_diff({"disk_ids": replaced}, {"disks": new_names})
    if not azure.check_mode:
        replaced = backup.restore(vm, restore_point, plan, Deadline(params["timeout"]))
    azure.exit(True, diff=diff, restore_point=described, collection=collection_info, restored_disks=new_names,
               replaced_disk_ids=replaced)


def run(azure):
    params = azure.params
    validate_backup_params(params)
    check_timeout(params["timeout"])
    collection_name = params["collection"] or default_collection_name(params["vm"])
    backup = Backup(azure.compute, to_wire, params["resource_group"], params["vm"], collection_name)
    collection_info = {"name": collection_name, "id": None, "created": False}
    if params["state"] == "present":
        run_present(azure, backup, collection_info)
    elif params["state"] == "absent":
        run_absent(azure, backup, collection_info)
    else:
        run_restored(azure, backup, collection_info)


def main():
    azure = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            vm=dict(type="str", required=True),
            name=dict(type="str"),
            collection=dict(type="str"),
            retain=dict(type="int"),
            **wait_options(timeout=1800, poll_interval=15),
            state=dict(type="str", choices=["present", "absent", "restored"], default="present"),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
