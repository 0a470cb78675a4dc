"""Virtual machines as Compute runs them: create, LRO wire format, power actions and
generalize rules, delete options, run command, runCommands, extensions, restore points,
disks and snapshots — through the real azure-mgmt-compute client."""

import json
import time

import pytest
from azure.core import MatchConditions
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from avdsim.testing import SimServer
from compute_helpers import (LOCATION, RG, clone_vm, image_id, nic_config, power_state, raw,
                             run_json, run_op, sim_duration, vm_attach_body, vm_from_image_body)
from spec_validation import validate


def _vm_url(sim, name, suffix=""):
    return (f"{sim.arm_endpoint}/subscriptions/{sim.subscription_id}/resourceGroups/{RG}/"
            f"providers/Microsoft.Compute/virtualMachines/{name}{suffix}")


def test_create_from_gallery_version_lro_and_trusted_launch(demo_sim, compute):
    sub = demo_sim.subscription_id
    r = raw(compute, "PUT", _vm_url(demo_sim, "vm-t1") + "?api-version=2026-04-01",
            vm_from_image_body(sub, "vm-t1", image_id(sub, "1.0.0"), {"purpose": "test"}))
    assert r.status_code == 201
    body = r.json()
    assert body["properties"]["provisioningState"] == "Creating"
    assert "adminPassword" not in body["properties"]["osProfile"]
    assert "/providers/Microsoft.Compute/locations/westeurope/operations/" in \
        r.headers["Azure-AsyncOperation"]
    assert "Location" not in r.headers
    assert r.headers.get("retry-after-ms") or r.headers.get("Retry-After")
    # poll the operation the way the SDK does
    for _ in range(200):
        op = raw(compute, "GET", r.headers["Azure-AsyncOperation"]).json()
        if op["status"] != "InProgress":
            break
        time.sleep(0.01)
    assert op["status"] == "Succeeded" and op["startTime"] and op["endTime"]
    vm = compute.virtual_machines.get(RG, "vm-t1", expand="instanceView")
    assert vm.provisioning_state == "Succeeded"
    assert vm.security_profile.security_type == "TrustedLaunch"
    assert vm.storage_profile.image_reference.exact_version == "1.0.0"
    codes = [s.code for s in vm.instance_view.statuses]
    assert codes == ["ProvisioningState/succeeded", "PowerState/running"]
    wire = raw(compute, "GET", _vm_url(demo_sim, "vm-t1") +
               "?api-version=2026-04-01&$expand=instanceView").json()
    validate("compute", "VirtualMachine", wire)
    nic = vm.network_profile.network_interfaces[0]
    assert nic.id.endswith("/networkInterfaces/vm-t1-nic") and nic.delete_option == "Delete"
    nic_body = raw(compute, "GET", f"{demo_sim.arm_endpoint}{nic.id}?api-version=2024-05-01")
    assert nic_body.status_code == 200
    assert nic_body.json()["properties"]["virtualMachine"]["id"] == vm.id


def test_create_from_definition_means_latest_not_excluded(demo_sim, compute):
    sub = demo_sim.subscription_id
    vm = compute.virtual_machines.begin_create_or_update(
        RG, "vm-latest", vm_from_image_body(sub, "vm-latest", image_id(sub))).result()
    assert vm.storage_profile.image_reference.exact_version == "1.0.0"


def test_create_validation_errors(demo_sim, compute):
    sub = demo_sim.subscription_id
    body = vm_from_image_body(sub, "vm-bad", image_id(sub, "1.0.0"))
    body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"][
        "ipConfigurations"][0]["properties"]["subnet"]["id"] += "-missing"
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_create_or_update(RG, "vm-bad", body)
    assert exc.value.status_code == 400 and exc.value.error.code == "InvalidResourceReference"
    body = vm_from_image_body(sub, "vm-bad", image_id(sub, "9.9.9"))
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_create_or_update(RG, "vm-bad", body)
    assert exc.value.status_code == 404 and exc.value.error.code == "GalleryImageNotFound"
    body = vm_from_image_body(sub, "vm-bad", image_id(sub, "1.0.0"))
    body["properties"]["osProfile"]["adminPassword"] = "short"
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_create_or_update(RG, "vm-bad", body)
    assert exc.value.error.code == "InvalidParameter"
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(RG, "vm-bad")


