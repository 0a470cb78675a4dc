"""OS disk swap of a deallocated VM (PATCH storageProfile.osDisk.managedDisk.id), as Azure allows it:
refused while the VM is allocated, the new disk attached, the old one kept and detached, the guest
model following the disk."""

import pytest
from azure.core.exceptions import HttpResponseError

from avdsim.testing import SimServer

RG = "rg-avd-demo"
VM = "vm-golden-w11"


@pytest.fixture
def sim():
    with SimServer(scenario="demo", time_scale=6000.0) as server:
        yield server


def _os_disk(compute):
    return compute.virtual_machines.get(RG, VM).as_dict()["properties"]["storageProfile"]["osDisk"]


def test_os_disk_swap(sim):
    compute = sim.compute_client()
    old = _os_disk(compute)
    compute.snapshots.begin_create_or_update(RG, "snap-swap", {
        "location": "westeurope",
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": old["managedDisk"]["id"]}}}).result()
    snap_id = compute.snapshots.get(RG, "snap-swap").as_dict()["id"]
    compute.disks.begin_create_or_update(RG, "disk-swap", {
        "location": "westeurope", "properties": {
            "osType": "Windows", "hyperVGeneration": "V2", "securityProfile": {"securityType": "TrustedLaunch"},
            "creationData": {"createOption": "Copy", "sourceResourceId": snap_id}}}).result()
    new_id = compute.disks.get(RG, "disk-swap").as_dict()["id"]
    update = {"properties": {"storageProfile": {"osDisk": {"name": "disk-swap", "managedDisk": {"id": new_id}}}}}

    with pytest.raises(HttpResponseError) as running:
        compute.virtual_machines.begin_update(RG, VM, update).result()
    assert running.value.status_code == 409 and running.value.error.code == "OperationNotAllowed"

    compute.virtual_machines.begin_deallocate(RG, VM).result()
    compute.virtual_machines.begin_update(RG, VM, update).result()
    swapped = _os_disk(compute)
    assert swapped["managedDisk"]["id"].lower() == new_id.lower() and swapped["name"] == "disk-swap"
    assert compute.disks.get(RG, "disk-swap").as_dict()["managedBy"].lower().endswith("/virtualmachines/" + VM)
    old_disk = compute.disks.get(RG, old["name"]).as_dict()
    assert old_disk["properties"]["diskState"] == "Unattached" and not old_disk.get("managedBy")
    compute.virtual_machines.begin_start(RG, VM).result()
    view = compute.virtual_machines.instance_view(RG, VM).as_dict()
    assert "PowerState/running" in [s["code"] for s in view["statuses"]]
