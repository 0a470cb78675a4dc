#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sysprep_generalize
short_description: Sysprep and generalize a clone made by vm_clone
version_added: 0.1.0
description:
  - Prepares a clone made by M(goldenimage.avd.vm_clone) for capture, in this order.
  - Pre-flight checks through Run Command (BitLocker, pending reboot, AppX packages installed for single
    users only, user profiles that would stay in the image, the sysprep count). What would make sysprep fail -
    judged with the account removal of the next step - stops the task before anything is written in the guest,
    with one line per blocker, unless O(ignore_preflight_blockers=true).
  - Removal of local accounts and their profiles through Run Command, except O(keep_accounts).
  - Sysprep C(/generalize /oobe /shutdown /mode:vm), started detached through Run Command.
  - A bounded wait until the guest has shut down (C(PowerState/stopped)), then deallocation and the
    Azure C(generalize) call.
  - "Refuses, before touching anything, any VM that vm_clone did not make (tags C(goldenimage.role: clone)
    and C(goldenimage.clone-of)) and any VM tagged C(goldenimage.role: original): an original VM is never
    sysprepped."
  - "The OS disk must be a disk vm_clone made for this clone too (tags C(goldenimage.role: clone) and the same
    C(goldenimage.clone-of)): an original VM whose tags were copied from a clone is refused as well."
  - A VM that is already generalized gives C(changed=false).
  - Before starting sysprep the module tags the clone C(goldenimage.sysprep-started) with the time, so
    a run that was interrupted later continues with the wait, the deallocation and the generalize
    call instead of starting sysprep again.
  - When sysprep does not shut the VM down within O(timeout), the task fails with the tail of
    C(setupact.log) and C(setuperr.log), read back through Run Command.
  - The guest scripts receive every value (such as account names) as Run Command parameters, never
    inside the script text.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description: Resource group of the clone VM.
    type: str
    required: true
  name:
    description: Name of the clone VM.
    type: str
    required: true
  remove_local_accounts:
    description:
      - Remove local user accounts and their profiles before sysprep (leftover profiles are a common
        reason for sysprep to fail).
      - Built-in accounts (Administrator, Guest, DefaultAccount, WDAGUtilityAccount) are never removed.
    type: bool
    default: true
  keep_accounts:
    description:
      - Local accounts to keep.
      - Defaults to the provisioning admin (C(osProfile.adminUsername)) of the original VM the clone was
        made of. When that cannot be read and O(remove_local_accounts=true), the task fails and asks
        for this option.
    type: list
    elements: str
  ignore_preflight_blockers:
    description:
      - Run sysprep even when the pre-flight checks found what makes it fail (BitLocker on, a pending reboot,
        per-user AppX packages or profiles of accounts that stay, ...). The blockers are returned in
        RV(preflight_blockers) and given as a warning.
      - Only for a guest the checks misjudge; sysprep that fails costs about 10 minutes and is then reported with
        the tail of its logs.
    type: bool
    default: false
  timeout:
    description:
      - How long, in seconds, the whole task may take, sysprep included (sysprep itself takes about
        10 minutes).
    type: int
    default: 3600
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
seealso:
  - module: goldenimage.avd.vm_clone
  - module: goldenimage.avd.image_capture
"""

EXAMPLES = r"""
- name: Generalize the clone, keeping the provisioning admin
  goldenimage.avd.sysprep_generalize:
    resource_group: rg-avd-demo
    name: vm-golden-w11-clone
    timeout: 3600
    poll_interval: 30

- name: Generalize, keeping a second local account as well
  goldenimage.avd.sysprep_generalize:
    resource_group: rg-avd-demo
    name: vm-golden-w11-clone
    keep_accounts:
      - avdadmin
      - svc.monitoring
"""

RETURN = r"""
vm_id:
  description: Resource id of the clone.
  returned: always
  type: str
generalized:
  description: Whether the VM is generalized in Azure after the task (in check mode, before it).
  returned: always
  type: bool
  sample: true
power_state:
  description: Power state of the VM after the task.
  returned: always
  type: str
  sample: deallocated
steps:
  description:
    - The steps this run did (in check mode, would do), in order; from C(start), C(preflight),
      C(remove_local_accounts), C(sysprep), C(wait_for_stop), C(deallocate), C(generalize).
  returned: always
  type: list
  elements: str
  sample: [preflight, remove_local_accounts, sysprep, wait_for_stop, deallocate, generalize]