def test_power_action_wire_format(demo_sim, compute):
    r = raw(compute, "POST", _vm_url(demo_sim, "avd-demo-1", "/powerOff") +
            "?api-version=2026-04-01")
    assert r.status_code == 202 and r.content == b""
    assert "monitor=true" in r.headers["Location"]
    assert "/operations/" in r.headers["Azure-AsyncOperation"]
    for _ in range(200):
        st = raw(compute, "GET", r.headers["Azure-AsyncOperation"]).json()
        if st["status"] != "InProgress":
            break
        time.sleep(0.01)
    assert st["status"] == "Succeeded"
    final = raw(compute, "GET", r.headers["Location"])
    assert final.status_code == 200 and final.content == b""
    assert power_state(compute, "avd-demo-1") == "PowerState/stopped"
    compute.virtual_machines.begin_start(RG, "avd-demo-1").result()
    assert power_state(compute, "avd-demo-1") == "PowerState/running"


def test_generalize_rules(demo_sim, compute):
    sub = demo_sim.subscription_id
    compute.virtual_machines.begin_create_or_update(
        RG, "vm-gen", vm_from_image_body(sub, "vm-gen", image_id(sub, "1.0.0"))).result()
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.generalize(RG, "vm-gen")
    assert exc.value.status_code == 409 and exc.value.error.code == "OperationNotAllowed"
    compute.virtual_machines.begin_power_off(RG, "vm-gen").result()
    compute.virtual_machines.generalize(RG, "vm-gen")  # stopped (allocated) is enough
    codes = [s.code for s in compute.virtual_machines.instance_view(RG, "vm-gen").statuses]
    assert "OSState/generalized" in codes
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_start(RG, "vm-gen")
    assert exc.value.status_code == 409 and exc.value.error.code == "OperationNotAllowed"
    assert "generalized" in exc.value.error.message
    compute.virtual_machines.begin_deallocate(RG, "vm-gen").result()
    assert power_state(compute, "vm-gen") == "PowerState/deallocated"


def test_delete_honours_delete_options(demo_sim, compute):
    sub = demo_sim.subscription_id
    vm = compute.virtual_machines.begin_create_or_update(
        RG, "vm-del1", vm_from_image_body(sub, "vm-del1", image_id(sub, "1.0.0"),
                                          disk_delete="Delete")).result()
    disk_name = vm.storage_profile.os_disk.name
    body = vm_from_image_body(sub, "vm-del2", image_id(sub, "1.0.0"), disk_delete="Detach")
    body["properties"]["networkProfile"] = nic_config(sub, "vm-del2", delete_option="Detach")
    vm2 = compute.virtual_machines.begin_create_or_update(RG, "vm-del2", body).result()
    disk2 = vm2.storage_profile.os_disk.name
    with pytest.raises(HttpResponseError) as exc:
        compute.disks.begin_delete(RG, disk2).result()
    assert exc.value.status_code == 409 and exc.value.error.code == "OperationNotAllowed"
    compute.virtual_machines.begin_delete(RG, "vm-del1").result()
    compute.virtual_machines.begin_delete(RG, "vm-del2").result()
    with pytest.raises(ResourceNotFoundError):
        compute.disks.get(RG, disk_name)
    d2 = compute.disks.get(RG, disk2)
    assert d2.disk_state == "Unattached" and d2.managed_by is None
    assert raw(compute, "GET", f"{demo_sim.arm_endpoint}/subscriptions/{sub}/resourceGroups/{RG}"
               "/providers/Microsoft.Network/networkInterfaces/vm-del1-nic?api-version=2024-05-01"
               ).status_code == 404
    assert raw(compute, "GET", f"{demo_sim.arm_endpoint}/subscriptions/{sub}/resourceGroups/{RG}"
               "/providers/Microsoft.Network/networkInterfaces/vm-del2-nic?api-version=2024-05-01"
               ).status_code == 200
    compute.disks.begin_delete(RG, disk2).result()
    # deleting what is gone is a 204 the SDK accepts
    compute.virtual_machines.begin_delete(RG, "vm-del1").result()


