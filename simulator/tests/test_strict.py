"""The simulator refuses what Azure refuses (issue 13): api-versions per resource type, ``$expand``
on VM lists, unknown members of request bodies, and Compute's per-operation throttling of disks
and galleries. Each refusal is asserted with Azure's status, code and message shape; the
sources are cited next to each test (and in the simulator modules)."""

import re

import pytest

from avdsim import apiversions
from compute_helpers import GALLERY, IMAGE, ORIGINAL, RG, raw


def _base(sim):
    return f"{sim.arm_endpoint}/subscriptions/{sim.subscription_id}"


def _vm(sim, name=ORIGINAL):
    return f"{_base(sim)}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{name}"


def _error(response):
    return response.json()["error"]


# --- api-version ------------------------------------------------------------------------------
# Malformed: ARM's InvalidApiVersionParameter (Azure/azure-cli#28038, ansible-collections/azure#1739).
@pytest.mark.parametrize("version", ["not-a-version", "2026-4-1", "2026-04-01x"])
def test_malformed_api_version_is_invalid(demo_sim, compute, version):
    r = raw(compute, "GET", _vm(demo_sim) + f"?api-version={version}")
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "InvalidApiVersionParameter"
    assert re.fullmatch(rf"The api-version '{re.escape(version)}' is invalid\. The supported "
                        r"versions are '[0-9a-z,-]+'\.", err["message"])


# Unknown for the type: NoRegisteredProviderFound (Azure/azure-cli#28496,
# Azure/azure-powershell#3543): location, version, type, supported versions and locations.
@pytest.mark.parametrize("version", ["1999-01-01", "2024-04-03", "2026-03-03"])
def test_version_of_another_type_has_no_registered_provider(demo_sim, compute, version):
    """1999-01-01 exists nowhere; 2024-04-03 is Desktop Virtualization's, 2026-03-03 the
    galleries' version: neither is a virtualMachines version."""
    r = raw(compute, "GET", _vm(demo_sim) + f"?api-version={version}")
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "NoRegisteredProviderFound"
    supported = ", ".join(apiversions.SUPPORTED["Microsoft.Compute/virtualMachines"])
    assert err["message"] == (
        f"No registered resource provider found for location 'westeurope' and API version "
        f"'{version}' for type 'virtualMachines'. The supported api-versions are '{supported}'. "
        f"The supported locations are '{', '.join(apiversions.LOCATIONS)}'.")


def test_desktop_virtualization_and_gallery_versions_per_type(demo_sim, compute):
    pool = (f"{_base(demo_sim)}/resourceGroups/{RG}/providers/Microsoft.DesktopVirtualization/"
            "hostPools/hp-demo-pooled")
    assert raw(compute, "GET", pool + "?api-version=2024-04-03").status_code == 200
    bad = raw(compute, "GET", pool + "?api-version=2026-04-01")
    assert bad.status_code == 400 and _error(bad)["code"] == "NoRegisteredProviderFound"
    assert "for type 'hostPools'" in _error(bad)["message"]
    image = (f"{_base(demo_sim)}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/"
             f"{GALLERY}/images/{IMAGE}")
    assert raw(compute, "GET", image + "?api-version=2026-03-03").status_code == 200
    bad = raw(compute, "GET", image + "?api-version=2026-04-01")
    assert bad.status_code == 400 and "for type 'galleries/images'" in _error(bad)["message"]


def test_resource_group_unknown_version_is_invalid(demo_sim, compute):
    """ARM's own types answer InvalidApiVersionParameter (Azure/azure-cli#28038)."""
    ok = raw(compute, "GET", f"{_base(demo_sim)}/resourcegroups/{RG}?api-version=2022-09-01")
    assert ok.status_code == 200
    r = raw(compute, "GET", f"{_base(demo_sim)}/resourcegroups/{RG}?api-version=2026-04-01")
    assert r.status_code == 400
    assert _error(r)["code"] == "InvalidApiVersionParameter"
    assert _error(r)["message"].startswith("The api-version '2026-04-01' is invalid. The "
                                           "supported versions are '2025-04-01,")


