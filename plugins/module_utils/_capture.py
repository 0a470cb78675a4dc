# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Capture a generalized VM into an Azure Compute Gallery image version and wait for replication."""

from __future__ import annotations

import functools
import re
import time

from ._errors import (
    ConflictError,
    NotFoundError,
    PreconditionError,
    TimeoutError,  # pylint: disable=redefined-builtin
    azure_errors,
    get_or_none,
    ignore_not_found,
)
from ._ids import same_id, validate_name
from ._versions import version_key
from ._vm import is_generalized, power_state
from ._wait import wait_operation

TAG_SOURCE_VM = "goldenimage.source-vm"
TAG_PARENT_VERSION = "goldenimage.parent-version"
TAG_BUILD_TIME = "goldenimage.build-time"
TAG_BUILD_ID = "goldenimage.build-id"
TAG_NOTES = "goldenimage.notes"
TAG_CLONE_OF = "goldenimage.clone-of"
MARKER_TAG_PREFIX = "goldenimage.marker."

# Azure tag values hold at most 256 characters.
TAG_VALUE_MAX = 256

STORAGE_ACCOUNT_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")
OS_TYPES = ("Windows", "Linux")
HYPER_V_GENERATIONS = ("V1", "V2")
SECURITY_TYPES = ("Standard", "TrustedLaunch", "TrustedLaunchSupported", "ConfidentialVM",
                  "ConfidentialVMSupported", "TrustedLaunchAndConfidentialVmSupported")


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

def normalize_region(name):
    """Azure returns region display names ("West Europe") or names ("westeurope"); compare these."""
    return re.sub(r"\s+", "", name or "").lower()


def validate_capture_params(params):
    """Check the options before anything is sent to Azure; raise ValueError naming the option."""
    validate_name("resource_group", params["resource_group"])
    validate_name("gallery", params["gallery"])
    validate_name("image_definition", params["image"])
    version = params.get("version") or "auto"
    if version != "auto":
        validate_name("image_version", version)
    validate_target_regions(params.get("target_regions") or [])
    replica_count = params.get("replica_count")
    if replica_count is not None and not 1 <= replica_count <= 100:
        raise ValueError("Option 'replica_count' must be between 1 and 100, got %r." % (replica_count,))
    notes = params.get("notes")
    if notes is not None and len(notes) > TAG_VALUE_MAX:
        raise ValueError("Option 'notes' holds %d characters; Azure tag values allow at most %d."
                         % (len(notes), TAG_VALUE_MAX))
    build_id = params.get("build_id")
    if build_id is not None and len(build_id) > TAG_VALUE_MAX:
        raise ValueError("Option 'build_id' holds %d characters; Azure tag values allow at most %d."
                         % (len(build_id), TAG_VALUE_MAX))
    parent = params.get("parent_version")
    if parent:
        validate_name("image_version", parent, option="parent_version")
    definition = params.get("definition")
    if definition:
        for key in ("publisher", "offer", "sku"):
            if not definition.get(key):
                raise ValueError("Option 'definition.%s' is required to create the image definition." % key)


def validate_target_regions(target_regions):
    """Every region named, at most once, with 1-100 replicas; raise ValueError naming the option."""
    for index, region in enumerate(target_regions):
        if not region.get("name"):
            raise ValueError("Option 'target_regions[%d].name' is required (an Azure region such as 'westeurope')."
                             % index)
        replicas = region.get("replicas")
        if replicas is not None and not 1 <= replicas <= 100:
            raise ValueError("Option 'target_regions[%d].replicas' must be between 1 and 100, got %r."
                             % (index, replicas))
    names = [normalize_region(r["name"]) for r in target_regions]
    if len(set(names)) != len(names):
        raise ValueError("Option 'target_regions' lists a region twice: %s." % ", ".join(names))


def target_regions_body(target_regions, default_location):
    """Wire-format ``targetRegions``; the gallery's own region is always included (Azure requires it)."""
    regions = []
    for region in target_regions or []:
        entry = {"name": region["name"]}
        if region.get("replicas") is not None:
            entry["regionalReplicaCount"] = region["replicas"]
        if region.get("storage_account_type"):
            entry["storageAccountType"] = region["storage_account_type"]
        regions.append(entry)
    if default_location and normalize_region(default_location) not in [normalize_region(r["name"]) for r in regions]:
        regions.insert(0, {"name": default_location})
    return regions


def version_body(location, source_vm_id, target_regions, replica_count=None, exclude_from_latest=False,
                 end_of_life_date=None, storage_account_type=None, tags=None):
    publishing = {
        "targetRegions": target_regions_body(target_regions, location),
        "excludeFromLatest": bool(exclude_from_latest),
    }
    if replica_count is not None:
        publishing["replicaCount"] = replica_count
    if end_of_life_date:
        publishing["endOfLifeDate"] = end_of_life_date
    if storage_account_type:
        publishing["storageAccountType"] = storage_account_type
    return {
        "location": location,
        "tags": dict(tags or {}),
        "properties": {
            "publishingProfile": publishing,
            "storageProfile": {"source": {"virtualMachineId": source_vm_id}},
        },
    }


