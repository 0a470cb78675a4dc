"""Galleries, image definitions and image versions: capture rules, replication progress in
simulated time, replication failure, versions, latest, and guest content from the original
VM all the way into new VMs."""

import datetime as dt

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from avdsim.testing import SimServer
from compute_helpers import (GALLERY, IMAGE, LOCATION, RG, clone_vm, image_id, raw, run_json,
                             run_op, sysprep_and_generalize, vm_from_image_body)
from spec_validation import validate

REGIONS = [{"name": "westeurope", "regionalReplicaCount": 1},
           {"name": "northeurope", "regionalReplicaCount": 2}]


def _version_body(vm_id, **pp):
    return {"location": LOCATION, "tags": {"goldenimage.source-vm": vm_id},
            "properties": {"publishingProfile": {"targetRegions": REGIONS, **pp},
                           "storageProfile": {"source": {"virtualMachineId": vm_id}}}}


def test_gallery_shapes_and_definition_rules(demo_sim, compute):
    g = compute.galleries.get(RG, GALLERY)
    assert g.identifier.unique_name.endswith("-GAL_AVD_DEMO")
    img = compute.gallery_images.get(RG, GALLERY, IMAGE)
    assert img.os_state == "Generalized" and img.hyper_v_generation == "V2"
    assert {f.name: f.value for f in img.features}["SecurityType"] == "TrustedLaunchSupported"
    base = (f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}/resourceGroups/{RG}"
            f"/providers/Microsoft.Compute/galleries/{GALLERY}")
    validate("gallery", "Gallery", raw(compute, "GET", base + "?api-version=2026-03-03").json())
    validate("gallery", "GalleryImage", raw(compute, "GET", base + f"/images/{IMAGE}"
                                            "?api-version=2026-03-03").json())
    ver = raw(compute, "GET", base + f"/images/{IMAGE}/versions/1.0.0?api-version=2026-03-03"
              "&$expand=ReplicationStatus").json()
    validate("gallery", "GalleryImageVersion", ver)
    assert ver["tags"]["goldenimage.marker.prod"]
    assert ver["properties"]["replicationStatus"]["aggregatedState"] == "Completed"
    assert [t["name"] for t in ver["properties"]["publishingProfile"]["targetRegions"]] == \
        ["West Europe", "North Europe"]
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_images.begin_create_or_update(RG, GALLERY, IMAGE, {
            "location": LOCATION, "properties": {
                "osType": "Windows", "osState": "Specialized", "hyperVGeneration": "V2",
                "identifier": {"publisher": "goldenimage", "offer": "windows-11-avd",
                               "sku": "win11-24h2-avd"}}})
    assert exc.value.status_code == 409 and exc.value.error.code == "PropertyChangeNotAllowed"
    with pytest.raises(HttpResponseError) as exc:
        compute.galleries.begin_delete(RG, GALLERY).result()
    assert exc.value.status_code == 409


def test_capture_rules(demo_sim, compute):
    sub = demo_sim.subscription_id
    _s, _d, clone = clone_vm(compute, sub, "vm-golden-w11", "cap-rules")
    # running, not generalized
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, IMAGE, "1.0.1", _version_body(clone.id))
    assert exc.value.status_code == 400 and exc.value.error.code == "InvalidParameter"
    run_op(compute, "cap-rules", "remove-local-accounts", KeepAccounts="avdadmin")
    run_op(compute, "cap-rules", "sysprep")
    demo_sim.advance(700)
    compute.virtual_machines.generalize(RG, "cap-rules")  # stopped: allowed
    # generalized but only stopped, not deallocated
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, IMAGE, "1.0.1", _version_body(clone.id))
    assert exc.value.status_code == 409 and exc.value.error.code == "OperationNotAllowed"
    compute.virtual_machines.begin_deallocate(RG, "cap-rules").result()
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, IMAGE, "1.0", _version_body(clone.id))
    assert exc.value.error.code == "InvalidParameter"
    v = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, IMAGE, "1.0.1", _version_body(clone.id)).result()
    assert v.provisioning_state == "Succeeded"
    # same version, another source: 409
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, IMAGE, "1.0.1", _version_body(
                clone.id.replace("cap-rules", "vm-golden-w11")))
    assert exc.value.status_code == 409 and exc.value.error.code == "PropertyChangeNotAllowed"
    # same source again: an update, 200
    again = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, IMAGE, "1.0.1", _version_body(clone.id)).result()
    assert again.provisioning_state == "Succeeded"