keep_accounts:
  description: The local accounts the task keeps.
  returned: always
  type: list
  elements: str
  sample: [avdadmin]
removed_accounts:
  description: Local accounts the guest script removed.
  returned: when accounts were removed in this run
  type: list
  elements: str
  sample: [alice.local, bob.local]
preflight:
  description: The report of the pre-flight checks (C(bitlocker), C(pending_reboot), C(appx_per_user), C(problems)).
  returned: when the pre-flight checks ran
  type: dict
preflight_blockers:
  description:
    - What the pre-flight checks found that makes sysprep fail, one entry per blocker.
    - On failure when the task stopped before sysprep; on success when O(ignore_preflight_blockers=true) let it run.
  returned: when the pre-flight checks found blockers
  type: list
  elements: str
  sample: ["user profiles that stay in the image: bob.local (...)"]
sysprep_log_tail:
  description: Tail of the sysprep logs when sysprep failed or timed out.
  returned: on failure of sysprep
  type: str
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import PreconditionError
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, check_vm_options, to_wire, vm_options, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._sysprep import (
    Sysprepper,
    keep_list,
    os_disk_refusal_reason,
    plan_steps,
    refusal_reason,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._vm import is_generalized, power_state
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_poll_interval, check_timeout


def validate(params):
    check_vm_options(params)
    check_timeout(params["timeout"])
    check_poll_interval(params["poll_interval"])
    for account in params["keep_accounts"] or []:
        if not account or len(account) > 256:
            raise ValueError("Option 'keep_accounts' holds an empty or over-long account name.")


def run(azure):
    params = azure.params
    validate(params)
    deadline = Deadline(params["timeout"])
    sysprepper = Sysprepper(azure.compute, to_wire, params["resource_group"], params["name"], azure.server_now)
    vm = sysprepper.get_vm()
    reason = refusal_reason(vm) or os_disk_refusal_reason(vm, sysprepper.get_os_disk(vm))
    if reason:
        raise PreconditionError(reason)
    admin = sysprepper.admin_username_of_source(vm)
    keep = keep_list(params["keep_accounts"], admin)
    steps = plan_steps(vm, params["remove_local_accounts"])
    if params["remove_local_accounts"] and "remove_local_accounts" in steps and not keep:
        raise PreconditionError("Cannot tell which local account is the provisioning admin of VM '%s' (the "
                                "original has no osProfile.adminUsername); set keep_accounts." % params["name"])
    before = {"generalized": is_generalized(vm), "power_state": power_state(vm)}
    if not steps or azure.check_mode:
        after = before if not steps else {"generalized": True, "power_state": "deallocated"}
        azure.exit(bool(steps), diff=azure.make_diff(before, after), vm_id=vm["id"], generalized=before["generalized"],
                   power_state=before["power_state"], steps=steps, keep_accounts=keep)
        return
    options = {"remove_local_accounts": params["remove_local_accounts"], "admin": admin,
               "ignore_preflight_blockers": params["ignore_preflight_blockers"]}
    result = sysprepper.execute(vm, steps, keep, deadline, params["poll_interval"], options)
    if result["blockers"]:
        azure.module.warn("Sysprep ran although the pre-flight found blockers (ignore_preflight_blockers=true): %s"
                          % "; ".join(result["blockers"]))
    vm = sysprepper.get_vm()
    after = {"generalized": is_generalized(vm), "power_state": power_state(vm)}
    out = dict(vm_id=vm["id"], generalized=after["generalized"], power_state=after["power_state"],
               steps=result["steps_done"], keep_accounts=keep)
    if result["removed_accounts"]:
        out["removed_accounts"] = result["removed_accounts"]
    if result["preflight"] is not None:
        out["preflight"] = result["preflight"]
    if result["blockers"]:
        out["preflight_blockers"] = result["blockers"]
    azure.exit(True, diff=azure.make_diff(before, after), **out)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **vm_options(),
            remove_local_accounts=dict(type="bool", default=True),
            keep_accounts=dict(type="list", elements="str"),
            ignore_preflight_blockers=dict(type="bool", default=False),
            **wait_options(timeout=3600, poll_interval=15),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