def test_every_version_the_supported_sdks_send_is_accepted():
    """The SDK range of the collection (azure-mgmt-compute 33.0.0 to 39.0.0,
    azure-mgmt-desktopvirtualization 2.0.0) sends these, per type (read from their request
    builders); the simulator must accept all of them."""
    sent = {
        "Microsoft.Compute/virtualMachines": ["2024-07-01", "2024-11-01", "2025-04-01",
                                              "2025-11-01", "2026-03-01", "2026-04-01"],
        "Microsoft.Compute/disks": ["2023-10-02", "2024-03-02", "2025-01-02", "2026-03-02"],
        "Microsoft.Compute/galleries/images/versions": ["2023-07-03", "2024-03-03", "2025-03-03",
                                                        "2025-12-03", "2026-03-03"],
        "Microsoft.DesktopVirtualization/hostPools/sessionHosts": ["2024-04-03"],
    }
    for rtype, versions in sent.items():
        for version in versions:
            apiversions.check(rtype, version, "westeurope")


@pytest.mark.parametrize("template, expected", [
    ("/subscriptions/{s}/resourceGroups/{r}/providers/Microsoft.Compute/virtualMachines/{v}/start",
     "Microsoft.Compute/virtualMachines"),
    ("/subscriptions/{s}/resourceGroups/{r}/providers/Microsoft.Compute/virtualMachines/{v}"
     "/runCommands", "Microsoft.Compute/virtualMachines/runCommands"),
    ("/subscriptions/{s}/providers/Microsoft.Compute/galleries", "Microsoft.Compute/galleries"),
    ("/subscriptions/{s}/resourcegroups", "Microsoft.Resources/resourceGroups"),
    ("/subscriptions/{s}", "Microsoft.Resources/subscriptions"),
])
def test_resource_type_of_a_route_template(template, expected):
    assert apiversions.resource_type(template) == expected


def test_operation_status_type_from_the_path():
    template = "/subscriptions/{s}/providers/{namespace}/locations/{location}/{operationKind}/{id}"
    assert apiversions.resource_type(template, {"namespace": "Microsoft.Compute",
                                                "operationKind": "capsOperations"}) == \
        "Microsoft.Compute/locations/capsOperations"


# --- $expand=instanceView on VM lists ---------------------------------------------------------
# ComputeRP.json 2026-04-01, VirtualMachines_List / _ListAll: "'instanceView' ... can only be
# specified if a valid $filter option is specified"; Azure's answer without one: 400 BadRequest
# "Expand Instance View is only supported when Virtual Machine Scale Set resource filter is
# applied" (semicons/java_oci_manage#46, Azure/azure-rest-api-specs#42411).
def test_vm_list_with_expand_instance_view_needs_a_scale_set_filter(demo_sim, compute):
    from azure.core.exceptions import HttpResponseError
    for call in (lambda: list(compute.virtual_machines.list(RG, expand="instanceView")),
                 lambda: list(compute.virtual_machines.list_all(expand="instanceView"))):
        with pytest.raises(HttpResponseError) as caught:
            call()
        assert caught.value.status_code == 400
        assert caught.value.error.code == "BadRequest"
        assert caught.value.error.message == ("Expand Instance View is only supported when "
                                              "Virtual Machine Scale Set resource filter is applied")
    scale_set = (f"/subscriptions/{demo_sim.subscription_id}/resourceGroups/{RG}/providers/"
                 "Microsoft.Compute/virtualMachineScaleSets/none")
    listed = list(compute.virtual_machines.list(
        RG, filter=f"'virtualMachineScaleSet/id' eq '{scale_set}'", expand="instanceView"))
    assert listed == []  # a valid filter: the scale set's VMs (the simulator has none)
    plain = list(compute.virtual_machines.list(RG))
    assert plain and all(vm.instance_view is None for vm in plain)


