"""VM create refuses what Azure refuses in the OS profile: administrator names (Windows length, trailing
'.', Azure's disallowed names, characters Windows refuses), passwords (length, complexity, control
characters; the error never echoes it) and computer names; refused before anything is created.
Source: OSProfile in Microsoft.Compute/Compute/stable/2026-04-01/ComputeRP.json."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from compute_helpers import RG, image_id, vm_from_image_body

GOOD_PASSWORD = "Sim-Test-Passw0rd!"


def refused(demo_sim, compute, name, edit):
    sub = demo_sim.subscription_id
    body = vm_from_image_body(sub, name, image_id(sub, "1.0.0"))
    edit(body["properties"]["osProfile"])
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.begin_create_or_update(RG, name, body)
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(RG, name)
    return exc.value


@pytest.mark.parametrize("username", ["administrator", "Admin", "user1", "test", "guest", "root", "support_388945a0",
                                      "a", "x" * 21, "avdadmin.", "avd/admin", "avd@admin", 'a"b'])
def test_admin_username_refused(demo_sim, compute, username):
    error = refused(demo_sim, compute, "vm-user-bad", lambda osp: osp.update(adminUsername=username))
    assert error.status_code == 400 and error.error.code == "InvalidParameter"
    assert error.error.message == "The Admin Username specified is not allowed."
    assert error.error.target == "adminUsername"


@pytest.mark.parametrize("password", ["short1!A", "abcdefghijklmn", "abcdefghijk12", "Abcdefghijk1\x07",
                                      "A1!" + "x" * 121])
def test_admin_password_refused_without_echo(demo_sim, compute, password):
    error = refused(demo_sim, compute, "vm-pass-bad", lambda osp: osp.update(adminPassword=password))
    assert error.status_code == 400 and error.error.code == "InvalidParameter"
    assert error.error.target == "adminPassword" and "password complexity" in error.error.message
    assert password not in str(error) and password not in (error.response.text() or "")


@pytest.mark.parametrize("computer_name", ["x" * 16, "12345", "avd_demo", "avd.demo"])
def test_computer_name_refused(demo_sim, compute, computer_name):
    error = refused(demo_sim, compute, "vm-cn-bad", lambda osp: osp.update(computerName=computer_name))
    assert error.status_code == 400 and error.error.code == "InvalidParameter"
    assert "Windows computer name cannot be more than 15 characters" in error.error.message


def test_good_admin_names_are_taken(demo_sim, compute):
    sub = demo_sim.subscription_id
    for name, user in (("vm-user-ok1", "x" * 20), ("vm-user-ok2", "Administrator2")):
        body = vm_from_image_body(sub, name, image_id(sub, "1.0.0"))
        body["properties"]["osProfile"].update(adminUsername=user, adminPassword=GOOD_PASSWORD)
        vm = compute.virtual_machines.begin_create_or_update(RG, name, body).result()
        assert vm.os_profile.admin_username == user
        compute.virtual_machines.begin_delete(RG, name).result()
