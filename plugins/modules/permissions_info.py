#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: permissions_info
short_description: Check that the Azure credential holds every RBAC action a job of the collection needs
version_added: 0.1.0
description:
  - Reads the caller's effective permissions (Azure RBAC Permissions API, C(Permissions_ListForResourceGroup) and
    C(Permissions_ListForResource)) at the resource groups and the subnet a job works on, and compares them with the
    actions the job needs (the same actions as the custom role C(meta/goldenimage-avd-operator-role.json)).
  - With O(fail_on_missing=true) (default) it fails, naming every missing action and its scope, so a job stops
    before it changes anything. The roles C(golden_image), C(image_marker) and C(session_host_rollout) run it first.
  - Only reads; one request per distinct scope.
  - Each place is checked when it is known; O(resource_group) is required.
  - The Permissions API reports role assignments at the scope and above it; a role assigned only on a single
    resource below a resource group is not seen at the resource group.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  job:
    description:
      - The job whose actions are checked.
      - V(build_image) is the C(golden_image) role, V(marker) the C(image_marker) role (promote, rollback),
        V(rollout) the C(session_host_rollout) role.
    type: str
    required: true
    choices: [build_image, marker, rollout]
  resource_group:
    description:
      - Resource group of the job's VMs (V(build_image)), or of its host pools and session-host VMs
        (V(marker), V(rollout)).
    type: str
    required: true
  gallery_resource_group:
    description:
      - Resource group of the gallery.
      - When empty, the resource group of O(image_version_id); when both are empty the gallery is not checked.
    type: str
  image_version_id:
    description: A gallery image (version) id; its resource group is the gallery's (the C(session_host_rollout) role passes its target).
    type: str
  subnet_id:
    description:
      - Subnet the new VMs' network interfaces join (V(build_image), V(rollout)); its
        C(Microsoft.Network/virtualNetworks/subnets/join/action) is checked there.
      - When empty, O(source_vm) names the VM whose subnet is used; when both are empty the subnet is not checked.
    type: str
  source_vm:
    description:
      - Name of a VM in O(resource_group) whose primary network interface's subnet is checked when O(subnet_id) is
        empty (the C(golden_image) role clones into the original VM's subnet); when the VM does not exist the subnet
        is not checked.
    type: str
  fail_on_missing:
    description: Fail when an action is missing; V(false) only reports RV(missing).
    type: bool
    default: true
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.attributes.INFO_MODULE
"""

EXAMPLES = r"""
- name: Check the credential before building an image
  goldenimage.avd.permissions_info:
    job: build_image
    resource_group: rg-avd-demo
    gallery_resource_group: rg-avd-demo
    subnet_id: "/subscriptions/{{ sub }}/resourceGroups/rg-avd-demo/providers/Microsoft.Network/virtualNetworks/vnet-avd/subnets/snet-hosts"

- name: Only report what a rollout would lack
  goldenimage.avd.permissions_info:
    job: rollout
    resource_group: rg-avd-demo
    gallery_resource_group: rg-avd-demo
    subnet_id: "{{ subnet_id }}"
    fail_on_missing: false
  register: perms
"""

RETURN = r"""
missing:
  description: The actions the job needs that the credential lacks, each with the scope it is needed at.
  returned: always
  type: list
  elements: dict
  sample: [{action: Microsoft.Compute/virtualMachines/write, scope: /subscriptions/0000/resourceGroups/rg-avd-demo}]
scopes:
  description: The scope each place of the job was checked at (C(resource_group), C(gallery_resource_group), C(subnet)).
  returned: always
  type: dict
required_actions:
  description: Number of actions the job needs.
  returned: always
  type: int
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._clone import source_subnet
from ansible_collections.goldenimage.avd.plugins.module_utils._errors import get_or_none
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import parse_resource_id
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire
from ansible_collections.goldenimage.avd.plugins.module_utils._permissions import (
    JOB_ACTIONS, JOBS, check, failure_message, scopes_for)


def run(azure):
    params = azure.params
    job = params["job"]
    subnet = params["subnet_id"]
    if not subnet and params["source_vm"]:
        # a VM that does not exist has no subnet to check: the job's own step reports it
        vm = get_or_none(azure.compute.virtual_machines.get, params["resource_group"], params["source_vm"])
        subnet = source_subnet(to_wire(vm)) if vm is not None else None
    gallery_rg = params["gallery_resource_group"]
    if not gallery_rg and params["image_version_id"]:
        gallery_rg = parse_resource_id(params["image_version_id"])["resource_group"]
    places = dict(resource_group=params["resource_group"], gallery_resource_group=gallery_rg, subnet=subnet)
    scopes = scopes_for(job, azure.subscription_id, places)
    missing = check(azure.compute, job, scopes)
    required = sum(len(actions) for actions in JOB_ACTIONS[job].values())
    if missing and params["fail_on_missing"]:
        azure.fail(failure_message(job, missing), missing=missing, scopes=scopes, required_actions=required)
        return
    azure.exit(False, missing=missing, scopes=scopes, required_actions=required)


def main():
    azure = AzureModule(
        argument_spec=dict(
            job=dict(type="str", required=True, choices=list(JOBS)),
            resource_group=dict(type="str", required=True),
            gallery_resource_group=dict(type="str"),
            image_version_id=dict(type="str"),
            subnet_id=dict(type="str"),
            source_vm=dict(type="str"),
            fail_on_missing=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
