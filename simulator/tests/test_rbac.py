"""Azure RBAC in the simulator: built-in and custom roles, role assignments, the Permissions API
and the authorization of every ARM request (403 AuthorizationFailed, LinkedAuthorizationFailed),
driven through the real SDK pipeline."""

import uuid

import pytest
import yaml

from avdsim.rbac.actions import rbac_actions, request_action
from avdsim.rbac.roles import BUILTIN, allows, matches, scope_covers
from avdsim.scenario import load as load_scenario
from avdsim.testing import SimServer
from compute_helpers import ORIGINAL, RG, image_id, raw as _raw, vm_from_image_body

FAST = 6000.0
API = "api-version=2022-04-01"
AUTHZ = "/providers/Microsoft.Authorization"
SUB = load_scenario("demo")["subscription_id"]
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
VM_ID = f"{RG_ID}/providers/Microsoft.Compute/virtualMachines/{ORIGINAL}"


# -- pure: matching, scopes, the action of a request ---------------------------------------------
@pytest.mark.parametrize("pattern,action,expected", [
    ("*", "Microsoft.Compute/virtualMachines/start/action", True),
    ("Microsoft.Compute/*", "microsoft.compute/virtualmachines/write", True),
    ("Microsoft.Compute/*", "Microsoft.Network/networkInterfaces/write", False),
    ("*/read", "Microsoft.DesktopVirtualization/hostpools/read", True),
    ("*/read", "Microsoft.DesktopVirtualization/hostpools/write", False),
    ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", True),
    ("Microsoft.Compute/virtualMachines/read", "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", True),
    ("Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/readx", False),
    ("Microsoft.Compute/disks/read", "Microsoft.Compute/disksX/read", False),
])
def test_wildcards(pattern, action, expected):
    assert matches(pattern, action) is expected


def test_not_actions_subtract_within_a_role_only():
    contributor = {"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Write"]}
    uaa = {"actions": ["Microsoft.Authorization/*"], "notActions": []}
    assert not allows([contributor], "Microsoft.Authorization/roleAssignments/write")
    assert allows([contributor], "Microsoft.Compute/virtualMachines/write")
    assert allows([contributor, uaa], "Microsoft.Authorization/roleAssignments/write")
    assert not allows([], "Microsoft.Compute/virtualMachines/read")


@pytest.mark.parametrize("assigned,scope,expected", [
    ("/subscriptions/s", "/subscriptions/s/resourceGroups/rg/providers/X/y/z", True),
    ("/subscriptions/S/resourcegroups/RG", "/subscriptions/s/resourceGroups/rg", True),
    ("/subscriptions/s/resourceGroups/rg", "/subscriptions/s/resourceGroups/rg2", False),
    ("/subscriptions/s/resourceGroups/rg", "/subscriptions/s", False),
    ("/", "/subscriptions/s", True),
])
def test_scope_inheritance(assigned, scope, expected):
    assert scope_covers(assigned, scope) is expected


_P = "/subscriptions/s/resourceGroups/rg/providers/"


@pytest.mark.parametrize("method,path,action,scope", [
    ("GET", _P + "Microsoft.Compute/virtualMachines/vm", "Microsoft.Compute/virtualMachines/read",
     _P + "Microsoft.Compute/virtualMachines/vm"),
    ("POST", _P + "Microsoft.Compute/virtualMachines/vm/deallocate",
     "Microsoft.Compute/virtualMachines/deallocate/action",
     _P + "Microsoft.Compute/virtualMachines/vm"),
    ("PUT", _P + "Microsoft.Network/virtualNetworks/v/subnets/s",
     "Microsoft.Network/virtualNetworks/subnets/write",
     _P + "Microsoft.Network/virtualNetworks/v/subnets/s"),
    ("DELETE", _P + "Microsoft.Network/networkSecurityGroups/n",
     "Microsoft.Network/networkSecurityGroups/delete", _P + "Microsoft.Network/networkSecurityGroups/n"),
    ("GET", "/subscriptions/s/resources", "Microsoft.Resources/subscriptions/resources/read",
     "/subscriptions/s/resources"),
    ("GET", "/subscriptions/s/resourcegroups/rg/resources",
     "Microsoft.Resources/subscriptions/resourcegroups/resources/read",
     "/subscriptions/s/resourcegroups/rg/resources"),
    ("GET", "/subscriptions/s/providers/Microsoft.Compute/locations/westeurope/DiskOperations/1",
     "Microsoft.Compute/locations/DiskOperations/read",
     "/subscriptions/s/providers/Microsoft.Compute/locations/westeurope/DiskOperations/1"),
    ("PUT", _P + "Microsoft.Compute/virtualMachines/vm" + AUTHZ + "/roleAssignments/a",
     "Microsoft.Authorization/roleAssignments/write",
     _P + "Microsoft.Compute/virtualMachines/vm" + AUTHZ + "/roleAssignments/a"),
])
def test_action_of_any_route(method, path, action, scope):
    assert request_action(method, path) == (action, scope)