def test_disk_states_follow_vm(demo_sim, compute):
    vm = compute.virtual_machines.get(RG, "avd-demo-2")
    disk = vm.storage_profile.os_disk.name
    assert compute.disks.get(RG, disk).disk_state == "Attached"
    compute.virtual_machines.begin_deallocate(RG, "avd-demo-2").result()
    assert compute.disks.get(RG, disk).disk_state == "Reserved"
    compute.virtual_machines.begin_start(RG, "avd-demo-2").result()
    assert compute.disks.get(RG, disk).disk_state == "Attached"
    validate("disk", "Disk", raw(compute, "GET", f"{demo_sim.arm_endpoint}{vm.storage_profile.os_disk.managed_disk.id}?api-version=2026-03-02").json())


def test_run_command_result_shape_and_requires_running(demo_sim, compute):
    r = compute.virtual_machines.begin_run_command(RG, "avd-demo-0", {
        "commandId": "RunPowerShellScript", "script": ["Get-Date"]}).result()
    assert [v.code for v in r.value] == ["ComponentStatus/StdOut/succeeded",
                                         "ComponentStatus/StdErr/succeeded"]
    assert r.value[0].message == "" and r.value[1].message == ""
    wire = raw(compute, "POST", _vm_url(demo_sim, "avd-demo-0", "/runCommand") +
               "?api-version=2026-04-01", {"commandId": "RunPowerShellScript",
                                           "script": ["# goldenimage-op: guest-info"]})
    assert wire.status_code == 202
    for _ in range(300):
        final = raw(compute, "GET", wire.headers["Location"])
        if final.status_code == 200:
            break
        assert final.status_code == 202
        time.sleep(0.01)
    validate("compute", "RunCommandResult", final.json())
    compute.virtual_machines.begin_deallocate(RG, "avd-demo-0").result()
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_run_command(RG, "avd-demo-0", {
            "commandId": "RunPowerShellScript", "script": ["Get-Date"]})
    assert exc.value.status_code == 409
    compute.virtual_machines.begin_start(RG, "avd-demo-0").result()


def test_guest_ops_parameters_are_data(demo_sim, compute):
    sub = demo_sim.subscription_id
    _snap, _disk, _vm = clone_vm(compute, sub, "vm-golden-w11", "clone-ops")
    evil = "x'; Remove-Item C:\\ -Recurse; '"
    report = run_json(compute, "clone-ops", "install-content", Name=evil, Version="1.0")
    assert report["name"] == evil
    info = run_json(compute, "clone-ops", "guest-info")
    assert info["installed_content"][evil] == "1.0"
    assert "Microsoft 365 Apps for enterprise" in info["installed_content"]  # nothing removed
    # an account literally named like the payload is not matched against real names
    removed = run_json(compute, "clone-ops", "remove-local-accounts",
                       KeepAccounts=f"avdadmin,{evil}")
    assert sorted(removed["removed"]) == ["alice.local", "bob.local"]
    assert removed["kept"] == ["avdadmin"]
    pre = run_json(compute, "clone-ops", "preflight")
    assert pre["localAccounts"] == ["avdadmin"] and pre["appxPerUser"] == []
    assert pre["bitlocker"] == "Off" and pre["pendingUpdates"]


def test_install_updates_reboot_and_sysprep_failure_logs(demo_sim, compute):
    sub = demo_sim.subscription_id
    clone_vm(compute, sub, "vm-golden-w11", "clone-fail")
    upd = run_json(compute, "clone-fail", "install-updates")
    assert upd["installed"] == ["KB5044284", "KB5044033", "KB2267602"] and upd["rebootRequired"]
    out = run_json(compute, "clone-fail", "sysprep")  # profiles remain + reboot pending
    assert out["started"] is True
    demo_sim.advance(sim_duration(demo_sim, "sysprep") + 60)
    assert power_state(compute, "clone-fail") == "PowerState/running"
    logs = run_json(compute, "clone-fail", "read-sysprep-logs", Lines="20")
    err = "\n".join(logs["setuperr"])
    assert "alice.local" in err and "SpotifyAB.SpotifyMusic" in err and "reboot" in err
    assert any("Sysprep failed" in line for line in logs["setupact"])
    info = run_json(compute, "clone-fail", "guest-info")
    assert info["generalized"] is False and info["sysprep_count"] == 1
    # fix it: reboot, remove accounts, sysprep again
    compute.virtual_machines.begin_restart(RG, "clone-fail").result()
    run_op(compute, "clone-fail", "remove-local-accounts", KeepAccounts="avdadmin")
    run_op(compute, "clone-fail", "sysprep")
    demo_sim.advance(sim_duration(demo_sim, "sysprep") + 60)
    assert power_state(compute, "clone-fail") == "PowerState/stopped"  # not deallocated