def definition_body(location, definition):
    props = {
        "osType": definition.get("os_type") or "Windows",
        "osState": "Generalized",
        "hyperVGeneration": definition.get("hyper_v_generation") or "V2",
        "identifier": {
            "publisher": definition["publisher"],
            "offer": definition["offer"],
            "sku": definition["sku"],
        },
    }
    if definition.get("description"):
        props["description"] = definition["description"]
    security_type = definition.get("security_type")
    if security_type and security_type != "Standard":
        props["features"] = [{"name": "SecurityType", "value": security_type}]
    return {"location": location, "properties": props}


def provenance_tags(source_vm_id, parent_version, build_time, build_id=None, notes=None, extra=None):
    tags = dict(extra or {})
    tags[TAG_SOURCE_VM] = source_vm_id
    if parent_version:
        tags[TAG_PARENT_VERSION] = parent_version
    tags[TAG_BUILD_TIME] = build_time
    if build_id:
        tags[TAG_BUILD_ID] = build_id
    if notes:
        tags[TAG_NOTES] = notes
    return tags


def version_source_id(version):
    props = (version or {}).get("properties") or {}
    return (((props.get("storageProfile") or {}).get("source") or {}).get("virtualMachineId")
            or ((props.get("storageProfile") or {}).get("source") or {}).get("id"))


def replication_summary(version, target_regions=None):
    """Per-region replication state of a version read with ``$expand=ReplicationStatus``.

    Returns ``{"aggregated": str, "provisioning_state": str, "regions": [{"region", "state",
    "progress", "details"}]}``. Regions the request targets that the status does not list yet are
    reported as ``Unknown``.
    """
    props = (version or {}).get("properties") or {}
    status = props.get("replicationStatus") or {}
    regions = []
    seen = set()
    for entry in status.get("summary") or []:
        seen.add(normalize_region(entry.get("region")))
        regions.append({
            "region": entry.get("region"),
            "state": entry.get("state") or "Unknown",
            "progress": entry.get("progress"),
            "details": entry.get("details"),
        })
    for region in target_regions or []:
        if normalize_region(region) not in seen:
            regions.append({"region": region, "state": "Unknown", "progress": None, "details": None})
    return {
        "aggregated": status.get("aggregatedState") or "Unknown",
        "provisioning_state": props.get("provisioningState"),
        "regions": regions,
    }


def replication_outcome(summary):
    """``"done"``, ``"failed"`` or ``"pending"`` for a ``replication_summary``."""
    if summary["provisioning_state"] == "Failed" or any(r["state"] == "Failed" for r in summary["regions"]):
        return "failed"
    if summary["provisioning_state"] == "Succeeded" and summary["regions"] and \
            all(r["state"] == "Completed" for r in summary["regions"]):
        return "done"
    return "pending"


def markers_of(version):
    tags = (version or {}).get("tags") or {}
    return sorted(key[len(MARKER_TAG_PREFIX):] for key in tags
                  if key.startswith(MARKER_TAG_PREFIX) and not key.endswith(".previous"))


# ---------------------------------------------------------------------------------------------
# Azure operations
# ---------------------------------------------------------------------------------------------

