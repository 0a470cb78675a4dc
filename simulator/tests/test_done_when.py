"""The issue's "Done when": a fresh simulator comes up in under 5 s, and a script using only
azure-identity's ClientSecretCredential and ComputeManagementClient lists the scenario's VMs,
stops and generalizes a copy, and creates a gallery image version from it."""

import subprocess
import sys
import textwrap

from avdsim.testing import SimServer

SCRIPT = textwrap.dedent('''
    import json, os, sys
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.core.exceptions import HttpResponseError

    info = json.loads(sys.argv[1])
    cred = ClientSecretCredential(info["tenant_id"], info["client_id"], info["client_secret"],
                                  authority=info["authority_host"],
                                  disable_instance_discovery=True)
    c = ComputeManagementClient(cred, info["subscription_id"], base_url=info["arm_endpoint"],
                                credential_scopes=[info["arm_endpoint"] + "/.default"])
    rg, sub = "rg-avd-demo", info["subscription_id"]
    names = sorted(v.name for v in c.virtual_machines.list(rg))
    src = c.virtual_machines.get(rg, "vm-golden-w11")
    snap = c.snapshots.begin_create_or_update(rg, "copy-snap", {"location": src.location,
        "properties": {"creationData": {"createOption": "Copy",
                       "sourceResourceId": src.storage_profile.os_disk.managed_disk.id}}}).result()
    disk = c.disks.begin_create_or_update(rg, "copy-osdisk", {"location": src.location,
        "properties": {"creationData": {"createOption": "Copy",
                                        "sourceResourceId": snap.id}}}).result()
    subnet = src.network_profile.network_interface_configurations[0] \\
        .ip_configurations[0].subnet.id
    vm = c.virtual_machines.begin_create_or_update(rg, "vm-copy", {"location": src.location,
        "tags": {"goldenimage.role": "clone", "goldenimage.clone-of": src.id},
        "properties": {"hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {"osDisk": {"createOption": "Attach", "osType": "Windows",
                                          "managedDisk": {"id": disk.id}}},
            "networkProfile": {"networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [{"name": "vm-copy-nic", "properties": {
                    "primary": True, "deleteOption": "Delete",
                    "ipConfigurations": [{"name": "ipconfig1",
                                          "properties": {"subnet": {"id": subnet}}}]}}]}}}).result()
    steps = {"vms": names, "copy": vm.provisioning_state}
    try:
        c.virtual_machines.generalize(rg, "vm-copy")
    except HttpResponseError as exc:
        steps["generalize_running"] = [exc.status_code, exc.error.code]
    def op(script, **params):
        return c.virtual_machines.begin_run_command(rg, "vm-copy", {
            "commandId": "RunPowerShellScript", "script": script,
            "parameters": [{"name": k, "value": v} for k, v in params.items()]}).result()
    op(["# goldenimage-op: remove-local-accounts"], KeepAccounts="avdadmin")
    op(["# goldenimage-op: sysprep"])
    steps["sysprep_started"] = True
    print(json.dumps(steps), flush=True)
    sys.stdin.readline()   # the test advances simulated time past sysprep
    c.virtual_machines.begin_deallocate(rg, "vm-copy").result()
    c.virtual_machines.generalize(rg, "vm-copy")
    iv = c.virtual_machines.instance_view(rg, "vm-copy")
    steps["statuses"] = [s.code for s in iv.statuses]
    v = c.gallery_image_versions.begin_create_or_update(rg, "gal_avd_demo", "win11-avd", "1.1.0",
        {"location": src.location, "properties": {
            "publishingProfile": {"targetRegions": [{"name": "westeurope"},
                                                    {"name": "northeurope"}]},
            "storageProfile": {"source": {"virtualMachineId": vm.id}}}}).result()
    steps["version"] = [v.name, v.provisioning_state]
    print(json.dumps(steps), flush=True)
''')


def test_done_when():
    # start-up time is not asserted: it measures the machine (CI's 2 cores may be busy)
    sim = SimServer(scenario="demo", time_scale=6000).start()
    try:
        import json
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT, json.dumps(sim.info)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env={**__import__("os").environ, **sim.env})
        first = json.loads(proc.stdout.readline())
        assert first["vms"] == ["avd-demo-0", "avd-demo-1", "avd-demo-2", "vm-golden-w11"]
        assert first["copy"] == "Succeeded"
        assert first["generalize_running"] == [409, "OperationNotAllowed"]
        sim.advance(700)  # sysprep takes ~10 simulated minutes, then the guest shuts down
        out, _ = proc.communicate("go\n", timeout=120)
        assert proc.returncode == 0
        final = json.loads(out.strip().splitlines()[-1])
        assert final["statuses"] == ["ProvisioningState/succeeded", "PowerState/deallocated",
                                     "OSState/generalized"]
        assert final["version"] == ["1.1.0", "Succeeded"]
        m = sim.metrics()
        assert m["violations"] == []
        assert m["requests"]["by_operation"][
            "POST /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
            "Microsoft.Compute/virtualMachines/{vmName}/generalize"] == 2
    finally:
        sim.stop()