def test_sysprep_rearm_limit(tmp_path):
    scenario = tmp_path / "rearm.yaml"
    scenario.write_text(yaml.safe_dump({"extends": "demo", "virtual_machines": [{
        "resource_group": RG, "name": "vm-rearmed", "admin_username": "avdadmin",
        "image": {"gallery": "gal_avd_demo", "image": "win11-avd", "version": "1.0.0"},
        "subnet": "vnet-avd/snet-hosts", "guest": {"sysprep_count": 8}}]}))
    with SimServer(scenario=str(scenario), time_scale=6000) as sim:
        compute = sim.compute_client()
        pre = run_json(compute, "vm-rearmed", "preflight")
        assert pre["sysprepCount"] == 8 and pre["sysprepLimit"] == 8
        run_op(compute, "vm-rearmed", "sysprep")
        sim.advance(sim_duration(sim, "sysprep") + 60)
        assert power_state(compute, "vm-rearmed") == "PowerState/running"
        logs = run_json(compute, "vm-rearmed", "read-sysprep-logs")
        assert any("0xc004d307" in line for line in logs["setuperr"])
        assert run_json(compute, "vm-rearmed", "guest-info")["generalized"] is False


def test_run_commands_child_resource(demo_sim, compute):
    rc = compute.virtual_machine_run_commands.begin_create_or_update(
        RG, "avd-demo-0", "inventory", {
            "location": LOCATION, "properties": {
                "source": {"script": "# goldenimage-op: preflight\nWrite-Output 1"},
                "parameters": [], "asyncExecution": False}}).result()
    assert rc.provisioning_state == "Succeeded"
    got = compute.virtual_machine_run_commands.get_by_virtual_machine(
        RG, "avd-demo-0", "inventory", expand="instanceView")
    assert got.instance_view.execution_state == "Succeeded"
    assert json.loads(got.instance_view.output)["computerName"] == "avd-demo-0"
    wire = raw(compute, "GET", _vm_url(demo_sim, "avd-demo-0", "/runCommands/inventory") +
               "?api-version=2026-04-01&$expand=instanceView").json()
    validate("compute", "VirtualMachineRunCommand", wire)
    assert [r.name for r in compute.virtual_machine_run_commands.list_by_virtual_machine(
        RG, "avd-demo-0")] == ["inventory"]
    compute.virtual_machine_run_commands.begin_delete(RG, "avd-demo-0", "inventory").result()
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machine_run_commands.get_by_virtual_machine(RG, "avd-demo-0",
                                                                    "inventory")


def test_extensions(demo_sim, compute):
    ext = compute.virtual_machine_extensions.begin_create_or_update(
        RG, "avd-demo-1", "CustomScriptExtension", {
            "location": LOCATION, "properties": {
                "publisher": "Microsoft.Compute", "type": "CustomScriptExtension",
                "typeHandlerVersion": "1.10", "autoUpgradeMinorVersion": True,
                "settings": {"commandToExecute": "echo hello"},
                "protectedSettings": {"storageAccountKey": "c2VjcmV0"}}}).result()
    assert ext.provisioning_state == "Succeeded"
    wire = raw(compute, "GET", _vm_url(demo_sim, "avd-demo-1",
                                       "/extensions/CustomScriptExtension") +
               "?api-version=2026-04-01").json()
    assert "protectedSettings" not in wire["properties"]
    validate("compute", "VirtualMachineExtension", wire)
    names = [e.name for e in compute.virtual_machine_extensions.list(RG, "avd-demo-1").value]
    assert "CustomScriptExtension" in names
    compute.virtual_machine_extensions.begin_delete(RG, "avd-demo-1",
                                                    "CustomScriptExtension").result()
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machine_extensions.get(RG, "avd-demo-1", "CustomScriptExtension")