_T = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"


@pytest.mark.parametrize("operation,expected", [
    ("POST " + _T + "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/retrieveRegistrationToken",
     {"microsoft.desktopvirtualization/hostpools/retrieveregistrationtoken/action"}),
    ("GET " + _T + "{resourceProviderNamespace}/{resourceType}/{resourceName}/providers/"
     "Microsoft.Authorization/permissions", set()),
    ("PUT " + _T + "{resourceProviderNamespace}/{resourceType}/{resourceName}/providers/"
     "Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
     {"microsoft.authorization/roleassignments/write"}),
])
def test_action_of_a_metrics_template(operation, expected):
    assert rbac_actions(operation) == expected


# -- through the SDK ---------------------------------------------------------------------------
def _scenario(tmp_path, rbac: dict) -> str:
    path = tmp_path / f"rbac-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump({"extends": "demo", "rbac": rbac}))
    return str(path)


def _role(name, actions, not_actions=()):
    return {"Name": name, "IsCustom": True, "Actions": list(actions),
            "NotActions": list(not_actions), "DataActions": [], "NotDataActions": [],
            "AssignableScopes": [f"/subscriptions/{SUB}"]}


@pytest.fixture
def sim_with(tmp_path):
    sims = []

    def start(rbac):
        sim = SimServer(scenario=_scenario(tmp_path, rbac), time_scale=FAST).start()
        sims.append(sim)
        return sim, sim.compute_client()
    yield start
    for sim in sims:
        sim.stop()


@pytest.fixture(scope="module")
def owner():
    with SimServer(scenario="demo", time_scale=FAST) as sim:
        yield sim, sim.compute_client()


def raw(compute, method, path, body=None):
    """A request through the SDK client's pipeline (its token, its retry policy)."""
    return _raw(compute, method, compute._config.base_url + path, body)  # pylint: disable=protected-access


def _error(resp):
    return resp.status_code, resp.json()["error"]