class Capture:
    """Image-version capture against a ``ComputeManagementClient``; ``to_wire`` turns SDK models into dicts."""

    def __init__(self, compute, to_wire, resource_group, gallery, image, sleep=time.sleep):
        self.compute = compute
        self.to_wire = to_wire
        self.resource_group = resource_group
        self.gallery = gallery
        self.image = image
        self.sleep = sleep

    # -- reads -------------------------------------------------------------------------------
    def get_gallery(self):
        with azure_errors("read gallery '%s'" % self.gallery,
                          not_found="Gallery '%s' was not found in resource group '%s'." % (
                              self.gallery, self.resource_group)):
            return self.to_wire(self.compute.galleries.get(self.resource_group, self.gallery))

    def get_definition(self):
        return self.to_wire(get_or_none(self.compute.gallery_images.get, self.resource_group, self.gallery, self.image))

    def list_versions(self):
        return get_or_none(lambda: [self.to_wire(v) for v in self.compute.gallery_image_versions.list_by_gallery_image(
            self.resource_group, self.gallery, self.image)]) or []

    def get_version(self, version, with_replication=True):
        kwargs = {"expand": "ReplicationStatus"} if with_replication else {}
        return self.to_wire(get_or_none(self.compute.gallery_image_versions.get,
                                        self.resource_group, self.gallery, self.image, version, **kwargs))

    def get_source_vm(self, resource_group, name):
        with azure_errors("read source VM '%s'" % name,
                          not_found="Source VM '%s' was not found in resource group '%s'." % (name, resource_group)):
            return self.to_wire(self.compute.virtual_machines.get(resource_group, name, expand="instanceView"))

    # -- writes ------------------------------------------------------------------------------
    def create_definition(self, body, deadline):
        operation = "create image definition '%s'" % self.image
        return self.to_wire(wait_operation(functools.partial(
            self.compute.gallery_images.begin_create_or_update, self.resource_group, self.gallery, self.image, body),
            deadline, operation, restart=True))

    def start_version(self, version, body):
        """PUT the version without waiting: replication is watched by ``wait_for_replication``."""
        with azure_errors("create image version '%s'" % version):
            self.compute.gallery_image_versions.begin_create_or_update(
                self.resource_group, self.gallery, self.image, version, body, polling=False)

    def delete_version(self, version, deadline):
        operation = "delete image version '%s'" % version
        with ignore_not_found() as outcome, azure_errors(operation):
            wait_operation(functools.partial(self.compute.gallery_image_versions.begin_delete,
                                             self.resource_group, self.gallery, self.image, version),
                           deadline, operation, restart=True)
        return outcome.found

    def wait_for_replication(self, version, target_regions, deadline, poll_interval):
        """Poll one GET ($expand=ReplicationStatus) per interval until every region is Completed.

        Raises ``AzureModuleError`` on a failed region and ``TimeoutError`` (with the per-region
        state as ``partial``) when the deadline passes; the version is left in place either way.
        """
        while True:
            current = self.get_version(version)
            if current is None:
                raise NotFoundError("Image version '%s' disappeared while waiting for its replication." % version)
            summary = replication_summary(current, target_regions)
            outcome = replication_outcome(summary)
            if outcome == "done":
                return current, summary
            if outcome == "failed":
                failed = ["%s: %s" % (r["region"], r.get("details") or r["state"])
                          for r in summary["regions"] if r["state"] == "Failed"]
                raise ReplicationFailedError(
                    "Replication of image version '%s' failed (provisioning state %s) in %s. The version is "
                    "left in place: fix the cause, then delete it (state=absent) and capture again, or update "
                    "its target regions." % (version, summary["provisioning_state"],
                                             "; ".join(failed) or "an unknown region"),
                    partial={"version": version, "replication": summary})
            if deadline.expired():
                raise TimeoutError(
                    "Image version '%s' is still replicating after %ss (%s). It is left in place; run the same "
                    "task again to resume waiting." % (
                        version, int(deadline.timeout),
                        ", ".join("%s %s%s" % (r["region"], r["state"],
                                               "" if r.get("progress") is None else " %s%%" % r["progress"])
                                  for r in summary["regions"])),
                    partial={"version": version, "replication": summary})
            self.sleep(max(0.0, min(poll_interval, deadline.remaining())))


class ReplicationFailedError(ConflictError):
    hint = ("A region failed to replicate; the version stays in place (check quota and the region name), "
            "delete it with state=absent and capture again.")


def check_source_vm(vm, resource_group, name):
    """The source must be generalized (Azure) and deallocated or stopped; raise PreconditionError otherwise."""
    state = power_state(vm)
    if not is_generalized(vm):
        raise PreconditionError(
            "VM '%s' in resource group '%s' is not generalized; run goldenimage.avd.sysprep_generalize on it "
            "first (never on the original VM)." % (name, resource_group))
    if state not in ("deallocated", "stopped"):
        raise PreconditionError(
            "VM '%s' must be stopped or deallocated to be captured (power state: %s)." % (name, state))


def source_provenance(vm):
    """The VM the image really comes from: the original a clone was made of, else the VM itself."""
    tags = vm.get("tags") or {}
    return tags.get(TAG_CLONE_OF) or vm.get("id")


def find_version_from_source(versions, source_vm_id):
    """An existing version captured from ``source_vm_id`` (the resume case of ``auto``), or None."""
    matches = [v for v in versions if same_id(version_source_id(v), source_vm_id)]
    if not matches:
        return None
    return max(matches, key=lambda v: version_key(v.get("name")))


def describe_version(version, summary=None):
    props = (version or {}).get("properties") or {}
    publishing = props.get("publishingProfile") or {}
    out = {
        "id": version.get("id"),
        "name": version.get("name"),
        "location": version.get("location"),
        "provisioning_state": props.get("provisioningState"),
        "source_vm_id": version_source_id(version),
        "target_regions": [
            {"name": r.get("name"), "replicas": r.get("regionalReplicaCount"),
             "storage_account_type": r.get("storageAccountType")}
            for r in publishing.get("targetRegions") or []],
        "replica_count": publishing.get("replicaCount"),
        "exclude_from_latest": publishing.get("excludeFromLatest"),
        "end_of_life_date": publishing.get("endOfLifeDate"),
        "published_date": publishing.get("publishedDate"),
        "tags": version.get("tags") or {},
        "markers": markers_of(version),
    }
    if summary is not None:
        out["replication"] = summary
    return out
