#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_capture
short_description: Capture a generalized VM as a new Azure Compute Gallery image version
version_added: 0.1.0
description:
  - Creates an image version in an Azure Compute Gallery image definition from a generalized and
    deallocated VM (the clone that M(goldenimage.avd.sysprep_generalize) prepared), with the
    C(virtualMachineId) of the VM as source.
  - Creates the image definition first when it is missing and O(definition) says how.
  - O(version=auto) takes the next patch version after the highest existing one. When a version
    captured from the same source VM already exists (a re-run after a crash or a timeout), that
    version is used again instead of a new one.
  - Writes provenance tags on the version (C(goldenimage.source-vm), C(goldenimage.parent-version),
    C(goldenimage.build-time), C(goldenimage.build-id), C(goldenimage.notes)). The source VM recorded is
    the original the clone was made of (its C(goldenimage.clone-of) tag) when there is one.
  - Waits until the version has replicated to every target region, polling one read with
    C($expand=ReplicationStatus) per O(poll_interval), and returns the state per region. On
    timeout the version is left in place; running the same task again resumes the wait.
  - Re-running with the same source changes nothing. An existing version that was captured from
    another source is a clear error. An existing version is not modified by this module; when
    O(target_regions) ask for other regions or replica counts than it has, a warning says so.
  - O(state=absent) deletes the version, but never one that holds a marker
    (C(goldenimage.marker.*) tag); move or remove the marker first.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  version:
    description:
      - The version to create, as C(Major.Minor.Patch), or V(auto) for the next patch version after the
        highest existing one (V(1.0.0) when there is none).
      - With O(state=absent), the version to delete; V(auto) is not allowed there.
    type: str
    default: auto
  source_vm:
    description:
      - Name or resource id of the generalized VM to capture.
      - Required with O(state=present).
    type: str
  source_resource_group:
    description: Resource group of O(source_vm) when it is given by name; defaults to O(resource_group).
    type: str
  definition:
    description:
      - How to create the image definition when it does not exist yet. Without it a missing
        definition is an error. Ignored when the definition exists.
    type: dict
    suboptions:
      publisher:
        description: Publisher part of the image identifier.
        type: str
        required: true
      offer:
        description: Offer part of the image identifier.
        type: str
        required: true
      sku:
        description: SKU part of the image identifier.
        type: str
        required: true
      os_type:
        description: Operating system of the image.
        type: str
        choices: [Windows, Linux]
        default: Windows
      hyper_v_generation:
        description: Hyper-V generation of the image; Trusted Launch needs V(V2).
        type: str
        choices: [V1, V2]
        default: V2
      security_type:
        description:
          - Security type feature of the definition.
          - Use V(TrustedLaunchSupported) or V(TrustedLaunch) for Trusted Launch VMs.
        type: str
        choices: [Standard, TrustedLaunch, TrustedLaunchSupported, ConfidentialVM, ConfidentialVMSupported,
                  TrustedLaunchAndConfidentialVmSupported]
        default: TrustedLaunchSupported
      description:
        description: Description of the image definition.
        type: str
  target_regions:
    description:
      - Regions to replicate the version to. The gallery's own region is always included.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Azure region name such as V(westeurope).
        type: str
        required: true
      replicas:
        description: Number of replicas in this region (1-100); defaults to O(replica_count).
        type: int
      storage_account_type:
        description: Storage for the replicas in this region.
        type: str
        choices: [Standard_LRS, Standard_ZRS, Premium_LRS, PremiumV2_LRS]
  replica_count:
    description: Default number of replicas per region (1-100).
    type: int
  storage_account_type:
    description: Default storage account type of the replicas.
    type: str
    choices: [Standard_LRS, Standard_ZRS, Premium_LRS, PremiumV2_LRS]
  exclude_from_latest:
    description: Hide the version from deployments that ask for the C(latest) version.
    type: bool
    default: false
  end_of_life_date:
    description: End-of-life date of the version, as an ISO 8601 date or date-time (UTC).
    type: str
  parent_version:
    description:
      - The version this build started from, written as C(goldenimage.parent-version).
      - Defaults to the highest version that existed before this one.
    type: str
  build_id:
    description: Free identifier of the build (for example the AWX job id), written as C(goldenimage.build-id).
    type: str
  notes:
    description: Free text about the build (at most 256 characters), written as C(goldenimage.notes).
    type: str
  wait:
    description: Wait until the version has replicated to every target region.
    type: bool
    default: true
  state:
    description: V(present) captures the version, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.gallery_image
  - goldenimage.avd.wait
  - goldenimage.avd.attributes
