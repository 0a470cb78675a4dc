#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hostpool_marker
short_description: Bind an Azure Virtual Desktop host pool to an image definition and marker
version_added: 0.1.0
description:
  - A host pool that follows a marker is rolled to the version the marker is on (see the
    C(session_host_rollout) role); moving the marker with M(goldenimage.avd.marker_tag) is how an
    update or a rollback reaches every pool that follows it.
  - The binding is two tags on the host pool, C(goldenimage.follow-image) (the gallery image
    definition id) and C(goldenimage.follow-marker). Other tags are left unchanged.
  - With O(state=present) the image definition must exist; a marker that no version holds yet is
    accepted with a warning. Personal host pools are refused, because a rollout never redeploys them
    (their session hosts hold per-user state).
  - To list every host pool that follows a marker, use M(goldenimage.avd.image_version_info) with
    O(goldenimage.avd.image_version_info#module:following_host_pools=true).
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  image_id:
    description:
      - Resource id of the gallery image definition to follow.
      - Give either this or O(gallery) and O(image).
    type: str
  gallery:
    description: Gallery of the image definition (with O(image)).
    type: str
  image:
    description: Name of the image definition (with O(gallery)).
    type: str
  gallery_resource_group:
    description: Resource group of O(gallery); default is O(resource_group).
    type: str
  marker:
    description:
      - Marker to follow, 1 to 32 lowercase letters, digits, C(-) or C(_), starting with a letter.
      - Required with O(state=present). With O(state=absent) it is not needed; when given, it must be a valid
        marker name too (the binding is removed whatever marker it names).
    type: str
  state:
    description: V(present) binds the pool; V(absent) removes the binding tags.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.host_pool
  - goldenimage.avd.attributes
seealso:
  - module: goldenimage.avd.marker_tag
  - module: goldenimage.avd.image_version_info
  - module: goldenimage.avd.hostpool_info
"""

EXAMPLES = r"""
- name: The demo pool follows prod of win11-avd
  goldenimage.avd.hostpool_marker:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
    gallery: gal_avd_demo
    image: win11-avd
    marker: prod

- name: A pilot pool follows pilot
  goldenimage.avd.hostpool_marker:
    resource_group: rg-avd-pilot
    host_pool: hp-pilot
    image_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-avd-demo/providers/Microsoft.Compute/galleries/gal_avd_demo/images/win11-avd
    marker: pilot

- name: Stop following any marker
  goldenimage.avd.hostpool_marker:
    resource_group: rg-avd-pilot
    host_pool: hp-pilot
    state: absent
"""

RETURN = r"""
host_pool_id:
  description: Resource id of the host pool.
  returned: always
  type: str
host_pool_type:
  description: C(Pooled) or C(Personal).
  returned: always
  type: str
binding:
  description: The binding after the task (would be, in check mode), null when the pool follows nothing.
  returned: always
  type: dict
  contains:
    image_id: {description: "Image definition id.", type: str}
    marker: {description: "Marker.", type: str}
previous_binding:
  description: The binding before the task, null when there was none.
  returned: always
  type: dict
version:
  description: The version the followed marker is on now, null when no version holds it or there is no binding.
  returned: always
  type: str
version_id:
  description: Resource id of RV(version).
  returned: always
  type: str
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import PreconditionError, azure_errors
from ansible_collections.goldenimage.avd.plugins.module_utils._hostpool import get_pool, update_pool_tags
from ansible_collections.goldenimage.avd.plugins.module_utils._ids import parse_resource_id, resource_id, same_id, validate_name
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_plans import resolve_marker
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_store import MarkerStore
from ansible_collections.goldenimage.avd.plugins.module_utils._marker_tags import binding_of, validate_marker, with_binding, without_binding
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, host_pool_options, to_wire


def definition_id(azure, params):
    """The image definition id from O(image_id) or O(gallery)/O(image); validates the parts."""
    if params["image_id"]:
        parsed = parse_resource_id(params["image_id"])
        if [kind.lower() for kind in parsed["types"]] != ["galleries", "images"] \
                or (parsed["namespace"] or "").lower() != "microsoft.compute":
            raise ValueError("image_id: %r is not a gallery image definition id (expected /subscriptions/<id>/"
                             "resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<gallery>/images/<image>)."
                             % params["image_id"])
        return parsed["id"], parsed["subscription_id"], parsed["resource_group"], parsed["names"][0], parsed["names"][1]
    group = params["gallery_resource_group"] or params["resource_group"]
    validate_name("resource_group", group, option="gallery_resource_group")
    validate_name("gallery", params["gallery"])
    validate_name("image_definition", params["image"])
    image_id = resource_id(azure.subscription_id, group, "Microsoft.Compute", "galleries", params["gallery"],
                           "images", params["image"])
    return image_id, azure.subscription_id, group, params["gallery"], params["image"]


def validate(params):
    validate_name("resource_group", params["resource_group"])
    validate_name("host_pool", params["host_pool"])
    if params["marker"]:  # with state=absent too: a bad value is refused, not ignored
        validate_marker(params["marker"])
    if params["state"] == "present":
        if not params["marker"]:
            raise ValueError("marker: required with state=present (the marker the host pool follows, e.g. prod).")
        if not params["image_id"] and not (params["gallery"] and params["image"]):
            raise ValueError("state=present needs image_id, or gallery and image, naming the image definition "
                             "to follow.")


def follow_target(azure, params):
    """The binding to write and the definition's ``(resource group, gallery, image)``; validates them."""
    image_id, subscription, group, gallery, image = definition_id(azure, params)
    if subscription.lower() != (azure.subscription_id or "").lower():
        raise ValueError("image_id: the image definition must be in the subscription the module works in (%s)."
                         % azure.subscription_id)
    return {"image_id": image_id, "marker": params["marker"]}, (group, gallery, image)


def bind(azure, params, pool, before, target, definition):
    """Follow the marker: ``(new tags, unchanged, version holding the marker, warnings)``."""
    group, gallery, image = definition
    if ((pool.get("properties") or {}).get("hostPoolType") or "").lower() == "personal":
        raise PreconditionError("Host pool %s is a Personal host pool; only Pooled host pools can follow a "
                                "marker, because a rollout never redeploys personal desktops." % params["host_pool"])
    store = MarkerStore(azure.compute, group, gallery, image, to_wire=to_wire, server_now=azure.server_now)
    store.definition()  # NotFoundError names the definition before anything is written
    holder = resolve_marker(store.versions(), params["marker"])
    warnings = []
    if holder is None:
        warnings.append("No version of %s holds marker %r yet; the host pool follows it once a version does."
                        % (image, params["marker"]))
    new_tags = with_binding(pool.get("tags") or {}, target["image_id"], target["marker"])
    unchanged = before is not None and same_id(before["image_id"], target["image_id"]) \
        and before["marker"] == target["marker"]
    return new_tags, unchanged, holder, warnings


def run(azure):
    params = azure.params
    validate(params)
    target, definition = follow_target(azure, params) if params["state"] == "present" else (None, None)
    with azure_errors("read host pool '%s'" % params["host_pool"],
                      not_found="Host pool %s does not exist in resource group %s." % (
                          params["host_pool"], params["resource_group"])):
        pool = get_pool(azure.desktop, params["resource_group"], params["host_pool"])
    before = binding_of(dict(pool.get("tags") or {}))
    if target is not None:
        new_tags, unchanged, holder, warnings = bind(azure, params, pool, before, target, definition)
    else:
        new_tags, unchanged, holder, warnings = without_binding(pool.get("tags") or {}), before is None, None, []
    if not unchanged and not azure.check_mode:
        with azure_errors("update the tags of host pool '%s'" % params["host_pool"]):
            update_pool_tags(azure.desktop, params["resource_group"], params["host_pool"], new_tags)
    after = before if unchanged else target
    for warning in warnings:
        azure.module.warn(warning)
    azure.exit(
        not unchanged, diff=azure.make_diff({"binding": before}, {"binding": after}),
        host_pool_id=pool.get("id"), host_pool_type=(pool.get("properties") or {}).get("hostPoolType"),
        binding=after, previous_binding=before,
        version=holder, version_id=(target["image_id"] + "/versions/" + holder) if holder else None,
    )


def main():
    azure = AzureModule(
        argument_spec=dict(
            **host_pool_options(),
            image_id=dict(type="str"),
            gallery=dict(type="str"),
            image=dict(type="str"),
            gallery_resource_group=dict(type="str"),
            marker=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
        mutually_exclusive=[("image_id", "gallery"), ("image_id", "image"), ("image_id", "gallery_resource_group")],
        required_together=[("gallery", "image")],
    )
    azure.run(run)


if __name__ == "__main__":
    main()
