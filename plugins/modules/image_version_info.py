#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_version_info
short_description: List the versions of an Azure Compute Gallery image definition with markers, parents and replication state
version_added: 0.1.0
description:
  - Returns every version of a gallery image definition with its markers, its parent version (tag
    C(goldenimage.parent-version), written by M(goldenimage.avd.image_capture)), provisioning and
    per-region replication state, published date, end of life, C(excludeFromLatest), provenance tags
    and whether it may receive a marker.
  - Also returns the marker to version map, the version tree (parent and children, with lines ready
    to print) and, with O(following_host_pools), the host pools that follow a marker of this image
    definition and therefore need a rollout when the marker moves.
  - When two versions claim a marker, the newest claim wins (see M(goldenimage.avd.marker_tag)).
  - With O(source_vm), also decides which version a golden-image build of that VM makes and how
    (RV(build)), the decision the P(goldenimage.avd.golden_image#role) role acts on.
  - Never changes anything. A missing resource group, gallery or image definition gives
    RV(exists=false), RV(missing) naming which one, and empty lists, not a failure. A subscription
    Azure does not know (or the identity cannot see) is a failure, not a missing image.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  version:
    description: Return only this version in RV(versions) (the map and the tree still cover all versions).
    type: str
  marker:
    description: Return only the version holding this marker in RV(versions).
    type: str
  replication_status:
    description:
      - Read each version with C($expand=ReplicationStatus) to return the per-region replication state
        (one request per version; the list request does not return it).
      - With V(false), one list request is enough and RV(versions[].replication_state) is null.
    type: bool
    default: true
  following_host_pools:
    description:
      - Also list the host pools that follow a marker of this image definition (host-pool tags
        C(goldenimage.follow-image) and C(goldenimage.follow-marker)), in the subscription or in
        O(host_pools_resource_group).
    type: bool
    default: false
  host_pools_resource_group:
    description: Look for following host pools only in this resource group.
    type: str
  source_vm:
    description:
      - Resource id of the original VM a golden image is built from (the value of the provenance tag
        C(goldenimage.source-vm) that M(goldenimage.avd.image_capture) writes).
      - When set, RV(build) says which version a build of this VM makes next and how. Only reads.
    type: str
  build_version:
    description:
      - With O(source_vm), the version the build asks for - V(auto) or a version C(Major.Minor.Patch).
      - V(auto) resumes an unfinished capture of O(source_vm) (the highest one), retries it when its
        replication failed, or else takes the next patch after the highest version of the image definition.
    type: str
    default: auto
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.gallery_image
  - goldenimage.avd.attributes.INFO_MODULE
seealso:
  - module: goldenimage.avd.marker_tag
  - module: goldenimage.avd.hostpool_marker
"""

EXAMPLES = r"""
- name: Read all versions of the demo image
  goldenimage.avd.image_version_info:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
  register: image

- name: Print the version tree
  ansible.builtin.debug:
    msg: "{{ image.tree.lines }}"

- name: Which version is prod, and which host pools follow it
  goldenimage.avd.image_version_info:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    marker: prod
    following_host_pools: true
  register: prod

- name: Show it
  ansible.builtin.debug:
    msg: "prod is {{ prod.markers.prod }}; pools: {{ prod.following_host_pools | map(attribute='name') | list }}"

- name: Read the original VM of the golden image
  goldenimage.avd.vm_power:
    resource_group: rg-avd-demo
    name: vm-golden
  register: original

- name: Which version the next build of the original VM makes
  goldenimage.avd.image_version_info:
    resource_group: rg-avd-demo
    gallery: gal_avd_demo
    image: win11-avd
    replication_status: false
    source_vm: "{{ original.vm_id }}"
  register: next_build

- name: Say it
  ansible.builtin.debug:
    msg: "{{ next_build.build.action }} version {{ next_build.build.version }}"
"""

RETURN = r"""
exists:
  description: Whether the image definition exists.
  returned: always
  type: bool
gallery_exists:
  description: Whether the gallery exists (V(false) also when its resource group does not).
  returned: always
  type: bool
missing:
  description:
    - What does not exist, the outermost first - V(resource_group), V(gallery) or V(image); null when the
      image definition exists.
  returned: always
  type: str
  sample: gallery
image_id:
  description: Resource id of the image definition.
  returned: always
  type: str
image:
  description: The image definition (C(os_type), C(os_state), C(hyper_v_generation), C(identifier), C(tags)).
  returned: when the image definition exists
  type: dict
versions:
  description: Versions sorted by version number (after the O(version) / O(marker) filters).
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "Version name.", type: str, sample: 1.0.1}
    id: {description: "Resource id.", type: str}
    markers: {description: "Markers this version claims.", type: list, elements: str, sample: [pilot]}
    marker_details:
      description: Per marker - C(set_at) (ARM clock), C(previous) holder and C(rolled_back_from).
      type: dict
    parent: {description: "Parent version (tag C(goldenimage.parent-version)), null when unknown.", type: str}
    children: {description: "Versions whose parent this version is.", type: list, elements: str}
    provisioning_state: {description: "C(Succeeded), C(Creating), C(Failed), ...", type: str}
    replication_state: {description: "Aggregated replication state (C(Completed), C(InProgress), C(Failed)), null when not read.", type: str}
    replication_regions:
      description: Per region - C(region), C(state), C(progress), C(details).
      type: list
      elements: dict
    target_regions: {description: "Regions the version is published to.", type: list, elements: str}
    published_date: {description: "When the version was published.", type: str}
    end_of_life_date: {description: "End-of-life date, null when none.", type: str}
    end_of_life_passed: {description: "Whether the end of life is past on the ARM clock.", type: bool}
    exclude_from_latest: {description: "Whether the version is excluded from C(latest).", type: bool}
    provenance:
      description: C(source_vm), C(parent_version), C(build_time), C(build_id), C(notes) when tagged.
      type: dict
    eligible: {description: "Whether the version may receive a marker.", type: bool}
    ineligible_reasons: {description: "Why not.", type: list, elements: str}
    tags: {description: "All tags of the version.", type: dict}
