"""Helpers of the Compute simulator tests (real SDK clients; no mocks)."""

import json

from azure.core.rest import HttpRequest

RG = "rg-avd-demo"
LOCATION = "westeurope"
GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
ORIGINAL = "vm-golden-w11"
PASSWORD = "Sim-Test-Passw0rd!"


def subnet_id(sub):
    return (f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/"
            "virtualNetworks/vnet-avd/subnets/snet-hosts")


def image_id(sub, version=None):
    base = (f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/"
            f"{GALLERY}/images/{IMAGE}")
    return base + (f"/versions/{version}" if version else "")


def nic_config(sub, name, delete_option="Delete"):
    return {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [{
        "name": f"{name}-nic", "properties": {
            "primary": True, "deleteOption": delete_option,
            "ipConfigurations": [{"name": "ipconfig1",
                                  "properties": {"subnet": {"id": subnet_id(sub)}}}]}}]}


def vm_from_image_body(sub, name, image_ref, tags=None, disk_delete="Delete"):
    return {"location": LOCATION, "tags": tags or {},
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
                "storageProfile": {"imageReference": {"id": image_ref},
                                   "osDisk": {"createOption": "FromImage",
                                              "deleteOption": disk_delete,
                                              "managedDisk": {
                                                  "storageAccountType": "Premium_LRS"}}},
                "osProfile": {"computerName": name[:15], "adminUsername": "hostadmin",
                              "adminPassword": PASSWORD},
                "networkProfile": nic_config(sub, name)}}


def vm_attach_body(sub, name, disk_id, tags=None, disk_delete="Delete"):
    return {"location": LOCATION, "tags": tags or {"goldenimage.role": "clone"},
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
                "storageProfile": {"osDisk": {"createOption": "Attach", "osType": "Windows",
                                              "deleteOption": disk_delete,
                                              "managedDisk": {"id": disk_id}}},
                "networkProfile": nic_config(sub, name)}}


def clone_vm(compute, sub, source_vm, name):
    """Snapshot the source VM's OS disk, copy it into a disk and attach it to a new VM."""
    src = compute.virtual_machines.get(RG, source_vm)
    snap = compute.snapshots.begin_create_or_update(RG, f"{name}-snap-os", {
        "location": LOCATION, "properties": {
            "incremental": True,
            "creationData": {"createOption": "Copy",
                             "sourceResourceId": src.storage_profile.os_disk.managed_disk.id}}}
    ).result()
    disk = compute.disks.begin_create_or_update(RG, f"{name}-osdisk", {
        "location": LOCATION, "sku": {"name": "Premium_LRS"},
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": snap.id}}}
    ).result()
    vm = compute.virtual_machines.begin_create_or_update(
        RG, name, vm_attach_body(sub, name, disk.id)).result()
    return snap, disk, vm


def run_op(compute, vm, op, **params):
    """Run a ``# goldenimage-op: <op>`` script; returns (stdout, stderr)."""
    result = compute.virtual_machines.begin_run_command(RG, vm, {
        "commandId": "RunPowerShellScript",
        "script": [f"# goldenimage-op: {op}", "param()", "Write-Output 'simulated'"],
        "parameters": [{"name": k, "value": v} for k, v in params.items()]}).result()
    return result.value[0].message, result.value[1].message


def run_json(compute, vm, op, **params):
    out, _err = run_op(compute, vm, op, **params)
    return json.loads(out)


def raw(client, method, url, body=None, headers=None):
    """Send a request through the SDK client's own pipeline (auth, retry policy included)."""
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    req = HttpRequest(method, url, json=body, headers=h)
    return client._client.send_request(req)  # pylint: disable=protected-access


def sysprep_and_generalize(compute, sim, vm, keep="avdadmin"):
    run_op(compute, vm, "remove-local-accounts", KeepAccounts=keep)
    run_op(compute, vm, "sysprep")
    sim.advance(sim_duration(sim, "sysprep") + 60)
    compute.virtual_machines.begin_deallocate(RG, vm).result()
    compute.virtual_machines.generalize(RG, vm)


def sim_duration(sim, name):
    return sim.state()["durations"][name]


def power_state(compute, vm):
    iv = compute.virtual_machines.instance_view(RG, vm)
    return [s.code for s in iv.statuses if s.code.startswith("PowerState/")][0]
