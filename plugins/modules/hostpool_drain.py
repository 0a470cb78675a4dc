#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hostpool_drain
short_description: Drain, undrain or remove Azure Virtual Desktop session hosts without hurting their users
version_added: 0.1.0
description:
  - V(drained) puts session hosts in drain mode (C(allowNewSession=false)) so no new user lands on
    them; users already signed in stay. With O(user_message), every user still on them is told why.
  - V(removed) drains, waits until the hosts are empty (or O(drain_timeout) passed and
    O(on_timeout) says what to do), then removes the empty hosts from the host pool and applies
    O(vm_action) to their VMs. A host with users on it is never removed and its VM never touched.
  - V(undrained) lets the hosts take new sessions again.
  - While waiting, the module reads the sessions of the whole pool with one user-session list
    per poll, whatever the number of hosts.
  - O(drain_timeout), O(logoff_grace) and O(user_message.repeat_interval) are times users live through and
    are measured on the clock of Azure Resource Manager (the C(Date) of its responses). O(timeout)
    bounds the whole task in real seconds.
  - Sending messages does not count as a change; draining, logging users off, removing hosts and
    VM actions do.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description:
      - Resource group of the host pool and of the session-host VMs.
      - A VM in another resource group is acted on where the C(resourceId) of its session host says it is.
    type: str
    required: true
  session_hosts:
    description:
      - The session hosts, by VM name (C(avd-demo-0)) or session host name (C(avd-demo-0.contoso.local)).
      - With V(drained) and V(undrained) every host must be in the pool; with V(removed) a host
        already gone counts as removed (its VM still gets O(vm_action)).
    type: list
    elements: str
    required: true
  state:
    description: What the hosts should be.
    type: str
    choices: [drained, undrained, removed]
    default: drained
  user_message:
    description: Message to the users on the hosts; sent when the wait starts and again every O(user_message.repeat_interval).
    type: dict
    suboptions:
      title:
        description: Message title.
        type: str
        required: true
      body:
        description: Message text.
        type: str
        required: true
      repeat_interval:
        description: Seconds (ARM clock) between two messages to the same user; V(0) sends it once.
        type: int
        default: 0
  wait:
    description:
      - With V(drained), wait until the hosts are empty or O(drain_timeout) passed.
      - V(removed) always waits.
    type: bool
    default: false
  drain_timeout:
    description: Seconds (ARM clock) users have to sign out by themselves after the drain.
    type: int
    default: 3600
  on_timeout:
    description:
      - What happens when users are still on a host after O(drain_timeout).
      - V(fail) leaves the hosts drained, removes only the empty ones, logs nobody off and fails.
      - V(continue) reports and moves on; hosts with users stay drained and in the pool.
      - V(logoff) sends O(final_message) to the users left and logs each of them off O(logoff_grace) after
        the warning reached them.
      - Messages go only to sessions that are C(Active) - a disconnected user would not see them - and
        reach a user who comes back later. A user who stays disconnected through O(logoff_grace) after
        O(drain_timeout) never saw the final warning and is not logged off; the host stays drained with
        that session and RV(timed_out) is true.
    type: str
    choices: [fail, continue, logoff]
    default: fail
  logoff_grace:
    description: Seconds (ARM clock) between the final warning and the forced log-off.
    type: int
    default: 600
  final_message:
    description: The final warning before a forced log-off; default text names the minutes left.
    type: dict
    suboptions:
      title:
        description: Message title.
        type: str
      body:
        description: Message text.
        type: str
  vm_action:
    description: What happens to the VM of a host removed from the pool (only hosts without sessions).
    type: str
    choices: [delete, deallocate, none]
    default: none
  timeout:
    description: Real seconds the whole task may take; default O(drain_timeout) + O(logoff_grace) + 1800.
    type: int
  poll_interval:
    description: Seconds between two reads of the pool's user sessions (fractions allowed).
    type: float
    default: 15
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.host_pool
  - goldenimage.avd.attributes
"""

EXAMPLES = r"""
- name: Drain two hosts and tell their users
  goldenimage.avd.hostpool_drain:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
    session_hosts: [avd-demo-0, avd-demo-1]
    state: drained
    user_message:
      title: Maintenance
      body: This desktop is being updated. Please save your work and sign out when convenient.

- name: Retire a host - wait up to an hour, then warn, wait 10 minutes and sign users off; delete the VM
  goldenimage.avd.hostpool_drain:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
    session_hosts: [avd-demo-0]
    state: removed
    user_message:
      title: Maintenance
      body: Please save your work and sign out; sign in again to get an updated desktop.
      repeat_interval: 900
    drain_timeout: 3600
    on_timeout: logoff
    logoff_grace: 600
    vm_action: delete