def test_status_only_lists_run_time_status_of_the_subscription(demo_sim, compute):
    """statusOnly=true is a ListAll parameter (ComputeRP.json); the resource-group list has none
    and answers without instance views."""
    statuses = {vm.name: [s.code for s in vm.instance_view.statuses]
                for vm in compute.virtual_machines.list_all(status_only="true")}
    assert statuses[ORIGINAL][-1].startswith("PowerState/")
    assert all(vm.instance_view is None
               for vm in compute.virtual_machines.list(RG, params={"statusOnly": "true"}))


# --- per-operation throttling of disks and galleries ------------------------------------------
# Policy names and windows: the x-ms-ratelimit-remaining-resource headers of the recorded
# Azure/azure-sdk-for-python traffic (../shared/azure-reference/recordings/azure-sdk-for-python/
# test_mgmt_compute_disks.test_compute_shot.yaml, test_mgmt_compute_galleries...yaml); the 429 is
# Compute's OperationNotAllowed with the operation group as target ("Troubleshooting API
# throttling errors", learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/
# troubleshooting-throttling-errors).
@pytest.mark.parametrize("path, header", [
    (f"galleries/{GALLERY}?api-version=2026-03-03",
     "Microsoft.Compute/GetGallery3Min;349,Microsoft.Compute/GetGallery30Min;2499"),
    (f"galleries/{GALLERY}/images/{IMAGE}?api-version=2026-03-03",
     "Microsoft.Compute/GetGalleryImage3Min;599,Microsoft.Compute/GetGalleryImage30Min;2999"),
    (f"galleries/{GALLERY}/images/{IMAGE}/versions/1.0.0?api-version=2026-03-03",
     "Microsoft.Compute/GetGalleryImageVersion3Min;1999,"
     "Microsoft.Compute/GetGalleryImageVersion30Min;9999"),
])
def test_gallery_reads_carry_their_policy_header(path, header):
    from avdsim.testing import SimServer
    with SimServer(scenario="demo", time_scale=6000) as sim:
        compute = sim.compute_client()
        r = raw(compute, "GET", f"{_base(sim)}/resourceGroups/{RG}/providers/Microsoft.Compute/"
                + path)
        assert r.status_code == 200
        assert r.headers["x-ms-ratelimit-remaining-resource"] == header


def test_disk_and_gallery_writes_are_throttled_per_operation_group(tmp_path):
    import yaml
    from avdsim.testing import SimServer
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump({"extends": "demo", "throttling": {"compute": {
        "CreateUpdateDisks3Min": 1, "CreateUpdateGallery3Min": 1}}}), encoding="utf-8")
    with SimServer(scenario=str(scenario), time_scale=60) as sim:
        compute = sim.compute_client()
        group = f"{_base(sim)}/resourceGroups/{RG}/providers/Microsoft.Compute"
        disk = {"location": "westeurope", "sku": {"name": "Premium_LRS"},
                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32}}
        first = raw(compute, "PUT", f"{group}/disks/d-throttle?api-version=2026-03-02", disk)
        assert first.status_code in (200, 202)
        assert first.headers["x-ms-ratelimit-remaining-resource"] == (
            "Microsoft.Compute/CreateUpdateDisks3Min;0,Microsoft.Compute/CreateUpdateDisks30Min;7999")
        _assert_429(sim, f"{group}/disks/d-throttle2?api-version=2026-03-02", disk,
                    "CreateUpdateDisks3Min")
        gallery = {"location": "westeurope", "properties": {}}
        assert raw(compute, "PUT", f"{group}/galleries/gal_t1?api-version=2026-03-03",
                   gallery).status_code in (200, 201)
        _assert_429(sim, f"{group}/galleries/gal_t2?api-version=2026-03-03", gallery,
                    "CreateUpdateGallery3Min")
        sim.advance(200)  # the 3-minute window slides with simulated time
        assert raw(compute, "PUT", f"{group}/galleries/gal_t2?api-version=2026-03-03",
                   gallery).status_code in (200, 201)


