#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hostpool_info
short_description: Read an Azure Virtual Desktop host pool, its marker binding and every session host with its VM
version_added: 0.1.0
description:
  - Returns the settings of a host pool, the image marker it follows (host-pool tags
    C(goldenimage.follow-image) and C(goldenimage.follow-marker)) and the image version that marker
    is on, and for every session host its VM, the image version the VM runs, sessions, drain
    state, status, VM power state and whether it is outdated against the target version.
  - Costs one host pool read, one session-host list, one VM list of the resource group, one list
    of image versions when the pool follows a marker, and one VM read with its instance view per
    session-host VM for its power state (Azure does not return instance views in a VM list without
    a scale-set filter).
  - With O(plan), also returns the next step of a rolling redeploy (which hosts to deploy, which to
    retire) as the C(session_host_rollout) role uses it; this only reads and decides.
  - Returns RV(exists=false) and empty lists when the host pool does not exist. A subscription Azure
    does not know (or the identity cannot see) is a failure, not a missing host pool.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description:
      - Resource group of the host pool and of its session-host VMs.
      - VMs in other resource groups of the same subscription are found by the C(resourceId) of their session host
        (one more VM list per such group).
    type: str
    required: true
  image_version_id:
    description:
      - Compare the session hosts against this gallery image version id instead of the version the
        pool's marker points at.
    type: str
  plan:
    description:
      - Plan the next step of a rolling redeploy to the target version.
      - The pool's rollout lease tag (C(goldenimage.rollout-lock)), when present and for the same target
        version, supplies the pool size and in-service count at the start of the rollout, so a resumed
        rollout aims at the same numbers. Remove the tag to start afresh after changing the pool size.
    type: dict
    suboptions:
      surge:
        description: Hosts the pool may hold above its size during the rollout; a number or a percentage such as C(25%).
        type: raw
        default: 1
      max_unavailable:
        description: In-service hosts the rollout may take away below the in-service count at its start; a number or a percentage.
        type: raw
        default: 0
      min_available_hosts:
        description:
          - Capacity floor, the in-service hosts that must remain at every moment.
          - Default is the in-service count at the start minus O(plan.max_unavailable).
        type: raw
      name_prefix:
        description: Prefix of new session host names (C(<prefix>-<n>)); default is the prefix the existing hosts share.
        type: str
      rollout_id:
        description:
          - Value of the C(goldenimage.rollout) tag the rollout puts on the VMs it creates; VMs with this tag
            that are not registered yet are deployed again before new names are used.
          - Default C(<host pool>-<target version>).
        type: str
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.host_pool
  - goldenimage.avd.attributes.INFO_MODULE
"""

EXAMPLES = r"""
- name: Read the demo host pool
  goldenimage.avd.hostpool_info:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
  register: pool

- name: Show outdated hosts
  ansible.builtin.debug:
    msg: "{{ pool.session_hosts | selectattr('outdated') | map(attribute='name') | list }}"

- name: Plan the next rollout step with a surge of 25 %
  goldenimage.avd.hostpool_info:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
    plan:
      surge: 25%
  register: step
"""

RETURN = r"""
exists:
  description: Whether the host pool exists.
  returned: always
  type: bool
host_pool:
  description: Host pool settings and the collection's bookkeeping tags.
  returned: when the host pool exists
  type: dict
  contains:
    id: {description: "Host pool id.", type: str}
    name: {description: "Host pool name.", type: str}
    host_pool_type: {description: "C(Pooled) or C(Personal).", type: str}
    load_balancer_type: {description: "C(BreadthFirst), C(DepthFirst) or C(Persistent).", type: str}
    max_session_limit: {description: "Sessions per host.", type: int}
    follow_image: {description: "Image definition id the pool follows (tag C(goldenimage.follow-image)).", type: str}
    follow_marker: {description: "Marker the pool follows (tag C(goldenimage.follow-marker)).", type: str}
    min_available_hosts: {description: "Capacity floor tag set during a rollout.", type: int}
    lock:
      description: The rollout lease (tag C(goldenimage.rollout-lock)) read on the ARM clock.
      type: dict
      sample: {present: true, owner: run-1, expires: "2026-01-01T10:00:00Z", expired: false, hosts: 3}
    tags: {description: "All tags of the host pool.", type: dict}
target:
  description: The version the hosts are compared against.
  returned: when the host pool exists
  type: dict
  contains:
    source: {description: "C(marker), C(image_version_id) or null when the pool follows nothing.", type: str}
    image_version_id: {description: "Gallery image version id, null when the marker is on no version.", type: str}
    version: {description: "Version name such as C(1.0.1).", type: str}