"""

RETURN = r"""
session_hosts:
  description: What happened to each host.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "VM name.", type: str}
    session_host_name: {description: "Session host name.", type: str}
    in_pool_at_start: {description: "Whether the host was in the pool when the task started.", type: bool}
    sessions_at_start: {description: "User sessions when the wait started.", type: int}
    ended_by_themselves: {description: "Sessions the users ended during the wait.", type: int}
    logged_off: {description: "Sessions logged off by this task.", type: int}
    sessions_left: {description: "Sessions still on the host at the end.", type: int}
    messages_sent: {description: "Messages delivered to users of the host.", type: int}
    drained: {description: "Whether this task put the host in drain mode.", type: bool}
    undrained: {description: "Whether this task took the host out of drain mode.", type: bool}
    removed: {description: "Whether this task removed the host from the pool.", type: bool}
    vm_action: {description: "C(deleted), C(deallocated), C(already gone) or null.", type: str}
    state: {description: "C(in_service), C(drained), C(drained_with_users), C(removed) or C(absent).", type: str}
    empty_after_s: {description: "Seconds (ARM clock) from the start of the wait until the host had no session; null if it never got empty.", type: int}
timed_out:
  description:
    - Whether users were still on a host after O(drain_timeout) (with O(on_timeout=continue)), or, with
      O(on_timeout=logoff), only users the final warning could not reach (disconnected) were left.
  returned: always
  type: bool
users_left:
  description: Sessions left on the hosts at the end.
  returned: always
  type: int
logged_off:
  description: Sessions this task logged off.
  returned: always
  type: int
messages_sent:
  description: Messages delivered.
  returned: always
  type: int
arm_requests:
  description: Azure Resource Manager requests this task made (reads and writes, not counting LRO polls).
  returned: always
  type: int
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._drain import DrainContext, check_message, run_drain
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, host_pool_options
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import check_poll_interval


def run(azure):
    params = azure.params
    message = check_message(params["user_message"], "user_message")
    for option in ("drain_timeout", "logoff_grace"):
        if params[option] is None or params[option] < 0:
            raise ValueError("%s must be a number of seconds >= 0" % option)
    check_poll_interval(params["poll_interval"])
    if not params["session_hosts"]:
        raise ValueError("session_hosts must name at least one session host")
    ctx = DrainContext(azure.desktop, azure.compute, params["resource_group"], params["host_pool"],
                       server_now=azure.server_now, log=azure.module.log)
    before_after = {}
    changed, result = run_drain(
        ctx, params["session_hosts"], params["state"], message=message, wait=params["wait"],
        drain_timeout=params["drain_timeout"], on_timeout=params["on_timeout"],
        logoff_grace=params["logoff_grace"], final_message=params["final_message"],
        vm_action=params["vm_action"], poll_interval=params["poll_interval"], timeout=params["timeout"],
        check_mode=azure.check_mode)
    for row in result["session_hosts"]:
        before_after.setdefault("before", {})[row["name"]] = {
            "in_pool": row["in_pool_at_start"], "allow_new_session": row["allow_new_session_at_start"]}
        gone = row["removed"] or row["state"] == "absent"
        allow = row["allow_new_session_at_start"]
        if row["drained"]:
            allow = False
        if row["undrained"]:
            allow = True
        before_after.setdefault("after", {})[row["name"]] = {
            "in_pool": not gone, "allow_new_session": None if gone else allow, "vm_action": row["vm_action"]}
    azure.exit(changed, diff=azure.make_diff(before_after.get("before"), before_after.get("after")),
               arm_requests=ctx.requests, **result)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **host_pool_options(),
            session_hosts=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["drained", "undrained", "removed"], default="drained"),
            user_message=dict(type="dict", options=dict(
                title=dict(type="str", required=True),
                body=dict(type="str", required=True),
                repeat_interval=dict(type="int", default=0),
            )),
            wait=dict(type="bool", default=False),
            drain_timeout=dict(type="int", default=3600),
            on_timeout=dict(type="str", choices=["fail", "continue", "logoff"], default="fail"),
            logoff_grace=dict(type="int", default=600),
            final_message=dict(type="dict", options=dict(
                title=dict(type="str"),
                body=dict(type="str"),
            )),
            vm_action=dict(type="str", choices=["delete", "deallocate", "none"], default="none"),
            timeout=dict(type="int"),
            poll_interval=dict(type="float", default=15),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
