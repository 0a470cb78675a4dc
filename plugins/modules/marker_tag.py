#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: marker_tag
short_description: Put, move, roll back or remove a marker on an Azure Compute Gallery image version
version_added: 0.1.0
description:
  - A marker (for example C(pilot) or C(prod)) is a label held by at most one version of a gallery
    image definition. Host pools follow a marker (see M(goldenimage.avd.hostpool_marker)), so moving
    a marker forward updates every pool that follows it, and moving it back is a rollback.
  - The marker lives in tags of the version that holds it - C(goldenimage.marker.<marker>) (when it
    was set, on the Azure Resource Manager clock), C(goldenimage.marker.<marker>.previous) (the version
    that held it before) and, after a rollback, C(goldenimage.marker.<marker>.rolled-back-from).
  - With O(state=present) the marker is put on the target version first and then removed from the
    version that held it, so some version holds it at every moment. When two versions claim a
    marker (a crash between the two writes, or a writer that ignored the lease), the newest claim
    wins and the next change removes the other claims.
  - Gallery resources have no ETags. Writers therefore serialise on a lease tag on the image
    definition (C(goldenimage.marker-lock), owner and expiry on the ARM clock) taken with a timed
    mutual-exclusion protocol (write the claim, wait longer than a writer's read-to-write gap, read it
    back), and every change reads the versions again after writing and removes stale claims.
  - Refuses, before writing anything, a target version that failed, is still being created or
    replicated, is past its end-of-life date, was reported for a policy violation, or is excluded
    from use (C(excludeFromLatest); see O(allow_excluded)).
  - A run that changes nothing writes nothing, not even the lease.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  marker:
    description:
      - Name of the marker, 1 to 32 lowercase letters, digits, C(-) or C(_), starting with a letter.
    type: str
    required: true
  version:
    description:
      - With O(state=present), the version (C(X.Y.Z)) that gets the marker.
      - With O(state=present) and O(rollback=true), an explicit version to roll back to.
      - With O(state=absent), remove the marker only if this version holds it.
    type: str
  source_marker:
    description:
      - With O(state=present), move O(marker) to the version that holds this other marker
        ("promote C(pilot) to C(prod)"). The holder is read inside the lease, so the promotion is
        consistent even while others move markers.
      - Mutually exclusive with O(version) and with O(rollback=true).
    type: str
  rollback:
    description:
      - With O(state=present), move the marker back to the version that held it before
        (C(goldenimage.marker.<marker>.previous) on the current holder), or to O(version) when given.
        M(goldenimage.avd.image_version_prune) keeps that previous holder for this reason.
      - The rule for any target applies - a previous holder that was deleted, failed, is past its end of
        life or is excluded from use (without O(allow_excluded)) is refused before anything is written.
      - The new holder records the version it was rolled back from; rolling back again is then a
        no-op (C(changed=false)), so re-running a rollback does not toggle between two versions. To
        go back further, give O(version).
    type: bool
    default: false
  allow_excluded:
    description:
      - Allow marking a version excluded from C(latest) (C(excludeFromLatest=true)), for the pattern
        "build excluded from latest, test it through C(pilot)". By default such a version counts as
        excluded from use and is refused.
    type: bool
    default: false
  state:
    description:
      - V(present) puts or moves the marker; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  lease_seconds:
    description:
      - Lifetime of the lease on the image definition, in seconds of the Azure Resource Manager clock.
        A run that crashes while holding the lease blocks others at most this long.
      - It must exceed the time a run needs to change the marker (a few gallery updates of about
        20 seconds each).
      - The alias O(lock_ttl) is the name of earlier releases.
    type: int
    default: 300
    aliases: [lock_ttl]
  timeout:
    description:
      - How long, in seconds, to wait for the lease held by another run and for the tag updates.
    type: int
    default: 300
  poll_interval:
    description: Seconds between two looks at a lease held by another run (fractions allowed).
    type: float
    default: 5
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.gallery_image
  - goldenimage.avd.attributes
seealso:
  - module: goldenimage.avd.image_version_info
  - module: goldenimage.avd.hostpool_marker
"""

EXAMPLES = r"""
- name: Put the pilot marker on the new version
  goldenimage.avd.marker_tag:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    marker: pilot
    version: 1.0.1

- name: Promote pilot to prod (prod moves to the version that holds pilot)
  goldenimage.avd.marker_tag:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    marker: prod
    source_marker: pilot
  register: promoted

- name: Roll prod back to the version that held it before
  goldenimage.avd.marker_tag:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    marker: prod
    rollback: true