markers:
  description: Marker to version map (newest claim wins).
  returned: always
  type: dict
  sample: {pilot: 1.0.1, prod: 1.0.0}
tree:
  description: The version tree from the parent tags.
  returned: always
  type: dict
  contains:
    roots: {description: "Versions without a known parent.", type: list, elements: str}
    children: {description: "Version to child versions.", type: dict}
    missing_parents: {description: "Version to a parent that does not exist (any more).", type: dict}
    lines:
      description:
        - The tree as text lines, with the markers a version holds in brackets.
        - A losing claim of a marker (see RV(markers)) shows as C(stale claim of <marker>).
      type: list
      elements: str
      sample: ["1.0.0 [prod]", "└── 1.0.1 [pilot]"]
following_host_pools:
  description: Host pools that follow a marker of this image definition.
  returned: when O(following_host_pools=true)
  type: list
  elements: dict
  contains:
    name: {description: "Host pool name.", type: str}
    resource_group: {description: "Its resource group.", type: str}
    id: {description: "Its resource id.", type: str}
    host_pool_type: {description: "C(Pooled) or C(Personal).", type: str}
    marker: {description: "The marker it follows.", type: str}
    version: {description: "The version that marker is on, null when none.", type: str}
lock:
  description: The marker lease on the image definition (C(owner), C(expires), C(active)), null when none.
  returned: always
  type: dict
server_time:
  description: The ARM clock when the versions were read.
  returned: always
  type: str
