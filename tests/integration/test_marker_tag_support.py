"""Setup helpers shared by the marker, image_version_info, hostpool_marker and prune tests (no tests here).

Versions are created through the real SDK against the simulator, from a managed disk as source
(``storageProfile.source.id``), with the tags ``image_capture`` writes (parent version, provenance).
"""

from __future__ import annotations

import contextlib
import datetime
import time

from helpers import wire

RG = "rg-avd-demo"
GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
HOST_POOL = "hp-demo-pooled"
MARKER_PREFIX = "goldenimage.marker."
LOCK_TAG = "goldenimage.marker-lock"

# fast waits for module runs against a fast simulator; the lease lifetime is on the ARM clock, which
# runs TIME_SCALE times faster than ours, so it must be long enough in simulated seconds
FAST = {"poll_interval": 0.02, "timeout": 120, "lease_seconds": 86400}
TARGET = {"resource_group": RG, "gallery": GALLERY, "image": IMAGE}


@contextlib.contextmanager
def three_versions(time_scale=600):
    """A private demo simulator with versions 1.0.1 (parent 1.0.0) and 1.0.2 (parent 1.0.1): (sim, compute)."""
    from avdsim.testing import SimServer  # pylint: disable=import-outside-toplevel

    with SimServer(scenario="demo", time_scale=time_scale) as sim:
        compute = sim.compute_client()
        create_version(sim, compute, "1.0.1", parent="1.0.0")
        create_version(sim, compute, "1.0.2", parent="1.0.1")
        yield sim, compute


def image_id(sim, image=IMAGE):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s"
            % (sim.subscription_id, RG, GALLERY, image))


def version_id(sim, name, image=IMAGE):
    return image_id(sim, image) + "/versions/" + name


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
                           "storageProfile": {"source": {"id": source_disk(compute)}}}}
    poller = compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, image, name, body)
    if wait:
        poller.result(timeout=120)
    return poller


def source_disk(compute, name="disk-version-source"):
    """Id of a managed disk to capture versions from (created on first use)."""
    try:
        return compute.disks.get(RG, name).id
    except Exception:  # pylint: disable=broad-except
        body = {"location": "westeurope", "sku": {"name": "Premium_LRS"},
                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 128, "osType": "Windows"}}
        return compute.disks.begin_create_or_update(RG, name, body).result(timeout=120).id


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


def sim_now(sim):
    """The simulator's clock (what server_now() reads from the Date header)."""
    text = sim.clock()["sim_now"].replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text)


def end_of_life_soon(sim, seconds=3600):
    """An end-of-life date ``seconds`` after the simulator's now (Azure refuses past dates on create)."""
    return (sim_now(sim) + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_until(predicate, timeout=60, interval=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %ss" % timeout)


def run_many(sim, module, cases, check=False):
    """Run ``goldenimage.avd.<module>`` once per args dict in ``cases``, all in one ansible-playbook
    process (each task ignores its own failure); return the results in order."""
    from helpers import run_playbook  # pylint: disable=import-outside-toplevel

    tasks = [{"name": "case %d" % index, "goldenimage.avd.%s" % module: dict(args), "ignore_errors": True}
             for index, args in enumerate(cases)]
    run = run_playbook(sim, [{"name": "cases", "hosts": "localhost", "gather_facts": False, "tasks": tasks}],
                       check=check)
    results = []
    for index in range(len(cases)):
        result = dict(run.task("case %d" % index))
        result.setdefault("changed", False)
        result.setdefault("failed", False)
        results.append(result)
    return results