def _assert_429(sim, url, body, group):
    """One request without the SDK's retry policy: Compute's 429 and its headers."""
    import requests
    token = sim.credential().get_token(sim.arm_endpoint + "/.default").token
    r = requests.put(url, json=body, headers={"Authorization": "Bearer " + token},
                     verify=sim.info["ca_bundle"], timeout=10)
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["code"] == "OperationNotAllowed"
    assert err["details"][0]["code"] == "TooManyRequests" and err["details"][0]["target"] == group
    assert "Retry-After" in r.headers or "retry-after-ms" in r.headers
    assert f"Microsoft.Compute/{group};0" in r.headers["x-ms-ratelimit-remaining-resource"]


# --- unknown members of request bodies --------------------------------------------------------
# CRP and DiskRP: 400 InvalidRequestContent "... Could not find member 'x' on object of type
# 'y'. Path 'x' ..." (Azure/azure-sdk-for-net#3487, Azure/azure-sdk-for-java#646); read-only
# members sent back are ignored (Azure/azure-rest-api-specs#286).
def test_unknown_member_of_a_disk_is_refused(demo_sim, compute):
    url = (f"{_base(demo_sim)}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/"
           "d-unknown?api-version=2026-03-02")
    body = {"location": "westeurope", "sku": {"name": "Premium_LRS"}, "accountType": "x",
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32}}
    r = raw(compute, "PUT", url, body)
    assert r.status_code == 400
    assert _error(r) == {"code": "InvalidRequestContent", "message": (
        "The request content was invalid and could not be deserialized: 'Could not find member "
        "'accountType' on object of type 'ResourceDefinition'. Path 'accountType'.'.")}
    del body["accountType"]
    body["properties"]["creationData"]["sourceBlob"] = "x"
    r = raw(compute, "PUT", url, body)
    assert r.status_code == 400
    assert ("Could not find member 'sourceBlob' on object of type 'CreationData'. Path "
            "'properties.creationData.sourceBlob'.") in _error(r)["message"]
    from azure.core.exceptions import ResourceNotFoundError
    with pytest.raises(ResourceNotFoundError):
        compute.disks.get(RG, "d-unknown")  # refused before anything was made


def test_unknown_member_of_a_vm_update_is_refused_read_only_ones_ignored(demo_sim, compute):
    r = raw(compute, "PATCH", _vm(demo_sim, "avd-demo-1") + "?api-version=2026-04-01",
            {"properties": {"hardwareProfile": {"vmSize": "Standard_D4s_v5", "cores": 4}}})
    assert r.status_code == 400 and _error(r)["code"] == "InvalidRequestContent"
    assert ("Could not find member 'cores' on object of type 'HardwareProfile'. Path "
            "'properties.hardwareProfile.cores'.") in _error(r)["message"]
    # a VM read and sent back (what an SDK does): read-only members are ignored
    vm = raw(compute, "GET", _vm(demo_sim, "avd-demo-1") + "?api-version=2026-04-01").json()
    vm["tags"] = dict(vm.get("tags") or {}, strict="yes")
    assert "provisioningState" in vm["properties"] and "id" in vm
    r = raw(compute, "PUT", _vm(demo_sim, "avd-demo-1") + "?api-version=2026-04-01", vm)
    assert r.status_code in (200, 201), r.text()
    assert compute.virtual_machines.get(RG, "avd-demo-1").tags["strict"] == "yes"


def test_request_member_table_matches_the_specs():
    """The committed table is what tools/gen_request_schemas.py makes from the specs."""
    import subprocess
    import sys
    root = __file__.rsplit("/simulator/", 1)[0]
    done = subprocess.run([sys.executable, root + "/tools/gen_request_schemas.py", "--check"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, "regenerate: python tools/gen_request_schemas.py " + done.stderr
