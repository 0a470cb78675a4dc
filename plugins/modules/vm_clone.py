#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_clone
short_description: Clone a VM through snapshots of its managed disks, or remove such a clone
version_added: 0.1.0
description:
  - Snapshots the OS disk and every data disk of O(source_vm), creates disks from the snapshots and
    a new VM O(name) on those disks, with one VM-owned network interface (deleted with the VM) and
    no public IP address. Size, subnet, Trusted Launch / security profile, license type, zones and
    disk settings (Hyper-V generation, disk security profile, SKU) are taken from the source unless
    O(vm_size) or O(subnet_id) say otherwise.
  - "Everything made for the clone is named after it (C(<name>-snap-os), C(<name>-snap-data-<lun>),
    C(<name>-osdisk), C(<name>-datadisk-<lun>), network interface configuration C(<name>-nic)) and tagged C(goldenimage.role: clone) and
    C(goldenimage.clone-of: <source VM id>)."
  - The source VM is only read, never changed.
  - By default the source VM must be stopped or deallocated, so that the copy is consistent (the
    golden-image workflow powers the original VM off before cloning it). With
    O(allow_running_source=true) a running source is snapshotted crash-consistently, like pulling the
    power plug.
  - Re-running after a crash midway reuses the snapshots and disks that exist and finishes the job;
    nothing is made twice. Snapshots stay until the clone is removed.
  - O(state=absent) deletes the clone VM, its network interface, its disks and its snapshots, found by
    their names and tags, also when an earlier run stopped halfway. It refuses a VM that vm_clone did
    not make, also one tagged as a clone whose OS disk is not a disk vm_clone made (copied tags).
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description: Resource group of the clone and of everything made for it.
    type: str
    required: true
  name:
    description:
      - Name of the clone VM; the names of its disks, snapshots and network interface are derived from it.
    type: str
    required: true
  source_vm:
    description:
      - Name of the VM to clone. Required with O(state=present).
      - With O(state=absent), when set, only a clone of this VM is removed.
    type: str
  source_resource_group:
    description: Resource group of O(source_vm); defaults to O(resource_group).
    type: str
  vm_size:
    description: Size of the clone; defaults to the size of the source VM.
    type: str
  subnet_id:
    description:
      - Resource id of the subnet for the clone's network interface.
      - Defaults to the subnet of the source VM's primary VM-owned network interface configuration;
        required when the source VM uses a standalone network interface.
    type: str
  allow_running_source:
    description:
      - Allow cloning a running source VM (crash-consistent copy).
      - When V(false), a source that is not stopped or deallocated fails the task before anything is made.
    type: bool
    default: false
  tags:
    description:
      - Extra tags for the clone VM, its disks and its snapshots.
      - Keys starting with C(goldenimage.) are reserved and refused.
    type: dict
    default: {}
  state:
    description: V(present) makes the clone, V(absent) removes it and everything made for it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
notes:
  - O(poll_interval) is accepted for symmetry with the other modules; the waits of this module
    follow the C(Retry-After) interval of the Azure operations.
seealso:
  - module: goldenimage.avd.sysprep_generalize
  - module: goldenimage.avd.vm_power
"""

EXAMPLES = r"""
- name: Clone the deallocated original VM
  goldenimage.avd.vm_clone:
    resource_group: rg-avd-demo
    source_vm: vm-golden-w11
    name: vm-golden-w11-clone
  register: clone

- name: Clone into another subnet with a smaller size
  goldenimage.avd.vm_clone:
    resource_group: rg-avd-build
    source_resource_group: rg-avd-demo
    source_vm: vm-golden-w11
    name: build-w11-clone
    vm_size: Standard_D2s_v5
    subnet_id: "{{ build_vnet_id }}/subnets/snet-build"

- name: Remove the clone with its disks, snapshots and NIC
  goldenimage.avd.vm_clone:
    resource_group: rg-avd-demo
    name: vm-golden-w11-clone
    state: absent
"""

RETURN = r"""
clone:
  description: The clone VM (in check mode, the names it would get).
  returned: when O(state=present)
  type: dict
  contains:
    id:
      description: Resource id of the clone VM.
      type: str
    name:
      description: Name of the clone VM.
      type: str
      sample: vm-golden-w11-clone
    location:
      description: Region of the clone.
      type: str
      sample: westeurope
    vm_size:
      description: Size of the clone.
      type: str
      sample: Standard_D4s_v5
    power_state:
      description: Power state of the clone (C(running) after creation).
      type: str
      sample: running
    os_disk_id:
      description: Id of the clone's OS disk.
      type: str
    data_disk_ids:
      description: Ids of the clone's data disks.
      type: list
      elements: str
    nic_ids:
      description: Ids of the clone's network interfaces.
      type: list
      elements: str
    tags:
      description: Tags of the clone VM.
      type: dict
      sample: {"goldenimage.role": "clone", "goldenimage.clone-of": "/subscriptions/.../virtualMachines/vm-golden-w11"}
    names:
      description: Names of the clone's VM, NIC, disks and snapshots.
      type: dict
source_vm_id:
  description: Resource id of the source VM.
  returned: when O(state=present)
  type: str
