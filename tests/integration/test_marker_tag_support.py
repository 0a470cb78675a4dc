"""Setup helpers shared by the marker, image_version_info, hostpool_marker and prune tests (no tests here).

Versions are created through the real SDK against the simulator, from version 1.0.0 of the demo
image definition as source (``storageProfile.source.id``), with the tags ``image_capture`` writes.
"""

from __future__ import annotations

import time

RG = "rg-avd-demo"
GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
HOST_POOL = "hp-demo-pooled"
MARKER_PREFIX = "goldenimage.marker."
LOCK_TAG = "goldenimage.marker-lock"

# fast waits for module runs against a fast simulator
FAST = {"poll_interval": 1, "timeout": 120}
TARGET = {"resource_group": RG, "gallery": GALLERY, "image": IMAGE}


def image_id(sim, image=IMAGE):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s"
            % (sim.subscription_id, RG, GALLERY, image))


def version_id(sim, name, image=IMAGE):
    return image_id(sim, image) + "/versions/" + name


def wire(obj):
    return obj.as_dict() if hasattr(obj, "as_dict") else dict(obj)


def create_version(sim, compute, name, parent="1.0.0", end_of_life=None, exclude_from_latest=False,
                   regions=("westeurope",), wait=True, image=IMAGE, tags=None):
    """A new version of ``image`` copied from version 1.0.0 of the demo image."""
    all_tags = {"goldenimage.parent-version": parent} if parent else {}
    all_tags.update(tags or {})
    publishing = {"targetRegions": [{"name": region, "regionalReplicaCount": 1} for region in regions],
                  "excludeFromLatest": exclude_from_latest}
    if end_of_life:
        publishing["endOfLifeDate"] = end_of_life
    body = {"location": "westeurope", "tags": all_tags,
            "properties": {"publishingProfile": publishing,
                           "storageProfile": {"source": {"id": version_id(sim, "1.0.0")}}}}
    poller = compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, image, name, body)
    if wait:
        poller.result(timeout=120)
    return poller


def create_definition(compute, image):
    body = {"location": "westeurope",
            "properties": {"osType": "Windows", "osState": "Generalized", "hyperVGeneration": "V2",
                           "identifier": {"publisher": "contoso", "offer": "avd", "sku": image}}}
    compute.gallery_images.begin_create_or_update(RG, GALLERY, image, body).result(timeout=120)


def version_tags(compute, name, image=IMAGE):
    return dict(wire(compute.gallery_image_versions.get(RG, GALLERY, image, name)).get("tags") or {})


def definition_tags(compute, image=IMAGE):
    return dict(wire(compute.gallery_images.get(RG, GALLERY, image)).get("tags") or {})


def all_tags(compute, image=IMAGE):
    """{version: tags} of every version, plus the definition's tags under the key None."""
    out = {item.name: dict(item.tags or {}) for item in compute.gallery_image_versions.list_by_gallery_image(
        RG, GALLERY, image)}
    out[None] = definition_tags(compute, image)
    return out


def holders(compute, marker, image=IMAGE):
    """Versions whose tags claim ``marker``."""
    return sorted(item.name for item in compute.gallery_image_versions.list_by_gallery_image(RG, GALLERY, image)
                  if MARKER_PREFIX + marker in {key.lower() for key in (item.tags or {})})


def wait_until(predicate, timeout=60, interval=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %ss" % timeout)