def test_default_owner_at_subscription(owner):
    sim, compute = owner
    resp = raw(compute, "GET", f"/subscriptions/{SUB}{AUTHZ}/roleAssignments?{API}")
    assert resp.status_code == 200
    # the demo scenario: the service principal is Owner, its Entra user a Contributor
    by_type = {a["properties"]["principalType"]: a for a in resp.json()["value"]}
    assert sorted(by_type) == ["ServicePrincipal", "User"]
    a = by_type["ServicePrincipal"]
    assert a["properties"]["scope"] == f"/subscriptions/{SUB}"
    assert a["properties"]["roleDefinitionId"].endswith("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
    assert a["properties"]["principalId"] == str(uuid.uuid5(uuid.NAMESPACE_URL, sim.info["client_id"]))
    assert by_type["User"]["properties"]["roleDefinitionId"].endswith(
        "b24988ac-6180-42a0-ab88-20f7382dd24c")  # Contributor
    perms = raw(compute, "GET", f"{RG_ID}{AUTHZ}/permissions?{API}").json()["value"]
    assert perms == [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_roles(owner, name):
    _sim, compute = owner
    guid = BUILTIN[name][0]
    body = raw(compute, "GET", f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions/{guid}?{API}").json()
    assert body["properties"]["roleName"] == name and body["properties"]["type"] == "BuiltInRole"
    assert body["id"] == f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions/{guid}"
    found = raw(compute, "GET", f"{RG_ID}{AUTHZ}/roleDefinitions?$filter=roleName eq '{name}'"
                f"&{API}").json()["value"]
    assert [d["name"] for d in found] == [guid]


def test_role_assignment_and_definition_api(owner):
    _sim, compute = owner
    base = f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions"
    rid = str(uuid.uuid4())
    body = {"properties": {"roleName": "vm starter", "type": "CustomRole",
                           "assignableScopes": [f"/subscriptions/{SUB}"],
                           "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/*"],
                                            "notActions": []}]}}
    assert raw(compute, "PUT", f"{base}/{rid}?{API}", body).status_code == 201
    dup = raw(compute, "PUT", f"{base}/{uuid.uuid4()}?{API}", body)
    assert _error(dup) == (409, {"code": "RoleDefinitionWithSameNameExists", "message": dup.json()[
        "error"]["message"]})
    principal = str(uuid.uuid4())
    ra = f"{RG_ID}{AUTHZ}/roleAssignments"
    name = str(uuid.uuid4())
    assign = {"properties": {"roleDefinitionId": f"{base}/{rid}", "principalId": principal}}
    assert raw(compute, "PUT", f"{ra}/{name}?{API}", assign).status_code == 201
    assert _error(raw(compute, "PUT", f"{ra}/{uuid.uuid4()}?{API}", assign))[1]["code"] == \
        "RoleAssignmentExists"
    assert _error(raw(compute, "PUT", f"{ra}/not-a-guid?{API}", assign))[0] == 400
    assert _error(raw(compute, "DELETE", f"{base}/{rid}?{API}"))[1]["code"] == \
        "RoleDefinitionHasAssignments"
    mine = raw(compute, "GET", f"/subscriptions/{SUB}{AUTHZ}/roleAssignments?$filter=principalId eq "
               f"'{principal}'&{API}").json()["value"]
    assert [a["name"] for a in mine] == [name]
    # atScope(): at or above the subscription; the resource group's assignment is below.
    at_sub = raw(compute, "GET", f"/subscriptions/{SUB}{AUTHZ}/roleAssignments?$filter=atScope()"
                 f"&{API}").json()["value"]
    assert name not in {a["name"] for a in at_sub}
    at_vm = raw(compute, "GET", f"{VM_ID}{AUTHZ}/roleAssignments?$filter=atScope()&{API}").json()
    assert name in {a["name"] for a in at_vm["value"]}
    assert raw(compute, "DELETE", f"{ra}/{name}?{API}").status_code == 200
    assert raw(compute, "DELETE", f"{ra}/{name}?{API}").status_code == 204
    assert raw(compute, "DELETE", f"{base}/{rid}?{API}").status_code == 200
    owner_guid = BUILTIN["Owner"][0]
    assert _error(raw(compute, "DELETE", f"{base}/{owner_guid}?{API}"))[0] == 403


def test_denied_request_gets_azure_body_and_changes_nothing(sim_with):
    sim, compute = sim_with({
        "role_definitions": [_role("ops", ["*/read", "Microsoft.Compute/*"],
                                   ["Microsoft.Compute/virtualMachines/delete"])],
        "role_assignments": [{"role": "ops", "scope": RG_ID}]})
    assert compute.virtual_machines.get(RG, ORIGINAL).name == ORIGINAL
    resp = raw(compute, "DELETE", f"{VM_ID}?api-version=2024-07-01")
    status, err = _error(resp)
    info = sim.info
    assert status == 403 and err == {"code": "AuthorizationFailed", "message": (
        f"The client '{info['client_id']}' with object id '{_oid(sim)}' does not have "
        f"authorization to perform action 'Microsoft.Compute/virtualMachines/delete' over scope "
        f"'{VM_ID}' or the scope is invalid. If access was recently granted, please refresh "
        "your credentials.")}
    assert VM_ID.lower() in _ids(sim)
    # Scope: the role is on the resource group only; the subscription's resource groups list is
    # not readable, a resource group outside is not either.
    other = raw(compute, "GET", f"/subscriptions/{SUB}/resourcegroups/rg-other?api-version=2021-04-01")
    assert _error(other)[0] == 403
    perms = raw(compute, "GET", f"{RG_ID}{AUTHZ}/permissions?{API}").json()["value"]
    assert perms[0]["notActions"] == ["Microsoft.Compute/virtualMachines/delete"]


