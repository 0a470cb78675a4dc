#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_version_prune
short_description: Delete old versions of an Azure Compute Gallery image definition, keeping the newest, marked and used ones
version_added: 0.1.0
description:
  - Keeps the O(keep) highest version numbers of the image definition and deletes older versions,
    except those listed below.
  - Kept is a version that holds a marker (tag C(goldenimage.marker.<marker>), see M(goldenimage.avd.marker_tag)).
  - Kept is the version a rollback of a marker goes to, the previous holder recorded on the version that
    holds it (tag C(goldenimage.marker.<marker>.previous)), unless that version failed or is past its end of life.
  - Kept is a version referenced by the C(imageReference) of any virtual machine in the subscription (or in
    O(vm_resource_groups)), session hosts included.
  - Kept is the version C(latest) resolves to while some virtual machine was deployed from C(latest).
  - Kept is a version being created, updated or deleted by another operation, and one whose deletion
    Azure blocks before its end of life (C(safetyProfile.blockDeletionBeforeEndOfLife)).
  - RV(kept) gives the reasons for every version kept.
  - Takes the marker lease of the image definition (C(goldenimage.marker-lock)) while deleting, so no
    marker can be put on a version this task is about to delete.
  - Check mode lists what would be deleted and deletes nothing.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  keep:
    description: How many of the newest versions (by version number) to keep whatever their state; at least 1.
    type: int
    required: true
  vm_resource_groups:
    description:
      - Look for virtual machines that use a version only in these resource groups.
      - Default is every virtual machine in the subscription, which is the safe choice; narrow it only
        when the identity cannot list the whole subscription.
    type: list
    elements: str
  lease_seconds:
    description:
      - Lifetime of the marker lease on the image definition, in seconds of the ARM clock.
      - The alias O(lock_ttl) is the name of earlier releases.
    type: int
    default: 300
    aliases: [lock_ttl]
  timeout:
    description: How long, in seconds, to wait for the lease and for the deletions.
    type: int
    default: 1800
  poll_interval:
    description:
      - Seconds between two looks at a marker lease held by another run.
      - The deletions themselves are followed at the pace Azure asks for (C(Retry-After)).
      - Fractions of a second are allowed.
    type: float
    default: 15
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.gallery_image
  - goldenimage.avd.attributes
notes:
  - Virtual machine scale sets are not inspected; a version used only by a scale set is protected only
    by a marker or by O(keep).
seealso:
  - module: goldenimage.avd.image_version_info
"""

EXAMPLES = r"""
- name: Keep the three newest versions (and every marked or used one)
  goldenimage.avd.image_version_prune:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    keep: 3
  register: pruned

- name: Show what was deleted and why the others stay
  ansible.builtin.debug:
    msg: "deleted {{ pruned.deleted }}, kept {{ pruned.kept }}"
"""

RETURN = r"""
deleted:
  description: Versions deleted (in check mode, that would be deleted), oldest first.
  returned: always
  type: list
  elements: str
  sample: [1.0.0, 1.0.1]
kept:
  description: Every remaining version with the reasons it is kept.
  returned: always
  type: dict
  sample: {"1.0.2": ["holds marker prod", "used by 3 VM(s): avd-demo-0, avd-demo-1, avd-demo-2"]}
in_use:
  description: Version to the ids of the virtual machines that use it.
  returned: always
  type: dict
latest_users:
  description: Ids of virtual machines deployed from C(latest) of this image definition.
  returned: always
  type: list
  elements: str
"""

import functools

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import ignore_not_found
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import resource_id, validate_name
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_store import MarkerStore
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, gallery_image_options, to_wire
from ansible_collections.goldenimage.avd.plugins.module_utils._retention import select_for_deletion, versions_in_use
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_poll_interval, start_operation, wait_operation


def list_vms(compute, resource_groups):
    if resource_groups:
        found = []
        for group in resource_groups:
            found.extend(to_wire(vm) for vm in compute.virtual_machines.list(group))
        return found
    return [to_wire(vm) for vm in compute.virtual_machines.list_all()]


def decide(azure, store, image_id):
    params = azure.params
    versions = store.versions()
    in_use, latest_users = versions_in_use(list_vms(azure.compute, params["vm_resource_groups"]), image_id,
                                           [item["name"] for item in versions])
    delete, kept = select_for_deletion(versions, params["keep"], in_use, latest_users, azure.server_now())
    return versions, delete, kept, in_use, latest_users


def delete_versions(azure, names, deadline):
    """Start every deletion at once, then wait for them under one deadline.

    The SDK pollers run side by side and follow Azure's Retry-After, so the wait takes as long as
    the slowest deletion. Returns the versions that were already gone.
    """
    params = azure.params
    pollers, gone = [], []
    for name in names:
        start = functools.partial(azure.compute.gallery_image_versions.begin_delete,
                                  params["resource_group"], params["gallery"], params["image"], name)
        with ignore_not_found() as outcome:
            pollers.append((name, start_operation(start, "delete image version '%s'" % name), start))
        if not outcome.found:
            gone.append(name)
    deleted = list(gone)
    for name, poller, start in pollers:
        wait_operation(poller, deadline, "delete image version '%s'" % name, restart=start,
                       partial=lambda: {"deleted": list(deleted),
                                        "deleting": [item for item in names if item not in deleted]})
        deleted.append(name)
    return gone


def run(azure):
    params = azure.params
    validate_name("resource_group", params["resource_group"])
    validate_name("gallery", params["gallery"])
    validate_name("image_definition", params["image"])
    if params["keep"] < 1:
        raise ValueError("keep: must be an integer >= 1 (the newest versions are always kept), got %s." % params["keep"])
    for group in params["vm_resource_groups"] or []:
        validate_name("resource_group", group, option="vm_resource_groups")
    check_poll_interval(params["poll_interval"])
    for option in ("lease_seconds", "timeout"):
        if params[option] < 1:
            raise ValueError("%s: must be a number of seconds >= 1, got %s." % (option, params[option]))
    image_id = resource_id(azure.subscription_id, params["resource_group"], "Microsoft.Compute",
                           "galleries", params["gallery"], "images", params["image"])
    store = MarkerStore(azure.compute, params["resource_group"], params["gallery"], params["image"],
                        to_wire=to_wire, server_now=azure.server_now, timeout=params["timeout"],
                        poll_interval=params["poll_interval"], lease_seconds=params["lease_seconds"])
    versions, delete, kept, in_use, latest_users = decide(azure, store, image_id)
    if delete and not azure.check_mode:
        deadline = store.new_deadline()
        store.acquire(deadline)
        try:
            # decide again inside the lease: a marker may have moved onto a candidate meanwhile
            versions, delete, kept, in_use, latest_users = decide(azure, store, image_id)
            if delete:
                delete_versions(azure, delete, Deadline(max(deadline - store.clock(), 0.0)))
        finally:
            store.release(deadline)
    before = [item["name"] for item in versions]
    azure.exit(
        bool(delete), diff=azure.make_diff({"versions": before},
                                           {"versions": [name for name in before if name not in delete]}),
        deleted=delete, kept=kept, in_use=in_use, latest_users=latest_users,
    )


def main():
    azure = AzureModule(
        argument_spec=dict(
            **gallery_image_options(),
            keep=dict(type="int", required=True),
            vm_resource_groups=dict(type="list", elements="str"),
            lease_seconds=dict(type="int", default=300, aliases=["lock_ttl"]),
            timeout=dict(type="int", default=1800),
            poll_interval=dict(type="float", default=15),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