def test_lro_fail_fault_marks_vm_failed(demo_sim, compute):
    sub = demo_sim.subscription_id
    demo_sim.add_fault(method="PUT", path_regex="/virtualMachines/vm-lrofail$",
                       lro_fail=True, code="AllocationFailed",
                       message="Allocation failed. We do not have sufficient capacity.")
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_create_or_update(
            RG, "vm-lrofail", vm_from_image_body(sub, "vm-lrofail", image_id(sub, "1.0.0"))
        ).result()
    assert "AllocationFailed" in str(exc.value)
    assert compute.virtual_machines.get(RG, "vm-lrofail").provisioning_state == "Failed"


def test_restore_point_and_restore(demo_sim, compute):
    sub = demo_sim.subscription_id
    orig = compute.virtual_machines.get(RG, "vm-golden-w11")
    compute.restore_point_collections.create_or_update(RG, "rpc-golden", {
        "location": LOCATION, "properties": {"source": {"id": orig.id}}})
    rp = compute.restore_points.begin_create(RG, "rpc-golden", "before-updates", {}).result()
    assert rp.provisioning_state == "Succeeded"
    assert rp.consistency_mode == "ApplicationConsistent"
    wire = raw(compute, "GET", f"{demo_sim.arm_endpoint}/subscriptions/{sub}/resourceGroups/{RG}"
               "/providers/Microsoft.Compute/restorePointCollections/rpc-golden/restorePoints/"
               "before-updates?api-version=2026-04-01").json()
    validate("compute", "RestorePoint", wire)
    drp_id = rp.source_metadata.storage_profile.os_disk.disk_restore_point.id
    # change the original after the restore point
    run_op(compute, "vm-golden-w11", "install-content", Name="After", Version="2")
    disk = compute.disks.begin_create_or_update(RG, "restored-osdisk", {
        "location": LOCATION, "properties": {"creationData": {
            "createOption": "Restore", "sourceResourceId": drp_id}}}).result()
    assert disk.creation_data.create_option == "Restore"
    compute.virtual_machines.begin_create_or_update(
        RG, "vm-restored", vm_attach_body(sub, "vm-restored", disk.id, {})).result()
    info = run_json(compute, "vm-restored", "guest-info")
    assert "After" not in info["installed_content"]
    assert [a["name"] for a in info["local_accounts"]] == ["avdadmin", "alice.local",
                                                           "bob.local"]
    rpc = compute.restore_point_collections.get(RG, "rpc-golden", expand="restorePoints")
    assert [p.name for p in rpc.restore_points] == ["before-updates"]
    compute.restore_points.begin_delete(RG, "rpc-golden", "before-updates").result()
    compute.restore_point_collections.begin_delete(RG, "rpc-golden").result()


def test_snapshot_and_disk_shapes(demo_sim, compute):
    vm = compute.virtual_machines.get(RG, "avd-demo-1")
    r = raw(compute, "PUT", f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}/"
            f"resourceGroups/{RG}/providers/Microsoft.Compute/snapshots/snap-shape?"
            "api-version=2026-03-02", {"location": LOCATION, "properties": {
                "incremental": True, "creationData": {
                    "createOption": "Copy",
                    "sourceResourceId": vm.storage_profile.os_disk.managed_disk.id}}})
    assert r.status_code == 202
    assert "/DiskOperations/" in r.headers["Azure-AsyncOperation"]
    assert r.json()["properties"]["provisioningState"] == "Updating"
    for _ in range(200):
        st = raw(compute, "GET", r.headers["Azure-AsyncOperation"]).json()
        if st["status"] != "InProgress":
            break
        time.sleep(0.01)
    assert st["status"] == "Succeeded"
    assert st["properties"]["output"]["name"] == "snap-shape"
    snap = compute.snapshots.get(RG, "snap-shape")
    assert snap.incremental and snap.creation_data.source_resource_id.lower() == \
        vm.storage_profile.os_disk.managed_disk.id.lower()
    validate("disk", "Snapshot", raw(compute, "GET", f"{demo_sim.arm_endpoint}{snap.id}"
                                     "?api-version=2026-03-02").json())
    compute.snapshots.begin_delete(RG, "snap-shape").result()
    with pytest.raises(ResourceNotFoundError):
        compute.snapshots.get(RG, "snap-shape")