def _ids(sim):
    return {r["id"].lower() for r in sim.state()["resources"]}


def _oid(sim):
    return sim.state()["rbac"]["role_assignments"][0]["properties"]["principalId"]


def test_role_at_resource_scope_covers_that_resource_only(sim_with):
    _sim, compute = sim_with({"role_assignments": [{"role": "Reader", "scope": VM_ID}]})
    assert compute.virtual_machines.get(RG, ORIGINAL).name == ORIGINAL
    assert _error(raw(compute, "GET", f"{RG_ID}/providers/Microsoft.Compute/disks?"
                      "api-version=2025-01-02"))[0] == 403
    # A collection below a readable scope lists only what the caller may read.
    listed = [vm.name for vm in compute.virtual_machines.list(RG)]
    assert listed == [ORIGINAL]
    assert len(list(compute.virtual_machines.list_all())) == 1


def test_subscription_list_is_filtered_and_denied_without_any_role(sim_with):
    _sim, compute = sim_with({"role_assignments": [
        {"role": "Reader", "scope": f"/subscriptions/{SUB}/resourceGroups/rg-elsewhere"}]})
    resp = raw(compute, "GET", f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"
               "?api-version=2024-07-01")
    assert resp.status_code == 200 and resp.json()["value"] == []
    assert _error(raw(compute, "GET", f"{VM_ID}?api-version=2024-07-01"))[1]["code"] == \
        "AuthorizationFailed"


def test_contributor_cannot_assign_roles(sim_with):
    _sim, compute = sim_with({"role_assignments": [{"role": "Contributor",
                                                    "scope": f"/subscriptions/{SUB}"}]})
    body = {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}{AUTHZ}/roleDefinitions/"
                           f"{BUILTIN['Reader'][0]}", "principalId": str(uuid.uuid4())}}
    status, err = _error(raw(compute, "PUT", f"{RG_ID}{AUTHZ}/roleAssignments/{uuid.uuid4()}?{API}",
                             body))
    assert status == 403 and "'Microsoft.Authorization/roleAssignments/write'" in err["message"]


def test_linked_checks_on_vm_create(sim_with):
    sim, compute = sim_with({
        "role_definitions": [_role("compute only", ["Microsoft.Compute/*"])],
        "role_assignments": [{"role": "compute only", "scope": RG_ID}]})
    version = image_id(SUB, "1.0.0")
    resp = raw(compute, "PUT", f"{RG_ID}/providers/Microsoft.Compute/virtualMachines/vm-linked?"
               "api-version=2024-07-01", vm_from_image_body(SUB, "vm-linked", version))
    status, err = _error(resp)
    nic = f"{RG_ID}/providers/Microsoft.Network/networkInterfaces/vm-linked-nic"
    subnet = f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/vnet-avd/subnets/snet-hosts"
    assert status == 403 and err["code"] == "LinkedAuthorizationFailed"
    assert ("does not have permission to perform action(s) 'Microsoft.Network/networkInterfaces/"
            "write,Microsoft.Network/networkInterfaces/read,Microsoft.Network/networkInterfaces/"
            "join/action,Microsoft.Network/virtualNetworks/subnets/join/action' on the linked "
            f"scope(s) '{nic},{nic},{nic},{subnet}' (respectively)") in err["message"]
    assert not [r for r in _ids(sim) if "vm-linked" in r]
    assert VM_ID.lower() in _ids(sim)


def test_linked_check_on_gallery_image(sim_with):
    sim, compute = sim_with({
        "role_definitions": [_role("no gallery", ["Microsoft.Compute/virtualMachines/*",
                                                   "Microsoft.Network/*"])],
        "role_assignments": [{"role": "no gallery", "scope": RG_ID}]})
    version = image_id(SUB, "1.0.0")
    err = _error(raw(compute, "PUT", f"{RG_ID}/providers/Microsoft.Compute/virtualMachines/vm-g?"
                     "api-version=2024-07-01", vm_from_image_body(SUB, "vm-g", version)))[1]
    assert err["code"] == "LinkedAuthorizationFailed"
    assert ("'Microsoft.Compute/galleries/images/versions/read' on the linked scope(s) "
            f"'{version}'") in err["message"]
    assert not [r for r in _ids(sim) if r.endswith(("/vm-g", "/vm-g-nic"))]