seealso:
  - module: goldenimage.avd.sysprep_generalize
  - module: goldenimage.avd.vm_clone
"""

EXAMPLES = r"""
- name: Capture the generalized clone as the next patch version, replicated to two regions
  goldenimage.avd.image_capture:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    version: auto
    source_vm: vm-golden-w11-clone
    target_regions:
      - name: westeurope
        replicas: 1
      - name: northeurope
        replicas: 1
        storage_account_type: Standard_ZRS
    build_id: "{{ awx_job_id | default('manual') }}"
    notes: January updates
    timeout: 3600
  register: captured

- name: Create the image definition on the first build
  goldenimage.avd.image_capture:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd-finance
    version: 1.0.0
    source_vm: vm-finance-clone
    definition:
      publisher: contoso
      offer: avd-finance
      sku: win11-24h2-multisession
      security_type: TrustedLaunchSupported

- name: Delete a version that holds no marker
  goldenimage.avd.image_capture:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    version: 1.0.3
    state: absent
"""

RETURN = r"""
version:
  description: The image version (after the change; in check mode what it would be).
  returned: always
  type: dict
  contains:
    id:
      description: Resource id of the version (null in check mode before creation).
      type: str
      sample: /subscriptions/.../resourceGroups/rg-avd-demo/providers/Microsoft.Compute/galleries/gal_avd_demo/images/win11-avd/versions/1.0.1
    name:
      description: The version number.
      type: str
      sample: 1.0.1
    location:
      description: Region of the version (the gallery's).
      type: str
      sample: westeurope
    provisioning_state:
      description: Provisioning state Azure reports.
      type: str
      sample: Succeeded
    source_vm_id:
      description: The VM the version was captured from.
      type: str
    target_regions:
      description: Regions with replica count and storage account type.
      type: list
      elements: dict
    replica_count:
      description: Default replica count.
      type: int
    exclude_from_latest:
      description: Whether the version is hidden from C(latest).
      type: bool
    end_of_life_date:
      description: End-of-life date.
      type: str
    published_date:
      description: When Azure published the version.
      type: str
    tags:
      description: Tags of the version, provenance included.
      type: dict
    markers:
      description: Markers the version holds.
      type: list
      elements: str
    replication:
      description: Replication state, see RV(replication).
      type: dict
replication:
  description: Replication state per region, as read last.
  returned: when the version exists and O(state=present)
  type: dict
  contains:
    aggregated:
      description: Aggregated replication state (Completed, InProgress, Failed, Unknown).
      type: str
      sample: Completed
    provisioning_state:
      description: Provisioning state of the version.
      type: str
      sample: Succeeded
    regions:
      description: One entry per region with C(region), C(state) (Unknown, Replicating, Completed, Failed), C(progress) and C(details).
      type: list
      elements: dict
      sample: [{"region": "westeurope", "state": "Completed", "progress": 100, "details": null}]
definition_created:
  description: Whether the image definition was created (or would be, in check mode).
  returned: always
  type: bool
  sample: false
"""

import datetime

from ansible_collections.goldenimage.avd.plugins.module_utils._capture import (
    Capture,
    check_source_vm,
    definition_body,
    describe_version,
    find_version_from_source,
    markers_of,
    normalize_region,
    provenance_tags,
    replication_summary,
    source_provenance,
    validate_capture_params,
    version_body,
    version_source_id,
    STORAGE_ACCOUNT_TYPES,
    OS_TYPES,
    HYPER_V_GENERATIONS,
    SECURITY_TYPES,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._errors import (
    ConflictError,
    NotFoundError,
    PreconditionError,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import parse_resource_id, resource_id, same_id
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, gallery_image_options, to_wire, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._versions import highest_version, next_patch_version
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, check_poll_interval, check_timeout


def source_vm_id(azure):
    """The source VM's id, built from its name when it is not an id already (ids are deterministic)."""
    params = azure.params
    source = params["source_vm"]
    if source.startswith("/"):
        parse_resource_id(source)
        return source
    return resource_id(azure.subscription_id, params["source_resource_group"] or params["resource_group"],
                       "Microsoft.Compute", "virtualMachines", source)


def validate(params):
    validate_capture_params(params)
    check_timeout(params["timeout"])
    check_poll_interval(params["poll_interval"])
    if params["state"] == "present" and not params["source_vm"]:
        raise ValueError("Option 'source_vm' is required with state=present.")
    if params["state"] == "absent" and params["version"] == "auto":
        raise ValueError("Option 'version' must name the version to delete with state=absent (not 'auto').")
    if params["end_of_life_date"]:
        try:
            datetime.datetime.fromisoformat(params["end_of_life_date"].replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("Option 'end_of_life_date' must be an ISO 8601 date or date-time such as "
                             "'2027-06-30' or '2027-06-30T00:00:00Z', got %r." % params["end_of_life_date"]) from None


def run_absent(azure, capture):
    params = azure.params
    current = capture.get_version(params["version"], with_replication=False)
    if current is None:
        azure.exit(False, diff=azure.make_diff({}, {}), version={"name": params["version"]}, definition_created=False)
        return
    markers = markers_of(current)
    if markers:
        raise PreconditionError("Image version '%s' holds the marker(s) %s; move or remove them with "
                                "goldenimage.avd.marker_tag before deleting it." % (params["version"],
                                                                                    ", ".join(markers)))
    before = describe_version(current)
    if not azure.check_mode:
        capture.delete_version(params["version"], Deadline(params["timeout"]))
    azure.exit(True, diff=azure.make_diff(before, {}), version={"name": params["version"], "id": current.get("id")},
               definition_created=False)


def ensure_definition(azure, capture, location, deadline):
    """``(definition or None, created)``: the image definition, created from O(definition) when missing."""
    params = azure.params
    definition = capture.get_definition()
    if definition is not None:
        return definition, False
    if not params["definition"]:
        raise NotFoundError("Image definition '%s' does not exist in gallery '%s'; set 'definition' "
                            "(publisher, offer, sku) to create it." % (params["image"], params["gallery"]))
    if not azure.check_mode:
        capture.create_definition(definition_body(location, params["definition"]), deadline)
    return None, True


def pick_version(requested, versions, expected_source):
    """``(version name, existing version or None)``: ``auto`` reuses the version of this source or takes the next."""
    if requested == "auto":
        # not _versions.decide_build: this matches the clone's storage-profile source in any state
        existing = find_version_from_source(versions, expected_source)
        return (existing["name"] if existing else next_patch_version([v.get("name") for v in versions])), existing
    return requested, next((v for v in versions if v.get("name") == requested), None)


def run_present(azure, capture):
    params = azure.params
    deadline = Deadline(params["timeout"])
    expected_source = source_vm_id(azure)
    location = capture.get_gallery()["location"]
    definition, definition_created = ensure_definition(azure, capture, location, deadline)
    versions = [] if definition is None else capture.list_versions()
    target_version, existing = pick_version(params["version"], versions, expected_source)
    region_names = [r["name"] for r in params["target_regions"]] or [location]
    if existing is not None:
        exit_existing(azure, capture, existing, target_version, expected_source, location, region_names, deadline,
                      definition_created)
        return
    source = capture.get_source_vm(*_vm_rg_name(azure))
    check_source_vm(source, *_vm_rg_name(azure))
    parent = params["parent_version"] or highest_version([v.get("name") for v in versions])
    tags = provenance_tags(source_provenance(source), parent, azure.server_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                           params["build_id"], params["notes"])
    body = version_body(location, source["id"], params["target_regions"], params["replica_count"],
                        params["exclude_from_latest"], params["end_of_life_date"], params["storage_account_type"],
                        tags)
    planned = {"name": target_version, "location": location, "tags": body["tags"],
               "source_vm_id": source["id"],
               "target_regions": body["properties"]["publishingProfile"]["targetRegions"]}
    if azure.check_mode:
        azure.exit(True, diff=azure.make_diff({}, planned), version=planned, definition_created=definition_created)
        return
    capture.start_version(target_version, body)
    if params["wait"]:
        current, summary = capture.wait_for_replication(target_version, region_names, deadline,
                                                        params["poll_interval"])
    else:
        current = capture.get_version(target_version)
        summary = replication_summary(current, region_names)
    described = describe_version(current, summary)
    azure.exit(True, diff=azure.make_diff({}, described), version=described, replication=summary,
               definition_created=definition_created)


def exit_existing(azure, capture, existing, target_version, expected_source, location, region_names, deadline,
                  definition_created):
    """The version exists: it must come from the same source; it is never modified, only waited for."""
    params = azure.params
    if not same_id(version_source_id(existing), expected_source):
        raise ConflictError(
            "Image version '%s' already exists and was captured from %s, not from %s; choose another version "
            "(or version=auto)." % (target_version, version_source_id(existing), expected_source))
    current = capture.get_version(target_version)
    ignored = _ignored_regions(params["target_regions"], current, location)
    if ignored:
        azure.module.warn("Image version '%s' exists already and is not modified by this module: the requested "
                          "target regions differ from its own (%s). Capture a new version to replicate it "
                          "differently." % (target_version, ignored))
    summary = replication_summary(current, _regions_of(current) or region_names)
    if params["wait"] and not azure.check_mode:
        current, summary = capture.wait_for_replication(target_version, _regions_of(current) or region_names,
                                                        deadline, params["poll_interval"])
    described = describe_version(current, summary)
    azure.exit(False, diff=azure.make_diff(described, described), version=described, replication=summary,
               definition_created=definition_created)


def _regions_of(version):
    publishing = ((version or {}).get("properties") or {}).get("publishingProfile") or {}
    return [r.get("name") for r in publishing.get("targetRegions") or []]


def _ignored_regions(requested, version, gallery_location):
    """How the requested target regions differ from those of an existing version ('' when they do not)."""
    if not requested:
        return ""
    publishing = ((version or {}).get("properties") or {}).get("publishingProfile") or {}
    have = {normalize_region(r.get("name")): r.get("regionalReplicaCount") for r in publishing.get("targetRegions") or []}
    want = {normalize_region(r["name"]): r.get("replicas") for r in requested}
    # the gallery's own region is always a target (see target_regions_body)
    want.setdefault(normalize_region(gallery_location), have.get(normalize_region(gallery_location)))
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    replicas = sorted("%s %s instead of %s" % (name, want[name], have[name]) for name in set(want) & set(have)
                      if want[name] is not None and have[name] is not None and want[name] != have[name])
    parts = (["not replicated to %s" % ", ".join(missing)] if missing else []) + \
        (["also replicated to %s" % ", ".join(extra)] if extra else []) + \
        (["replicas %s" % ", ".join(replicas)] if replicas else [])
    return "; ".join(parts)


def _vm_rg_name(azure):
    params = azure.params
    source = params["source_vm"]
    if source.startswith("/"):
        parts = parse_resource_id(source)
        return parts["resource_group"], parts["name"]
    return params["source_resource_group"] or params["resource_group"], source


def run(azure):
    validate(azure.params)
    capture = Capture(azure.compute, to_wire, azure.params["resource_group"], azure.params["gallery"],
                      azure.params["image"])
    if azure.params["state"] == "absent":
        run_absent(azure, capture)
    else:
        run_present(azure, capture)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **gallery_image_options(),
            version=dict(type="str", default="auto"),
            source_vm=dict(type="str"),
            source_resource_group=dict(type="str"),
            definition=dict(type="dict", options=dict(
                publisher=dict(type="str", required=True),
                offer=dict(type="str", required=True),
                sku=dict(type="str", required=True),
                os_type=dict(type="str", choices=list(OS_TYPES), default="Windows"),
                hyper_v_generation=dict(type="str", choices=list(HYPER_V_GENERATIONS), default="V2"),
                security_type=dict(type="str", choices=list(SECURITY_TYPES), default="TrustedLaunchSupported"),
                description=dict(type="str"),
            )),
            target_regions=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                replicas=dict(type="int"),
                storage_account_type=dict(type="str", choices=list(STORAGE_ACCOUNT_TYPES)),
            )),
            replica_count=dict(type="int"),
            storage_account_type=dict(type="str", choices=list(STORAGE_ACCOUNT_TYPES)),
            exclude_from_latest=dict(type="bool", default=False),
            end_of_life_date=dict(type="str"),
            parent_version=dict(type="str"),
            build_id=dict(type="str"),
            notes=dict(type="str"),
            wait=dict(type="bool", default=True),
            **wait_options(timeout=1800, poll_interval=15),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