build:
  description: What a golden-image build of O(source_vm) does next, decided from all versions (not only the filtered ones).
  returned: when O(source_vm) is set
  type: dict
  contains:
    version: {description: "The version the build makes, resumes, retries or finishes.", type: str, sample: 1.0.2}
    action:
      description:
        - C(build) - capture a new version from a fresh clone of the original VM.
        - C(resume) - an unfinished capture of this VM is resumed with the clone it was started from.
        - C(retry) - the version whose replication failed is deleted and captured again.
        - C(finish) - the version (asked for by O(build_version)) was built from this VM already; only its
          replication is finished.
        - C(refuse) - the version asked for by O(build_version) exists and was not built from this VM.
      type: str
      choices: [build, resume, retry, finish, refuse]
      sample: build
    reason: {description: "The decision in words.", type: str}
    next_version: {description: "The next patch after the highest version of the image definition.", type: str, sample: 1.0.2}
    unfinished: {description: "Versions of O(source_vm) that are not C(Succeeded), lowest first.", type: list, elements: str}
    failed: {description: "Versions of O(source_vm) in provisioning state C(Failed), lowest first.", type: list, elements: str}
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import get_or_none, ignore_not_found
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import parse_resource_id, resource_id, same_id, validate_name
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_plans import build_tree, marker_map
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_store import MarkerStore
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_tags import (
    LOCK_TAG,
    binding_of,
    format_time,
    parse_lock,
    validate_marker,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._versions import decide_build, validate_version
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire


def following_pools(desktop, image_id, marker_to_version, resource_group=None):
    """Host pools whose binding tags name ``image_id``, with the version their marker is on."""
    if resource_group:
        pools = desktop.host_pools.list_by_resource_group(resource_group)
    else:
        pools = desktop.host_pools.list()
    # a resource group that does not exist holds no host pools
    listed = get_or_none(lambda: [to_wire(pool) for pool in pools]) or []
    out = []
    for wire in listed:
        binding = binding_of(wire.get("tags"))
        if binding is None or not same_id(binding["image_id"], image_id):
            continue
        out.append({
            "name": wire.get("name"),
            "resource_group": parse_resource_id(wire["id"])["resource_group"] if wire.get("id") else None,
            "id": wire.get("id"),
            "host_pool_type": (wire.get("properties") or {}).get("hostPoolType"),
            "marker": binding["marker"],
            "version": marker_to_version.get(binding["marker"].lower()),
        })
    return sorted(out, key=lambda item: ((item["resource_group"] or "").lower(), (item["name"] or "").lower()))


def describe_image(definition):
    props = definition.get("properties") or {}
    return {
        "os_type": props.get("osType"),
        "os_state": props.get("osState"),
        "hyper_v_generation": props.get("hyperVGeneration"),
        "identifier": props.get("identifier"),
        "tags": definition.get("tags") or {},
    }


def describe_lock(tags, now):
    lowered = {key.lower(): value for key, value in (tags or {}).items()}
    lock = parse_lock(lowered.get(LOCK_TAG))
    if lock is None:
        return None
    return {"owner": lock[0], "expires": format_time(lock[1]), "active": lock[1] > now}


def validate(params):
    validate_name("resource_group", params["resource_group"])
    validate_name("gallery", params["gallery"])
    validate_name("image_definition", params["image"])
    if params["version"] is not None:
        validate_version(params["version"])
    if params["marker"] is not None:
        validate_marker(params["marker"])
    if params["host_pools_resource_group"] is not None:
        validate_name("resource_group", params["host_pools_resource_group"], option="host_pools_resource_group")
    if params["source_vm"] is not None:
        parse_resource_id(params["source_vm"])
    if params["build_version"] != "auto":
        validate_version(params["build_version"], option="build_version")


def selected_versions(versions, markers, version=None, marker=None):
    """``versions`` narrowed to the O(version) and O(marker) filters."""
    if version:
        versions = [item for item in versions if item["name"] == version]
    if marker:
        versions = [item for item in versions if item["name"] == markers.get(marker)]
    return versions


def with_build(result, params, versions):
    """``result`` with the build decision for O(source_vm), when it is set."""
    if params["source_vm"] is not None:
        result["build"] = decide_build(versions, params["source_vm"], params["build_version"])
    return result


def missing_part(azure, params):
    """The image definition does not exist: is it its gallery, or their resource group, that is missing?
    (An unknown subscription is an error, raised by the read.)"""
    with ignore_not_found() as outcome:
        azure.compute.galleries.get(params["resource_group"], params["gallery"])
    if outcome.found:
        return "image"
    return "resource_group" if outcome.error.code == "ResourceGroupNotFound" else "gallery"


def run(azure):
    params = azure.params
    validate(params)
    image_id = resource_id(azure.subscription_id, params["resource_group"], "Microsoft.Compute",
                           "galleries", params["gallery"], "images", params["image"])
    store = MarkerStore(azure.compute, params["resource_group"], params["gallery"], params["image"],
                        to_wire=to_wire, server_now=azure.server_now)
    empty = dict(image_id=image_id, versions=[], markers={}, tree=build_tree([]), lock=None)
    if params["following_host_pools"]:
        empty["following_host_pools"] = []
    definition = to_wire(get_or_none(azure.compute.gallery_images.get, params["resource_group"], params["gallery"],
                                     params["image"]))
    if definition is None:
        missing = missing_part(azure, params)
        azure.exit(False, exists=False, gallery_exists=missing == "image", missing=missing,
                   server_time=format_time(azure.server_now()), **with_build(empty, params, []))
        return
    versions = store.versions(replication=params["replication_status"])
    now = azure.server_now()
    tree = build_tree(versions)
    markers = marker_map(versions)
    selected = selected_versions(versions, markers, params["version"], params["marker"])
    result = dict(
        exists=True, gallery_exists=True, missing=None, image_id=image_id, image=describe_image(definition),
        versions=[dict(item, children=tree["children"].get(item["name"], [])) for item in selected],
        markers=markers, tree=tree, lock=describe_lock(definition.get("tags"), now),
        server_time=format_time(now),
    )
    if params["following_host_pools"]:
        result["following_host_pools"] = following_pools(azure.desktop, image_id, markers,
                                                         params["host_pools_resource_group"])
    azure.exit(False, **with_build(result, params, versions))


def main():
    azure = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            gallery=dict(type="str", required=True),
            image=dict(type="str", required=True),
            version=dict(type="str"),
            marker=dict(type="str"),
            replication_status=dict(type="bool", default=True),
            following_host_pools=dict(type="bool", default=False),
            host_pools_resource_group=dict(type="str"),
            source_vm=dict(type="str"),
            build_version=dict(type="str", default="auto"),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