def test_replication_progress_in_simulated_time():
    with SimServer(scenario="demo", time_scale=60) as sim:
        compute = sim.compute_client()
        sub = sim.subscription_id
        # the slow clock needs manual advances for the preparation
        poller = compute.snapshots.begin_create_or_update(RG, "rep-snap", {
            "location": LOCATION, "properties": {"creationData": {
                "createOption": "Copy", "sourceResourceId": compute.virtual_machines.get(
                    RG, "vm-golden-w11").storage_profile.os_disk.managed_disk.id}}})
        sim.advance(120)
        snap = poller.result()
        poller = compute.disks.begin_create_or_update(RG, "rep-disk", {
            "location": LOCATION, "properties": {"creationData": {
                "createOption": "Copy", "sourceResourceId": snap.id}}})
        sim.advance(200)
        disk = poller.result()
        from compute_helpers import vm_attach_body
        poller = compute.virtual_machines.begin_create_or_update(
            RG, "rep-vm", vm_attach_body(sub, "rep-vm", disk.id))
        sim.advance(200)
        vm = poller.result()
        poller = compute.virtual_machines.begin_run_command(RG, "rep-vm", {
            "commandId": "RunPowerShellScript",
            "script": ["# goldenimage-op: remove-local-accounts"],
            "parameters": [{"name": "KeepAccounts", "value": "avdadmin"}]})
        sim.advance(60)
        poller.result()
        poller = compute.virtual_machines.begin_run_command(RG, "rep-vm", {
            "commandId": "RunPowerShellScript", "script": ["# goldenimage-op: sysprep"]})
        sim.advance(700)
        poller.result()
        poller = compute.virtual_machines.begin_deallocate(RG, "rep-vm")
        sim.advance(60)
        poller.result()
        compute.virtual_machines.generalize(RG, "rep-vm")
        poller = compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, IMAGE, "1.1.0", _version_body(vm.id, excludeFromLatest=True,
                                                        endOfLifeDate="2027-12-31T00:00:00Z"))
        v = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.1.0",
                                               expand="ReplicationStatus")
        assert v.provisioning_state == "Creating"
        assert v.replication_status.aggregated_state == "InProgress"
        assert v.publishing_profile.exclude_from_latest is True
        assert v.publishing_profile.end_of_life_date.year == 2027
        sim.advance(180 + 400)  # capture, then part of the replication
        v = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.1.0",
                                               expand="ReplicationStatus")
        progress = {s.region: (s.state, s.progress) for s in v.replication_status.summary}
        assert progress["West Europe"][0] == "Replicating"
        assert 40 <= progress["West Europe"][1] <= 70
        assert progress["North Europe"][1] < progress["West Europe"][1]  # 2 replicas: slower
        sim.advance(2000)
        v = poller.result()
        assert v.provisioning_state == "Succeeded"
        v = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.1.0",
                                               expand="ReplicationStatus")
        assert v.replication_status.aggregated_state == "Completed"
        assert all(s.progress == 100 for s in v.replication_status.summary)
        # excludeFromLatest: a VM from the definition still gets 1.0.0
        poller = compute.virtual_machines.begin_create_or_update(
            RG, "rep-latest", vm_from_image_body(sub, "rep-latest", image_id(sub)))
        sim.advance(200)
        assert poller.result().storage_profile.image_reference.exact_version == "1.0.0"
        # un-exclude: now 1.1.0 is the latest
        poller = compute.gallery_image_versions.begin_update(
            RG, GALLERY, IMAGE, "1.1.0", {"properties": {"publishingProfile": {
                "excludeFromLatest": False}}})
        sim.advance(60)
        poller.result()
        poller = compute.virtual_machines.begin_create_or_update(
            RG, "rep-latest2", vm_from_image_body(sub, "rep-latest2", image_id(sub)))
        sim.advance(200)
        assert poller.result().storage_profile.image_reference.exact_version == "1.1.0"


def test_replication_failure_fault(demo_sim, compute):
    sub = demo_sim.subscription_id
    from compute_helpers import clone_vm as _clone
    _s, _d, clone = _clone(compute, sub, "vm-golden-w11", "cap-fail")
    sysprep_and_generalize(compute, demo_sim, "cap-fail")
    demo_sim.add_fault(method="PUT", path_regex="/versions/2.0.0$", lro_fail=True,
                       code="ReplicationFailed")
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, IMAGE, "2.0.0", _version_body(clone.id)).result()
    assert "ReplicationFailed" in str(exc.value)
    v = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "2.0.0", expand="ReplicationStatus")
    assert v.provisioning_state == "Failed"
    assert v.replication_status.aggregated_state == "Failed"
    states = {s.region: s.state for s in v.replication_status.summary}
    assert states["North Europe"] == "Failed"
    compute.gallery_image_versions.begin_delete(RG, GALLERY, IMAGE, "2.0.0").result()
    with pytest.raises(ResourceNotFoundError):
        compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "2.0.0")