def test_extension_and_run_command_updates(demo_sim, compute):
    compute.virtual_machine_extensions.begin_create_or_update(
        RG, "avd-demo-2", "BGInfo", {"location": LOCATION, "properties": {
            "publisher": "Microsoft.Compute", "type": "BGInfo", "typeHandlerVersion": "2.2",
            "settings": {"a": 1}}}).result()
    ext = compute.virtual_machine_extensions.begin_update(
        RG, "avd-demo-2", "BGInfo", {"tags": {"k": "v"},
                                     "properties": {"settings": {"a": 2}}}).result()
    assert ext.settings == {"a": 2} and ext.tags == {"k": "v"}
    assert ext.type_handler_version == "2.2" and ext.provisioning_state == "Succeeded"
    compute.virtual_machine_run_commands.begin_create_or_update(
        RG, "avd-demo-2", "info", {"location": LOCATION, "properties": {
            "source": {"script": "# goldenimage-op: install-content"},
            "parameters": [{"name": "Name", "value": "Tool"},
                           {"name": "Version", "value": "1"}]}}).result()
    rc = compute.virtual_machine_run_commands.begin_update(
        RG, "avd-demo-2", "info", {"properties": {"parameters": [
            {"name": "Name", "value": "Tool"}, {"name": "Version", "value": "2"}]}}).result()
    assert rc.provisioning_state == "Succeeded"
    got = compute.virtual_machine_run_commands.get_by_virtual_machine(
        RG, "avd-demo-2", "info", expand="instanceView")
    assert json.loads(got.instance_view.output)["previous"] == "1"
    assert run_json(compute, "avd-demo-2", "guest-info")["installed_content"]["Tool"] == "2"


def test_vm_etag_and_preconditions(demo_sim, compute):
    vm = compute.virtual_machines.get(RG, "avd-demo-1")
    etag = vm.etag
    assert etag
    updated = compute.virtual_machines.begin_update(
        RG, "avd-demo-1", {"tags": {**(vm.tags or {}), "etag-test": "1"}},
        etag=etag, match_condition=MatchConditions.IfNotModified).result()
    assert updated.etag != etag and updated.tags["etag-test"] == "1"
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_update(RG, "avd-demo-1", {"tags": {}}, etag=etag,
                                              match_condition=MatchConditions.IfNotModified)
    assert exc.value.status_code == 412
    tags = compute.virtual_machines.get(RG, "avd-demo-1").tags
    assert tags["etag-test"] == "1" and tags["goldenimage.role"] == "session-host"


def test_run_command_output_keeps_last_4096_bytes(demo_sim, compute):
    long_name = "N" * 5000
    out, _err = run_op(compute, "avd-demo-0", "install-content", Name=long_name, Version="7")
    assert len(out.encode()) == 4096
    assert out.endswith('"version":"7"}')  # the tail survives, as in Azure


def test_os_disk_swap_on_deallocated_vm(demo_sim, compute):
    sub = demo_sim.subscription_id
    compute.virtual_machines.begin_create_or_update(
        RG, "vm-swap", vm_from_image_body(sub, "vm-swap", image_id(sub, "1.0.0"))).result()
    run_op(compute, "vm-swap", "install-content", Name="Before", Version="1")
    vm = compute.virtual_machines.get(RG, "vm-swap")
    old_id = vm.storage_profile.os_disk.managed_disk.id
    snap = compute.snapshots.begin_create_or_update(RG, "vm-swap-snap", {
        "location": LOCATION, "properties": {"creationData": {
            "createOption": "Copy", "sourceResourceId": old_id}}}).result()
    run_op(compute, "vm-swap", "install-content", Name="After", Version="1")
    new = compute.disks.begin_create_or_update(RG, "vm-swap-disk2", {
        "location": LOCATION, "properties": {"creationData": {
            "createOption": "Copy", "sourceResourceId": snap.id}}}).result()
    swap = {"properties": {"storageProfile": {"osDisk": {"managedDisk": {"id": new.id},
                                                         "name": new.name}}}}
    with pytest.raises(HttpResponseError) as exc:  # running: not allowed
        compute.virtual_machines.begin_update(RG, "vm-swap", swap)
    assert exc.value.status_code == 409
    compute.virtual_machines.begin_deallocate(RG, "vm-swap").result()
    vm = compute.virtual_machines.begin_update(RG, "vm-swap", swap).result()
    assert vm.storage_profile.os_disk.managed_disk.id.lower() == new.id.lower()
    assert compute.disks.get(RG, "vm-swap-disk2").disk_state == "Reserved"
    assert compute.disks.get(RG, old_id.rsplit("/", 1)[1]).disk_state == "Unattached"
    compute.virtual_machines.begin_start(RG, "vm-swap").result()
    content = run_json(compute, "vm-swap", "guest-info")["installed_content"]
    assert "Before" in content and "After" not in content


