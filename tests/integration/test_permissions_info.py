"""The pre-flight permission check (module permissions_info, first step of every role) against the
simulator's RBAC: with the shipped custom role minus ANY one action, the job that needs it stops at
the pre-flight naming that action, and the simulator saw no write.

One simulator for the file. The service principal holds the shipped role on rg-avd-demo and, to
edit that role between tests, a custom role that may only read and write role definitions (which
no job action matches). Each test writes the role definition through the real roleDefinitions API.
"""

import uuid

import pytest
import yaml
from azure.core.rest import HttpRequest

from ansible_collections.goldenimage.avd.plugins.module_utils import _permissions as perms
from avdsim.scenario import load as load_scenario
from avdsim.testing import SimServer
from helpers import run_playbook
from test_lifecycle_rbac import shipped_role

SUB = load_scenario("demo")["subscription_id"]
RG = "rg-avd-demo"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
SUBNET = f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/vnet-avd/subnets/snet-hosts"
ROLE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "goldenimage-avd-operator-test"))
ACTIONS = shipped_role()["Actions"]
PLACES = {"resource_group": RG, "gallery_resource_group": RG, "subnet": SUBNET}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    role = dict(shipped_role(), Id=ROLE_ID, AssignableScopes=[f"/subscriptions/{SUB}"])
    editor = {"Name": "role definition editor", "AssignableScopes": [f"/subscriptions/{SUB}"],
              "Actions": ["Microsoft.Authorization/roleDefinitions/read",
                          "Microsoft.Authorization/roleDefinitions/write"]}
    path = tmp_path_factory.mktemp("rbac") / "preflight.yaml"
    path.write_text(yaml.safe_dump({"extends": "demo", "rbac": {
        "role_definitions": [role, editor],
        "role_assignments": [{"role": role["Name"], "scope": RG_ID},
                             {"role": editor["Name"], "scope": f"/subscriptions/{SUB}"}]}}))
    with SimServer(scenario=str(path), time_scale=6000) as sim:
        yield sim, sim.compute_client()


def set_role(sim, compute, actions):
    """Rewrite the operator role (RoleDefinitions_CreateOrUpdate) to hold ``actions``."""
    body = {"properties": {"roleName": shipped_role()["Name"], "type": "CustomRole",
                           "assignableScopes": [f"/subscriptions/{SUB}"],
                           "permissions": [{"actions": list(actions), "notActions": []}]}}
    url = (f"{sim.arm_endpoint}/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
           f"{ROLE_ID}?api-version=2022-04-01")
    response = perms.send_request(compute, HttpRequest("PUT", url, json=body))
    assert response.status_code == 200, response.text()


def job_needing(action):
    for job in perms.JOBS:
        for place, actions in sorted(perms.JOB_ACTIONS[job].items()):
            if action in actions:
                return job, place
    raise AssertionError(f"no job needs {action}")


def changes(metrics):
    return metrics["requests"]["writes"], metrics["requests"]["deletes"]


def test_the_full_role_passes_every_job(world):
    sim, compute = world
    set_role(sim, compute, ACTIONS)
    for job in perms.JOBS:
        assert perms.check(compute, job, perms.scopes_for(job, SUB, PLACES)) == [], job


@pytest.mark.parametrize("action", ACTIONS)
def test_role_without_one_action_stops_the_job_at_the_preflight(world, action):
    sim, compute = world
    set_role(sim, compute, [a for a in ACTIONS if a != action])
    job, place = job_needing(action)
    scopes = perms.scopes_for(job, SUB, PLACES)
    before = changes(sim.metrics())
    missing = perms.check(compute, job, scopes)
    assert changes(sim.metrics()) == before
    assert missing == [{"action": action, "scope": scopes[place]}]
    assert f"missing {action} at scope {scopes[place]}" in perms.failure_message(job, missing)


ROLLOUT_VARS = {"host_pool": "hp-demo-pooled", "resource_group": RG, "session_host_rollout_subnet_id": SUBNET,
                "session_host_rollout_admin_password": "Av1!" + uuid.uuid4().hex,
                "session_host_rollout_poll_interval": 0.02}


@pytest.mark.parametrize("playbook,extra_vars,inventory,task,action", [
    ("playbooks/build_image.yml", {}, "playbooks/inventories/demo",
     "Check the credential's Azure permissions for the build", "Microsoft.Compute/virtualMachines/generalize/action"),
    ("playbooks/promote.yml", {"marker": "pilot", "version": "1.0.0"}, "playbooks/inventories/demo",
     "Check the credential's Azure permissions for the marker move",
     "Microsoft.Compute/galleries/images/versions/write"),
    ("playbooks/rollout.yml", ROLLOUT_VARS, None, "Check the credential's Azure permissions for the rollout",
     "Microsoft.Network/virtualNetworks/subnets/join/action"),
])
def test_each_role_checks_before_its_first_write(world, playbook, extra_vars, inventory, task, action):
    sim, compute = world
    set_role(sim, compute, [a for a in ACTIONS if a != action])
    before = changes(sim.metrics())
    run = run_playbook(sim, playbook, extra_vars=extra_vars, inventory=inventory)
    assert run.rc != 0
    result = run.task(task)
    assert result["failed"] and action in result["msg"], result
    assert result["missing"] and {m["action"] for m in result["missing"]} == {action}
    assert changes(sim.metrics()) == before
