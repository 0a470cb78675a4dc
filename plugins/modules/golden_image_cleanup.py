#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: golden_image_cleanup
short_description: Remove what a golden-image build left and put the original VM back in its power state
version_added: 0.1.0
description:
  - Finds what a golden-image build of O(original_vm) left in Azure, from Azure itself and not from
    what an earlier run knew, so that a run killed at any point and started again cleans up after it.
  - "Clones are found by their tags: every VM, disk and snapshot in O(resource_group) tagged
    C(goldenimage.role: clone) and C(goldenimage.clone-of: <id of the original VM>), whatever its
    name (see M(goldenimage.avd.vm_clone)). Each clone is deleted with its network interface (which
    goes with the VM), its disks and its snapshots."
  - The power state the original VM had before the build is the one recorded in its tag
    C(goldenimage.power-state-before) by M(goldenimage.avd.vm_power) with O(goldenimage.avd.vm_power#module:remember=true);
    the module brings the VM back to it and removes the tag (nothing to do when no state is recorded).
  - "What each phase does is decided from O(phase) and O(build_action): at V(start) a clone is kept
    only for a capture that is resumed (C(resume)), and the power state is put back only when no build
    step follows (C(finish), C(refuse)); at V(end) the clone O(clone_name) is kept only when O(failed) and
    O(keep_failed_clone), and the power state is always put back."
  - Used by the P(goldenimage.avd.golden_image#role) role at the start and at the end of every run.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description: Resource group of the original VM and of its clones.
    type: str
    required: true
  original_vm:
    description: Name of the original VM the clones were made from.
    type: str
    required: true
  clone_name:
    description: Name of the clone of this build, the only one that can be kept.
    type: str
    required: true
  phase:
    description: V(start) before the build steps, V(end) after them (also after a failure).
    type: str
    choices: [start, end]
    required: true
  build_action:
    description:
      - What the build does, as decided by M(goldenimage.avd.image_version_info) (RV(goldenimage.avd.image_version_info#module:build.action)).
    type: str
    choices: [build, resume, retry, finish, refuse]
    required: true
  failed:
    description: With O(phase=end), whether the build steps failed.
    type: bool
    default: false
  keep_failed_clone:
    description: With O(phase=end) and O(failed=true), keep the clone O(clone_name) for investigation.
    type: bool
    default: false
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
notes:
  - O(poll_interval) paces the wait for a power transition of the original VM already in progress;
    deletions and power operations follow the C(Retry-After) interval of the Azure operations.
seealso:
  - module: goldenimage.avd.vm_clone
  - module: goldenimage.avd.vm_power
"""

EXAMPLES = r"""
- name: Clean up what an earlier, interrupted build left
  goldenimage.avd.golden_image_cleanup:
    resource_group: rg-avd-demo
    original_vm: vm-golden-w11
    clone_name: vm-golden-w11-clone
    phase: start
    build_action: build

- name: Delete the clone and put the original VM back in its power state
  goldenimage.avd.golden_image_cleanup:
    resource_group: rg-avd-demo
    original_vm: vm-golden-w11
    clone_name: vm-golden-w11-clone
    phase: end
    build_action: build
    failed: "{{ build_failed }}"
    keep_failed_clone: true
"""

RETURN = r"""
deleted:
  description: What was deleted (in check mode, what would be), C(kind) V(vm), V(disk) or V(snapshot) and C(name).
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "vm", "name": "vm-golden-w11-clone"}, {"kind": "snapshot", "name": "vm-golden-w11-clone-snap-os"}]
kept:
  description: Clones kept (the clone of a resumed capture, or of a failed build with O(keep_failed_clone)).
  returned: always
  type: list
  elements: str
  sample: []
reason:
  description: Why the clone of this build is kept or deleted in this phase.
  returned: always
  type: str
  sample: a clone left by an earlier run is a leftover
power_restored:
  description: Whether the original VM was (in check mode, would be) brought back to its recorded power state or its tag removed.
  returned: always
  type: bool
  sample: true
power_state:
  description: Power state of the original VM after the task, when this phase puts it back.
  returned: always
  type: str
  sample: running
recorded_power_state:
  description: The power state still recorded on the original VM after the task (null when none).
  returned: always
  type: str
  sample: null
original_vm_id:
  description: Resource id of the original VM.
  returned: always
  type: str
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._cleanup import clean_up
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import validate_name
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_poll_interval, check_timeout


def validate(params):
    validate_name("resource_group", params["resource_group"])
    validate_name("vm", params["original_vm"], option="original_vm")
    validate_name("vm", params["clone_name"], option="clone_name")
    if params["clone_name"].lower() == params["original_vm"].lower():
        raise ValueError("Option 'clone_name' must differ from 'original_vm'.")
    check_timeout(params["timeout"])
    check_poll_interval(params["poll_interval"])


def run(azure):
    params = azure.params
    validate(params)
    changed, before, after, result = clean_up(azure.compute, to_wire, params, Deadline(params["timeout"]),
                                              azure.check_mode)
    azure.exit(changed, diff=azure.make_diff(before, after), **result)


def main():
    azure = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            original_vm=dict(type="str", required=True),
            clone_name=dict(type="str", required=True),
            phase=dict(type="str", choices=["start", "end"], required=True),
            build_action=dict(type="str", choices=["build", "resume", "retry", "finish", "refuse"], required=True),
            failed=dict(type="bool", default=False),
            keep_failed_clone=dict(type="bool", default=False),
            **wait_options(timeout=1800, poll_interval=15),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