def test_data_disks_attach_empty_detach_and_restore_point(demo_sim, compute):
    sub = demo_sim.subscription_id
    extra = compute.disks.begin_create_or_update(RG, "dd-extra", {
        "location": LOCATION, "properties": {"creationData": {"createOption": "Empty"},
                                             "diskSizeGB": 64}}).result()
    body = vm_from_image_body(sub, "vm-dd", image_id(sub, "1.0.0"))
    body["properties"]["storageProfile"]["dataDisks"] = [
        {"lun": 0, "createOption": "Empty", "diskSizeGB": 32, "deleteOption": "Delete"},
        {"lun": 3, "createOption": "Attach", "managedDisk": {"id": extra.id}}]
    vm = compute.virtual_machines.begin_create_or_update(RG, "vm-dd", body).result()
    luns = {d.lun: d for d in vm.storage_profile.data_disks}
    assert set(luns) == {0, 3} and luns[0].disk_size_gb == 32
    assert compute.disks.get(RG, "dd-extra").disk_state == "Attached"
    compute.restore_point_collections.create_or_update(RG, "rpc-dd", {
        "location": LOCATION, "properties": {"source": {"id": vm.id}}})
    rp = compute.restore_points.begin_create(RG, "rpc-dd", "rp", {}).result()
    assert sorted(d.lun for d in rp.source_metadata.storage_profile.data_disks) == [0, 3]
    # detach lun 3 by leaving it out
    vm = compute.virtual_machines.begin_update(RG, "vm-dd", {"properties": {"storageProfile": {
        "dataDisks": [{"lun": 0, "createOption": "Attach",
                       "managedDisk": {"id": luns[0].managed_disk.id}}]}}}).result()
    assert [d.lun for d in vm.storage_profile.data_disks] == [0]
    assert compute.disks.get(RG, "dd-extra").disk_state == "Unattached"
    empty_name = luns[0].name
    compute.virtual_machines.begin_delete(RG, "vm-dd").result()
    with pytest.raises(ResourceNotFoundError):  # deleteOption Delete
        compute.disks.get(RG, empty_name)


def test_sysprepped_guest_started_again_has_no_agent(demo_sim, compute):
    sub = demo_sim.subscription_id
    clone_vm(compute, sub, "vm-golden-w11", "clone-oobe")
    run_op(compute, "clone-oobe", "remove-local-accounts", KeepAccounts="avdadmin")
    run_op(compute, "clone-oobe", "sysprep")
    demo_sim.advance(sim_duration(demo_sim, "sysprep") + 60)
    compute.virtual_machines.begin_start(RG, "clone-oobe").result()  # Azure lets it start
    iv = compute.virtual_machines.instance_view(RG, "clone-oobe")
    assert iv.vm_agent.statuses[0].display_status == "Not Ready"
    with pytest.raises(HttpResponseError) as exc:
        run_op(compute, "clone-oobe", "guest-info")
    assert "VMAgentStatusCommunicationError" in str(exc.value)


def test_injected_sysprep_failure(demo_sim, compute):
    sub = demo_sim.subscription_id
    clone_vm(compute, sub, "vm-golden-w11", "clone-fault")
    run_op(compute, "clone-fault", "remove-local-accounts", KeepAccounts="avdadmin")
    demo_sim.add_fault(method="POST", path_regex="/virtualMachines/clone-fault/runCommand$",
                       lro_fail=True, message="Sysprep_Generalize: injected failure")
    out = run_json(compute, "clone-fault", "sysprep")  # the command itself succeeds
    assert out["started"] is True
    demo_sim.advance(sim_duration(demo_sim, "sysprep") + 60)
    assert power_state(compute, "clone-fault") == "PowerState/running"
    logs = run_json(compute, "clone-fault", "read-sysprep-logs", Lines="10")
    assert any("injected failure" in line for line in logs["setuperr"])