session_hosts:
  description: Every session host of the pool, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "VM (computer) name.", type: str, sample: avd-demo-0}
    session_host_name: {description: "Session host name as the API takes it.", type: str, sample: avd-demo-0.contoso.local}
    vm_id: {description: "VM resource id.", type: str}
    vm_found: {description: "Whether the VM exists in O(resource_group).", type: bool}
    image_version_id: {description: "Gallery image version the VM was deployed from.", type: str}
    image_version: {description: "Version name.", type: str}
    sessions: {description: "User sessions on the host.", type: int}
    allow_new_session: {description: "False when the host is in drain mode.", type: bool}
    status: {description: "Session host status (C(Available), C(Unavailable), C(Shutdown), ...).", type: str}
    power_state: {description: "VM power state (C(running), C(deallocated), ...).", type: str}
    rollout: {description: "The C(goldenimage.rollout) tag of the VM.", type: str}
    outdated: {description: "Whether the VM runs another version than the target; null when there is no target.", type: bool}
unregistered_vms:
  description: VMs of the resource group made by a rollout (tag C(goldenimage.rollout)) that are not session hosts of the pool.
  returned: always
  type: list
  elements: dict
summary:
  description: Counts - C(hosts), C(in_service), C(drained), C(sessions), C(outdated).
  returned: always
  type: dict
plan:
  description: Next rollout step (see the C(session_host_rollout) role).
  returned: when O(plan) is set and the host pool exists
  type: dict
  contains:
    status: {description: "C(complete), C(in_progress), C(blocked) or C(refused).", type: str}
    reason: {description: "What the step does or why nothing can move.", type: str}
    deploy: {description: "Names of the session hosts to deploy now.", type: list, elements: str}
    retire:
      description:
        - Outdated hosts to drain, empty and remove now - hosts out of service first, then in-service hosts
          only as many as keep O(plan.min_available_hosts) hosts in service and a seat (C(maxSessionLimit)
          per in-service host) for every user signed in to the pool now.
      type: list
      elements: str
    sessions: {description: "User sessions in the pool when it was read (the seats the hosts left in service must offer).", type: int}
    waiting_for: {description: "New hosts of this rollout that are not in service yet.", type: list, elements: str}
    desired_hosts: {description: "Pool size the rollout ends with.", type: int}
    in_service_at_start: {description: "In-service hosts when the rollout started.", type: int}
    rollout_id: {description: "Value of the C(goldenimage.rollout) tag of new VMs.", type: str}
    outdated: {description: "Names of the outdated hosts.", type: list, elements: str}
    capacity_floor: {description: "In-service hosts that must remain.", type: int}
    surge: {description: "Surge in hosts.", type: int}
    batches_remaining: {description: "Estimate of the batches still to run.", type: int}
server_time:
  description: The ARM clock (UTC) when the pool was read.
  returned: always
  type: str
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import ignore_not_found
from ansible_collections.goldenimage.avd.plugins.module_utils._hostpool import collect, format_time, lock_state
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, host_pool_options
from ansible_collections.goldenimage.avd.plugins.module_utils._rollout import plan_step


def build_plan(info, options):
    lock = info["host_pool"].get("lock") or {}
    if lock.get("present") and lock.get("target") not in (None, info["target"]["version"]):
        # a lease left by a rollout to another version: its pool size is no longer this rollout's
        lock = {}
    hosts = info["session_hosts"]
    rollout_id = options.get("rollout_id") or "%s-%s" % (info["host_pool"]["name"], info["target"]["version"])
    pending = [vm for vm in info["unregistered_vms"] if vm.get("rollout") == rollout_id]
    plan = plan_step(
        info["host_pool"], hosts, info["target"]["image_version_id"],
        surge=options.get("surge"), max_unavailable=options.get("max_unavailable"),
        min_available_hosts=options.get("min_available_hosts"),
        desired_hosts=lock.get("hosts") if lock.get("present") else None,
        in_service_at_start=lock.get("in_service") if lock.get("present") else None,
        rollout_id=rollout_id, pending_vms=pending,
        taken_names=info["vm_names"], name_prefix=options.get("name_prefix"),
    )
    plan["rollout_id"] = rollout_id
    return plan


def run(azure):
    params = azure.params
    with ignore_not_found() as outcome:
        info = collect(azure.desktop, azure.compute, params["resource_group"], params["host_pool"],
                       image_version_id=params["image_version_id"], now=None)
    if not outcome.found:
        azure.exit(False, exists=False, session_hosts=[], unregistered_vms=[], summary={},
                   server_time=format_time(azure.server_now()))
        return
    now = azure.server_now()
    info["host_pool"]["lock"] = lock_state(info["host_pool"]["tags"], now)
    result = dict(info, exists=True, server_time=format_time(now))
    result.pop("vm_names", None)
    if params["plan"] is not None:
        result["plan"] = build_plan(info, params["plan"])
    azure.exit(False, **result)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **host_pool_options(),
            image_version_id=dict(type="str"),
            plan=dict(type="dict", options=dict(
                surge=dict(type="raw", default=1),
                max_unavailable=dict(type="raw", default=0),
                min_available_hosts=dict(type="raw"),
                name_prefix=dict(type="str"),
                rollout_id=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