- name: Remove the pilot marker
  goldenimage.avd.marker_tag:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    marker: pilot
    state: absent
"""

RETURN = r"""
marker:
  description: The marker.
  returned: always
  type: str
  sample: prod
before:
  description: Version that held the marker before the task, null when none did.
  returned: always
  type: str
  sample: 1.0.0
after:
  description: Version that holds the marker after the task (would hold it, in check mode), null when none.
  returned: always
  type: str
  sample: 1.0.1
previous:
  description: Previous holder recorded on the version in RV(after), null when none is recorded.
  returned: always
  type: str
  sample: 1.0.0
version_id:
  description: Resource id of the version in RV(after), null when no version holds the marker.
  returned: always
  type: str
image_id:
  description: Resource id of the image definition.
  returned: always
  type: str
versions_written:
  description: Versions whose tags were (in check mode, would be) written, new holder first.
  returned: always
  type: list
  elements: str
stale_claims:
  description: Versions that also claimed the marker (a crashed or concurrent writer) and were cleaned.
  returned: always
  type: list
  elements: str
notes:
  description: Remarks, such as "already rolled back" or a concurrent move that won.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._ids import resource_id, validate_name
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_store import MarkerStore
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_tags import validate_marker
from ansible_collections.goldenimage.avd.plugins.module_utils._markers import change_marker
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, gallery_image_options, to_wire
from ansible_collections.goldenimage.avd.plugins.module_utils._versions import validate_version
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import check_poll_interval


def validate(params):
    validate_name("resource_group", params["resource_group"])
    validate_name("gallery", params["gallery"])
    validate_name("image_definition", params["image"])
    validate_marker(params["marker"])
    if params["version"] is not None:
        validate_version(params["version"])
    if params["source_marker"] is not None:
        validate_marker(params["source_marker"], option="source_marker")
        if params["source_marker"] == params["marker"]:
            raise ValueError("source_marker: must differ from marker (%r)." % params["marker"])
        if params["rollback"]:
            raise ValueError("source_marker and rollback=true exclude each other: promote from a marker, or "
                             "roll back.")
    if params["state"] == "present" and not (params["version"] or params["source_marker"] or params["rollback"]):
        raise ValueError("state=present needs one of: version (a version such as 1.0.1), source_marker (promote "
                         "from another marker) or rollback=true.")
    if params["state"] == "absent" and (params["source_marker"] or params["rollback"]):
        raise ValueError("state=absent takes marker and optionally version; source_marker and rollback apply "
                         "to state=present only.")
    check_poll_interval(params["poll_interval"])
    for option in ("lease_seconds", "timeout"):
        if params[option] < 1:
            raise ValueError("%s: must be a number of seconds >= 1, got %s." % (option, params[option]))


def run(azure):
    params = azure.params
    validate(params)
    store = MarkerStore(azure.compute, params["resource_group"], params["gallery"], params["image"],
                        to_wire=to_wire, server_now=azure.server_now, timeout=params["timeout"],
                        poll_interval=params["poll_interval"], lease_seconds=params["lease_seconds"])
    outcome = change_marker(store, params["marker"], state=params["state"], version=params["version"],
                            source_marker=params["source_marker"], rollback=params["rollback"],
                            allow_excluded=params["allow_excluded"], check_mode=azure.check_mode)
    image_id = resource_id(azure.subscription_id, params["resource_group"], "Microsoft.Compute",
                           "galleries", params["gallery"], "images", params["image"])
    after = outcome["after"]
    plan = outcome["plan"]
    diff = azure.make_diff(
        {"marker": params["marker"], "version": outcome["before"]},
        {"marker": params["marker"], "version": after, "previous": outcome["previous"]},
    )
    azure.exit(
        outcome["changed"], diff=diff,
        marker=params["marker"], before=outcome["before"], after=after, previous=outcome["previous"],
        version_id=(image_id + "/versions/" + after) if after else None, image_id=image_id,
        versions_written=plan["versions_written"], stale_claims=plan["stale_claims"], notes=outcome["notes"],
    )


def main():
    azure = AzureModule(
        argument_spec=dict(
            **gallery_image_options(),
            marker=dict(type="str", required=True),
            version=dict(type="str"),
            source_marker=dict(type="str"),
            rollback=dict(type="bool", default=False),
            allow_excluded=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            lease_seconds=dict(type="int", default=300, aliases=["lock_ttl"]),
            timeout=dict(type="int", default=300),
            poll_interval=dict(type="float", default=5),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("source_marker", "version")],
    )
    azure.run(run)


if __name__ == "__main__":
    main()
