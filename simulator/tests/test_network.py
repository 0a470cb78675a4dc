"""Microsoft.Network through azure-mgmt-network: virtual networks with inline subnets, subnets
as child resources, network security groups and network interfaces; long-running PUT and
DELETE; the references Azure checks and its refusals.

Sources (azure-rest-api-specs specification/network/resource-manager/Microsoft.Network/stable/
2024-05-01): virtualNetwork.json, networkSecurityGroup.json (example
NetworkSecurityGroupCreate.json for defaultSecurityRules), networkInterface.json. Error bodies
as Azure sends them: NetcfgSubnetRangeOutsideVnet / NetcfgSubnetRangesOverlap
(MicrosoftDocs/azure-docs#123869), InUseSubnetCannotBeDeleted (hashicorp/terraform#16093,
microsoft/nav-arm-templates#161), InUseNetworkSecurityGroupCannotBeDeleted
(pulumi/pulumi-azure-native#3051), InvalidResourceReference and NicInUse (the wording the
simulator already used for VM-owned NICs)."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from compute_helpers import PASSWORD, RG, raw

LOC = "westeurope"
NET = "/providers/Microsoft.Network"


@pytest.fixture(scope="module")
def net(demo_sim):
    return demo_sim.network_client()


def _rg_id(sim):
    return f"/subscriptions/{sim.subscription_id}/resourceGroups/{RG}"


def vnet_body(space=("10.50.0.0/16",), subnets=(("a", "10.50.1.0/24"),), **extra):
    return {"location": LOC, "properties": {
        "addressSpace": {"addressPrefixes": list(space)},
        "subnets": [{"name": n, "properties": {"addressPrefix": p, **extra.get(n, {})}}
                    for n, p in subnets]}}


def nic_body(subnet_id, nsg_id=None, **ipc_props):
    props = {"ipConfigurations": [{"name": "ipconfig1", "properties": {
        "subnet": {"id": subnet_id}, **ipc_props}}]}
    if nsg_id:
        props["networkSecurityGroup"] = {"id": nsg_id}
    return {"location": LOC, "properties": props}


def _refused(call, status=400):
    with pytest.raises(HttpResponseError) as exc:
        poller = call()
        poller.result()
    assert exc.value.status_code == status, exc.value
    return exc.value.error.code, exc.value.error.message


# -- virtual networks and subnets ----------------------------------------------------------
def test_vnet_put_is_long_running_201_updating_then_succeeded(demo_sim, net):
    url = f"{demo_sim.arm_endpoint}{_rg_id(demo_sim)}{NET}/virtualNetworks/vnet-lro?api-version=2024-05-01"
    resp = raw(net, "PUT", url, vnet_body())
    assert resp.status_code == 201
    body = resp.json()
    assert body["properties"]["provisioningState"] == "Updating"
    assert "/providers/Microsoft.Network/locations/westeurope/operations/" in \
        resp.headers["Azure-AsyncOperation"]
    demo_sim.advance(demo_sim.state()["durations"]["network_put"] + 1)
    vnet = net.virtual_networks.get(RG, "vnet-lro")
    assert vnet.provisioning_state == "Succeeded"
    assert vnet.subnets[0].provisioning_state == "Succeeded"
    again = raw(net, "PUT", url, vnet_body())  # an update answers 200
    assert again.status_code == 200
    net.virtual_networks.begin_delete(RG, "vnet-lro").result()


def test_vnet_crud_with_inline_subnets(demo_sim, net):
    vnet = net.virtual_networks.begin_create_or_update(
        RG, "vnet-crud", vnet_body(subnets=(("a", "10.50.1.0/24"), ("b", "10.50.2.0/24")))
    ).result()
    assert vnet.provisioning_state == "Succeeded" and vnet.location == LOC
    assert vnet.address_space.address_prefixes == ["10.50.0.0/16"]
    assert [(s.name, s.address_prefix) for s in vnet.subnets] == [("a", "10.50.1.0/24"),
                                                                  ("b", "10.50.2.0/24")]
    assert vnet.subnets[0].id == f"{vnet.id}/subnets/a"
    assert vnet.subnets[0].type == "Microsoft.Network/virtualNetworks/subnets"
    assert vnet.resource_guid and vnet.etag
    assert "vnet-crud" in [v.name for v in net.virtual_networks.list(RG)]
    assert "vnet-crud" in [v.name for v in net.virtual_networks.list_all()]
    # a PUT is the whole resource: the subnet left out is removed
    net.virtual_networks.begin_create_or_update(RG, "vnet-crud", vnet_body()).result()
    assert [s.name for s in net.virtual_networks.get(RG, "vnet-crud").subnets] == ["a"]
    net.virtual_networks.begin_delete(RG, "vnet-crud").result()
    with pytest.raises(ResourceNotFoundError):
        net.virtual_networks.get(RG, "vnet-crud")
    # deleting what is not there: 204, no error
    net.virtual_networks.begin_delete(RG, "vnet-crud").result()


def test_subnet_child_resource_crud(net):
    net.virtual_networks.begin_create_or_update(RG, "vnet-sub", vnet_body()).result()
    sub = net.subnets.begin_create_or_update(
        RG, "vnet-sub", "c", {"properties": {"addressPrefix": "10.50.3.0/24"}}).result()
    assert sub.provisioning_state == "Succeeded" and sub.address_prefix == "10.50.3.0/24"
    assert net.subnets.get(RG, "vnet-sub", "c").id.endswith("/virtualNetworks/vnet-sub/subnets/c")
    assert sorted(s.name for s in net.subnets.list(RG, "vnet-sub")) == ["a", "c"]
    assert sorted(s.name for s in net.virtual_networks.get(RG, "vnet-sub").subnets) == ["a", "c"]
    net.subnets.begin_delete(RG, "vnet-sub", "c").result()
    with pytest.raises(ResourceNotFoundError):
        net.subnets.get(RG, "vnet-sub", "c")
    with pytest.raises(ResourceNotFoundError):
        net.subnets.get(RG, "vnet-none", "a")
    net.virtual_networks.begin_delete(RG, "vnet-sub").result()


@pytest.mark.parametrize("space,subnets,code,message", [
    (["10.50.0.0/16"], [("a", "10.60.1.0/24")], "NetcfgSubnetRangeOutsideVnet",
     "Subnet 'a' is not valid because its IP address range is outside the IP address range "
     "of virtual network 'vnet-bad'."),
    (["10.50.0.0/16"], [("a", "10.50.1.0/24"), ("b", "10.50.1.128/25")],
     "NetcfgSubnetRangesOverlap",
     "Subnet 'b' is not valid because its IP address range overlaps with that of an existing "
     "subnet in virtual network 'vnet-bad'."),
    (["10.50.0.0/16"], [("a", "10.50.1.0/33")], "InvalidAddressPrefixFormat", None),
    (["10.50.0.0/16"], [("a", "10.50.1.7/24")], "InvalidCIDRNotation", None),
    (["10.50.0.1/16"], [], "InvalidCIDRNotation", None),
])
def test_vnet_address_layout_refusals(net, space, subnets, code, message):
    got_code, got_message = _refused(lambda: net.virtual_networks.begin_create_or_update(
        RG, "vnet-bad", vnet_body(space=space, subnets=subnets)))
    assert got_code == code
    if message:
        assert got_message == message
    with pytest.raises(ResourceNotFoundError):  # nothing was stored
        net.virtual_networks.get(RG, "vnet-bad")


def test_subnet_put_refuses_outside_and_overlapping_prefixes(net):
    net.virtual_networks.begin_create_or_update(RG, "vnet-sp", vnet_body()).result()
    code, _msg = _refused(lambda: net.subnets.begin_create_or_update(
        RG, "vnet-sp", "x", {"properties": {"addressPrefix": "192.168.0.0/24"}}))
    assert code == "NetcfgSubnetRangeOutsideVnet"
    code, _msg = _refused(lambda: net.subnets.begin_create_or_update(
        RG, "vnet-sp", "x", {"properties": {"addressPrefix": "10.50.0.0/20"}}))
    assert code == "NetcfgSubnetRangesOverlap"
    assert [s.name for s in net.subnets.list(RG, "vnet-sp")] == ["a"]
    net.virtual_networks.begin_delete(RG, "vnet-sp").result()


def test_network_writes_need_the_resource_group_and_keep_their_location(net):
    code, _msg = _refused(lambda: net.virtual_networks.begin_create_or_update(
        "rg-nope", "v", vnet_body()), status=404)
    assert code == "ResourceGroupNotFound"
    net.virtual_networks.begin_create_or_update(RG, "vnet-loc", vnet_body()).result()
    moved = vnet_body()
    moved["location"] = "northeurope"
    code, _msg = _refused(lambda: net.virtual_networks.begin_create_or_update(
        RG, "vnet-loc", moved), status=409)
    assert code == "InvalidResourceLocation"
    net.virtual_networks.begin_delete(RG, "vnet-loc").result()


# -- network security groups ---------------------------------------------------------------
RDP = {"name": "allow-rdp", "properties": {"protocol": "Tcp", "access": "Allow",
                                           "direction": "Inbound", "priority": 100,
                                           "sourceAddressPrefix": "10.0.0.0/8",
                                           "destinationPortRange": "3389"}}


def test_nsg_has_rules_and_the_six_default_rules(demo_sim, net):
    nsg = net.network_security_groups.begin_create_or_update(
        RG, "nsg-rules", {"location": LOC, "properties": {"securityRules": [RDP]}}).result()
    assert nsg.provisioning_state == "Succeeded"
    rule = nsg.security_rules[0]
    assert (rule.name, rule.protocol, rule.access, rule.direction, rule.priority,
            rule.destination_port_range) == ("allow-rdp", "Tcp", "Allow", "Inbound", 100, "3389")
    assert rule.id == f"{nsg.id}/securityRules/allow-rdp"
    # defaultSecurityRules exactly as NetworkSecurityGroupCreate.json (2024-05-01) shows them
    defaults = [(r.name, r.priority, r.direction, r.access, r.source_address_prefix,
                 r.destination_address_prefix) for r in nsg.default_security_rules]
    assert defaults == [
        ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
        ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
        ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
        ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
        ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
        ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*")]
    assert nsg.default_security_rules[0].id == \
        f"{nsg.id}/defaultSecurityRules/AllowVnetInBound"
    assert "nsg-rules" in [n.name for n in net.network_security_groups.list_all()]
    net.network_security_groups.begin_delete(RG, "nsg-rules").result()
    assert "nsg-rules" not in [n.name for n in net.network_security_groups.list(RG)]


@pytest.mark.parametrize("rules,code", [
    ([{**RDP, "properties": {**RDP["properties"], "priority": 50}}], "SecurityRuleInvalidPriority"),
    ([{**RDP, "properties": {**RDP["properties"], "priority": 4097}}],
     "SecurityRuleInvalidPriority"),
    ([RDP, {**RDP, "name": "again"}], "SecurityRuleConflict"),
    ([{**RDP, "properties": {**RDP["properties"], "protocol": "Http"}}],
     "SecurityRuleParameterContainsUnsupportedValue"),
])
def test_nsg_rule_refusals(net, rules, code):
    got, _msg = _refused(lambda: net.network_security_groups.begin_create_or_update(
        RG, "nsg-bad", {"location": LOC, "properties": {"securityRules": rules}}))
    assert got == code


# -- network interfaces --------------------------------------------------------------------
def test_nic_in_subnet_with_nsg_and_the_references_azure_reports(net):
    vnet = net.virtual_networks.begin_create_or_update(RG, "vnet-nic", vnet_body()).result()
    subnet_id = vnet.subnets[0].id
    nsg = net.network_security_groups.begin_create_or_update(
        RG, "nsg-nic", {"location": LOC, "properties": {"securityRules": []}}).result()
    nic = net.network_interfaces.begin_create_or_update(
        RG, "nic-a", nic_body(subnet_id, nsg.id)).result()
    ipc = nic.ip_configurations[0]
    assert nic.provisioning_state == "Succeeded"
    assert (ipc.subnet.id, ipc.private_ip_allocation_method, ipc.private_ip_address,
            ipc.primary) == (subnet_id, "Dynamic", "10.50.1.4", True)  # .0-.3 are reserved
    assert nic.network_security_group.id == nsg.id and nic.virtual_machine is None
    second = net.network_interfaces.begin_create_or_update(
        RG, "nic-b", nic_body(subnet_id, privateIPAllocationMethod="Static",
                              privateIPAddress="10.50.1.20")).result()
    assert second.ip_configurations[0].private_ip_address == "10.50.1.20"
    # the back references Azure computes
    subnet = net.subnets.get(RG, "vnet-nic", "a")
    assert sorted(i.id for i in subnet.ip_configurations) == sorted(
        [nic.ip_configurations[0].id, second.ip_configurations[0].id])
    assert [n.id for n in net.network_security_groups.get(RG, "nsg-nic").network_interfaces] \
        == [nic.id]
    # the refusals while they are in use
    code, msg = _refused(lambda: net.subnets.begin_delete(RG, "vnet-nic", "a"))
    assert code == "InUseSubnetCannotBeDeleted"
    assert msg.startswith("Subnet a is in use by ") and "aka.ms/deletesubnet" in msg
    code, _msg = _refused(lambda: net.virtual_networks.begin_delete(RG, "vnet-nic"))
    assert code == "InUseSubnetCannotBeDeleted"
    code, _msg = _refused(lambda: net.virtual_networks.begin_create_or_update(
        RG, "vnet-nic", vnet_body(subnets=(("other", "10.50.9.0/24"),))))
    assert code == "InUseSubnetCannotBeDeleted"  # a PUT that drops a used subnet
    code, msg = _refused(lambda: net.subnets.begin_create_or_update(
        RG, "vnet-nic", "a", {"properties": {"addressPrefix": "10.50.4.0/24"}}))
    assert (code, msg) == ("InUsePrefixCannotBeDeleted", "IpPrefix 10.50.1.0/24 on Subnet a "
                                                         "has active allocations and cannot be "
                                                         "deleted.")
    code, msg = _refused(lambda: net.network_security_groups.begin_delete(RG, "nsg-nic"))
    assert code == "InUseNetworkSecurityGroupCannotBeDeleted"
    assert nic.id in msg and "aka.ms/deletensg" in msg
    # released in order, everything goes
    net.network_interfaces.begin_delete(RG, "nic-a").result()
    net.network_interfaces.begin_delete(RG, "nic-b").result()
    net.network_security_groups.begin_delete(RG, "nsg-nic").result()
    net.subnets.begin_delete(RG, "vnet-nic", "a").result()
    net.virtual_networks.begin_delete(RG, "vnet-nic").result()
    assert "nic-a" not in [n.name for n in net.network_interfaces.list(RG)]


def test_nsg_on_a_subnet_blocks_its_deletion(net):
    nsg = net.network_security_groups.begin_create_or_update(
        RG, "nsg-sub", {"location": LOC, "properties": {"securityRules": []}}).result()
    vnet = net.virtual_networks.begin_create_or_update(
        RG, "vnet-nsg", vnet_body(a={"networkSecurityGroup": {"id": nsg.id}})).result()
    assert vnet.subnets[0].network_security_group.id == nsg.id
    assert [s.id for s in net.network_security_groups.get(RG, "nsg-sub").subnets] == \
        [vnet.subnets[0].id]
    code, msg = _refused(lambda: net.network_security_groups.begin_delete(RG, "nsg-sub"))
    assert code == "InUseNetworkSecurityGroupCannotBeDeleted" and vnet.subnets[0].id in msg
    net.virtual_networks.begin_delete(RG, "vnet-nsg").result()
    net.network_security_groups.begin_delete(RG, "nsg-sub").result()


def test_nic_refusals(demo_sim, net):
    vnet = net.virtual_networks.begin_create_or_update(RG, "vnet-nr", vnet_body()).result()
    subnet_id = vnet.subnets[0].id
    missing_subnet = subnet_id.replace("/subnets/a", "/subnets/zz")
    nic_id = f"{_rg_id(demo_sim)}{NET}/networkInterfaces/nic-bad"
    code, msg = _refused(lambda: net.network_interfaces.begin_create_or_update(
        RG, "nic-bad", nic_body(missing_subnet)))
    assert code == "InvalidResourceReference"
    assert msg.startswith(f"Resource {missing_subnet} referenced by resource {nic_id} was "
                          "not found.")
    missing_nsg = f"{_rg_id(demo_sim)}{NET}/networkSecurityGroups/nsg-none"
    code, _msg = _refused(lambda: net.network_interfaces.begin_create_or_update(
        RG, "nic-bad", nic_body(subnet_id, missing_nsg)))
    assert code == "InvalidResourceReference"
    elsewhere = nic_body(subnet_id)
    elsewhere["location"] = "northeurope"  # the subnet's VNet is in westeurope
    assert _refused(lambda: net.network_interfaces.begin_create_or_update(
        RG, "nic-bad", elsewhere))[0] == "InvalidResourceReference"
    assert _refused(lambda: net.network_interfaces.begin_create_or_update(
        RG, "nic-bad", nic_body(subnet_id, privateIPAllocationMethod="Static",
                                privateIPAddress="10.99.0.5")))[0] == "PrivateIPAddressNotInSubnet"
    net.network_interfaces.begin_create_or_update(
        RG, "nic-ok", nic_body(subnet_id, privateIPAllocationMethod="Static",
                               privateIPAddress="10.50.1.9")).result()
    assert _refused(lambda: net.network_interfaces.begin_create_or_update(
        RG, "nic-bad", nic_body(subnet_id, privateIPAllocationMethod="Static",
                                privateIPAddress="10.50.1.9")))[0] == "PrivateIPAddressInUse"
    with pytest.raises(ResourceNotFoundError):
        net.network_interfaces.get(RG, "nic-bad")
    net.network_interfaces.begin_delete(RG, "nic-ok").result()
    net.virtual_networks.begin_delete(RG, "vnet-nr").result()


def test_vm_with_an_existing_nic(demo_sim, net, compute):
    subnet_id = net.subnets.get(RG, "vnet-avd", "snet-hosts").id
    nic = net.network_interfaces.begin_create_or_update(
        RG, "nic-for-vm", nic_body(subnet_id)).result()
    vm_body = {"location": LOC, "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": {"id": (
            f"{_rg_id(demo_sim)}/providers/Microsoft.Compute/galleries/gal_avd_demo/images/"
            "win11-avd/versions/1.0.0")},
            "osDisk": {"createOption": "FromImage", "deleteOption": "Delete",
                       "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "osProfile": {"computerName": "vm-nic", "adminUsername": "hostadmin",
                      "adminPassword": PASSWORD},
        "networkProfile": {"networkInterfaces": [{"id": nic.id}]}}}
    vm = compute.virtual_machines.begin_create_or_update(RG, "vm-nic", vm_body).result()
    assert vm.network_profile.network_interfaces[0].id.lower() == nic.id.lower()
    attached = net.network_interfaces.get(RG, "nic-for-vm")
    assert attached.virtual_machine.id.lower() == vm.id.lower()
    code, msg = _refused(lambda: net.network_interfaces.begin_delete(RG, "nic-for-vm"))
    assert code == "NicInUse" and vm.id in msg
    compute.virtual_machines.begin_delete(RG, "vm-nic").result()
    assert net.network_interfaces.get(RG, "nic-for-vm").virtual_machine is None  # Detach
    net.network_interfaces.begin_delete(RG, "nic-for-vm").result()
    with pytest.raises(ResourceNotFoundError):
        net.network_interfaces.get(RG, "nic-for-vm")


def test_vm_owned_nics_still_work_and_leave_with_their_vm(demo_sim, net, compute):
    from compute_helpers import image_id, vm_from_image_body
    body = vm_from_image_body(demo_sim.subscription_id, "vm-owned",
                              image_id(demo_sim.subscription_id, "1.0.0"))
    compute.virtual_machines.begin_create_or_update(RG, "vm-owned", body).result()
    nic = net.network_interfaces.get(RG, "vm-owned-nic")
    assert nic.virtual_machine.id.endswith("/virtualMachines/vm-owned")
    ip = nic.ip_configurations[0].private_ip_address
    assert ip.startswith("10.20.1.")
    assert nic.ip_configurations[0].id in [
        i.id for i in net.subnets.get(RG, "vnet-avd", "snet-hosts").ip_configurations]
    compute.virtual_machines.begin_delete(RG, "vm-owned").result()
    with pytest.raises(ResourceNotFoundError):  # deleteOption Delete
        net.network_interfaces.get(RG, "vm-owned-nic")


def test_vm_nic_configuration_needs_a_subnet_in_the_vm_region(demo_sim, net, compute):
    from compute_helpers import image_id, vm_from_image_body
    body = vm_from_image_body(demo_sim.subscription_id, "vm-far",
                              image_id(demo_sim.subscription_id, "1.0.0"))
    body["location"] = "northeurope"  # vnet-avd is in westeurope
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_create_or_update(RG, "vm-far", body).result()
    assert exc.value.status_code == 400 and exc.value.error.code == "InvalidResourceReference"
    with pytest.raises(ResourceNotFoundError):
        net.network_interfaces.get(RG, "vm-far-nic")
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(RG, "vm-far")