created:
  description: What this run created (or would create, in check mode), as C(kind) and C(name).
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{"kind": "snapshot", "name": "vm-golden-w11-clone-snap-os"}, {"kind": "vm", "name": "vm-golden-w11-clone"}]
deleted:
  description: What this run deleted (or would delete, in check mode), as C(kind) and C(name).
  returned: when O(state=absent)
  type: list
  elements: dict
  sample: [{"kind": "vm", "name": "vm-golden-w11-clone"}, {"kind": "disk", "name": "vm-golden-w11-clone-osdisk"}]
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._clone import (
    Cloner,
    clone_names,
    is_clone_of,
    power_state,
    source_disks,
    source_subnet,
    validate_clone_params,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._errors import NotFoundError, PreconditionError
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import resource_id
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._validate import check_tags
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_timeout


def validate(params):
    validate_clone_params(params)
    # the clone also gets goldenimage.role and goldenimage.clone-of
    params["tags"] = check_tags(params["tags"], added=2)
    check_timeout(params["timeout"])


def run_present(azure, cloner):
    params = azure.params
    source_rg = params["source_resource_group"] or params["resource_group"]
    source = cloner.get_vm(source_rg, params["source_vm"])
    if source is None:
        raise NotFoundError("Source VM '%s' was not found in resource group '%s'." % (params["source_vm"], source_rg))
    if is_clone_of(source):
        raise PreconditionError("Source VM '%s' is itself a clone (tag goldenimage.role: clone); clone the "
                                "original VM instead." % params["source_vm"])
    data_luns = [lun for lun, _disk_id, _caching in source_disks(source) if lun is not None]
    names = clone_names(params["name"], data_luns)
    existing = cloner.get_vm(params["resource_group"], params["name"])
    if existing is None:
        state = power_state(source)
        if state not in ("stopped", "deallocated") and not params["allow_running_source"]:
            raise PreconditionError(
                "Source VM '%s' is %s. Stop or deallocate it first (goldenimage.avd.vm_power) for a consistent "
                "copy, or set allow_running_source=true for a crash-consistent one." % (params["source_vm"], state))
    subnet_id = params["subnet_id"] or source_subnet(source)
    if existing is None and not subnet_id:
        raise PreconditionError("Source VM '%s' has no VM-owned network interface configuration to take the subnet "
                                "from; set subnet_id." % params["source_vm"])
    before = {} if existing is None else Cloner.describe(existing, names)
    created, described = cloner.ensure(source, params["name"], params["vm_size"], subnet_id, params["tags"],
                                       Deadline(params["timeout"]), azure.check_mode)
    if azure.check_mode and created:
        described = {"name": params["name"], "location": source["location"], "names": names,
                     "vm_size": params["vm_size"] or ((source.get("properties") or {}).get("hardwareProfile") or {})
                     .get("vmSize")}
    azure.exit(bool(created), diff=azure.make_diff(before, described), clone=described, source_vm_id=source["id"],
               created=created)


def run_absent(azure, cloner):
    params = azure.params
    source_id = None
    if params["source_vm"]:
        source_id = resource_id(azure.subscription_id, params["source_resource_group"] or params["resource_group"],
                                "Microsoft.Compute", "virtualMachines", params["source_vm"])
    found = cloner.find(params["name"])
    vm = found["vm"]
    if vm is not None and not is_clone_of(vm):
        raise PreconditionError("VM '%s' in resource group '%s' is not a clone made by vm_clone (no "
                                "'goldenimage.role: clone' tag); refusing to delete it." % (
                                    params["name"], params["resource_group"]))
    if vm is not None and source_id and not is_clone_of(vm, source_id):
        raise PreconditionError("VM '%s' is a clone of %s, not of %s; refusing to delete it." % (
            params["name"], vm["tags"].get("goldenimage.clone-of"), source_id))
    if vm is not None:
        cloner.check_os_disk(vm)
    planned = ([{"kind": "vm", "name": vm["name"]}] if vm is not None else []) + \
        [{"kind": "disk", "name": d["name"]} for d in found["disks"]
         if source_id is None or is_clone_of(d, source_id)] + \
        [{"kind": "snapshot", "name": s["name"]} for s in found["snapshots"]
         if source_id is None or is_clone_of(s, source_id)]
    before = {"resources": planned}
    if not planned:
        azure.exit(False, diff=azure.make_diff(before, {"resources": []}), deleted=[])
        return
    if azure.check_mode:
        azure.exit(True, diff=azure.make_diff(before, {"resources": []}), deleted=planned)
        return
    # Disks and the NIC go with the VM (deleteOption Delete); the list says what no longer exists.
    cloner.remove(params["name"], found, Deadline(params["timeout"]), source_id)
    azure.exit(True, diff=azure.make_diff(before, {"resources": []}), deleted=planned)


def run(azure):
    validate(azure.params)
    cloner = Cloner(azure.compute, to_wire, azure.params["resource_group"])
    if azure.params["state"] == "absent":
        run_absent(azure, cloner)
    else:
        run_present(azure, cloner)


def main():
    azure = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            name=dict(type="str", required=True),
            source_vm=dict(type="str"),
            source_resource_group=dict(type="str"),
            vm_size=dict(type="str"),
            subnet_id=dict(type="str"),
            allow_running_source=dict(type="bool", default=False),
            tags=dict(type="dict", default={}),
            **wait_options(timeout=1800, poll_interval=15),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