def test_guest_state_travels_original_to_new_vms(demo_sim, compute):
    sub = demo_sim.subscription_id
    # change the original: updates and new content
    run_json(compute, "vm-golden-w11", "install-updates")
    compute.virtual_machines.begin_restart(RG, "vm-golden-w11").result()
    run_json(compute, "vm-golden-w11", "install-content", Name="Contoso LOB App",
             Version="4.2.0")
    # original -> snapshot -> disk -> clone
    _snap, _disk, clone = clone_vm(compute, sub, "vm-golden-w11", "prop-clone")
    info = run_json(compute, "prop-clone", "guest-info")
    assert info["installed_content"]["Contoso LOB App"] == "4.2.0"
    assert "KB5044284" in info["installed_content"]
    assert info["pending_updates"] == []
    # clone -> sysprep -> image version
    sysprep_and_generalize(compute, demo_sim, "prop-clone")
    compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, IMAGE, "1.2.0", _version_body(clone.id)).result()
    # version -> new VM
    compute.virtual_machines.begin_create_or_update(
        RG, "prop-host", vm_from_image_body(sub, "prop-host", image_id(sub, "1.2.0"))).result()
    info = run_json(compute, "prop-host", "guest-info")
    assert info["installed_content"]["Contoso LOB App"] == "4.2.0"
    assert info["installed_content"]["Microsoft 365 Apps for enterprise"]
    assert info["generalized"] is False and info["computer_name"] == "prop-host"
    assert info["admin_account"] == "hostadmin"
    assert info["sysprep_count"] == 2  # 1.0.0 was sysprepped once, the clone once more
    assert sorted(a["name"] for a in info["local_accounts"]) == ["avdadmin", "hostadmin"]
    # the original was never touched by sysprep and still has its users
    orig = run_json(compute, "vm-golden-w11", "guest-info")
    assert orig["sysprep_count"] == 1 and not orig["generalized"]
    assert {"alice.local", "bob.local"} <= {a["name"] for a in orig["local_accounts"]}


def test_vm_from_image_never_sysprepped_fails_provisioning(demo_sim, compute):
    """Capturing a VM that was marked generalized without sysprep gives an image whose VMs
    never finish OS provisioning (as in Azure)."""
    sub = demo_sim.subscription_id
    _s, _d, clone = clone_vm(compute, sub, "vm-golden-w11", "nosysprep")
    compute.virtual_machines.begin_deallocate(RG, "nosysprep").result()
    compute.virtual_machines.generalize(RG, "nosysprep")
    compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, IMAGE, "0.9.0", _version_body(clone.id, excludeFromLatest=True)).result()
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_create_or_update(
            RG, "nosysprep-host", vm_from_image_body(sub, "nosysprep-host",
                                                     image_id(sub, "0.9.0"))).result()
    assert "OSProvisioningTimedOut" in str(exc.value)


def test_versions_list_and_paging(demo_sim, compute):
    names = [v.name for v in compute.gallery_image_versions.list_by_gallery_image(
        RG, GALLERY, IMAGE)]
    assert "1.0.0" in names
    published = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "1.0.0") \
        .publishing_profile.published_date
    assert published < dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)


def test_adding_a_target_region_replicates_it(demo_sim, compute):
    sub = demo_sim.subscription_id
    _s, _d, clone = clone_vm(compute, sub, "vm-golden-w11", "cap-regions")
    sysprep_and_generalize(compute, demo_sim, "cap-regions")
    compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, IMAGE, "3.0.0", _version_body(clone.id)).result()
    poller = compute.gallery_image_versions.begin_update(
        RG, GALLERY, IMAGE, "3.0.0", {"properties": {"publishingProfile": {"targetRegions": [
            *REGIONS, {"name": "uksouth", "regionalReplicaCount": 1}]}}})
    v = poller.result()
    assert v.provisioning_state == "Succeeded"
    v = compute.gallery_image_versions.get(RG, GALLERY, IMAGE, "3.0.0", expand="ReplicationStatus")
    assert {s.region: s.state for s in v.replication_status.summary} == {
        "West Europe": "Completed", "North Europe": "Completed", "UK South": "Completed"}
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_image_versions.begin_update(
            RG, GALLERY, IMAGE, "3.0.0", {"properties": {"publishingProfile": {
                "targetRegions": [{"name": "northeurope"}]}}})
    assert exc.value.error.code == "InvalidParameter"  # the source region must stay


def test_trusted_launch_source_needs_a_trusted_launch_definition(demo_sim, compute):
    sub = demo_sim.subscription_id
    compute.gallery_images.begin_create_or_update(RG, GALLERY, "win11-standard", {
        "location": LOCATION, "properties": {
            "osType": "Windows", "osState": "Generalized", "hyperVGeneration": "V2",
            "identifier": {"publisher": "goldenimage", "offer": "w11", "sku": "standard"}}}
    ).result()
    _s, _d, clone = clone_vm(compute, sub, "vm-golden-w11", "cap-tl")
    assert clone.security_profile.security_type == "TrustedLaunch"
    sysprep_and_generalize(compute, demo_sim, "cap-tl")
    with pytest.raises(HttpResponseError) as exc:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, "win11-standard", "1.0.0", _version_body(clone.id))
    assert exc.value.error.code == "InvalidParameter" and "TrustedLaunch" in str(exc.value)
