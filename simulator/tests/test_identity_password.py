"""Entra's resource-owner password grant, through azure-identity's UsernamePasswordCredential
(the credential azure.azcollection and the collection use for AZURE_AD_USER/AZURE_PASSWORD).
Error codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes"""

import warnings

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError

from avdsim import scenario
from avdsim.identity import AZURE_CLI_CLIENT_ID
from compute_helpers import RG

USER = scenario.load("demo")["entra_users"][0]


def user_credential(sim, password=None, username=None, tenant="organizations", client_id=AZURE_CLI_CLIENT_ID):
    from azure.identity import UsernamePasswordCredential
    from msal.authority import Authority
    # MSAL asks home-realm discovery at https://<host>/common/userrealm without the authority's
    # port; as after a 404 there, it then signs in with the plain password grant (the collection's
    # _auth._realm_discovery_port_workaround does the same for a private authority with a port).
    Authority._domains_without_user_realm_discovery.add("127.0.0.1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return UsernamePasswordCredential(
            client_id, username or USER["user_principal_name"], password or USER["password"],
            tenant_id=tenant, authority=sim.info["authority_host"], disable_instance_discovery=True,
            connection_verify=sim.info["ca_bundle"])


def test_user_signs_in_and_reads_arm(demo_sim):
    before = demo_sim.metrics()["tokens_issued"]
    compute = demo_sim.compute_client(user_credential(demo_sim))
    assert [vm.name for vm in compute.virtual_machines.list(RG)]
    assert demo_sim.metrics()["tokens_issued"] == before + 1


@pytest.mark.parametrize("kwargs, code", [
    ({"password": "not-the-password"}, "AADSTS50126"),
    ({"username": "nobody@avddemo.onmicrosoft.com"}, "AADSTS50034"),
    ({"tenant": "common"}, "AADSTS90002"),
])
def test_wrong_password_unknown_user_and_common_tenant_are_refused(demo_sim, kwargs, code):
    with pytest.raises(ClientAuthenticationError) as exc:
        user_credential(demo_sim, **kwargs).get_token(demo_sim.arm_endpoint + "/.default")
    assert code in str(exc.value)


def test_confidential_app_must_send_its_secret(demo_sim):
    with pytest.raises(ClientAuthenticationError) as exc:
        user_credential(demo_sim, client_id=demo_sim.info["client_id"],
                        tenant=demo_sim.info["tenant_id"]).get_token(demo_sim.arm_endpoint + "/.default")
    assert "AADSTS7000218" in str(exc.value)


def test_token_endpoint_wire_errors(demo_sim):
    url = f"{demo_sim.arm_endpoint}/organizations/oauth2/v2.0/token"
    form = {"grant_type": "password", "client_id": AZURE_CLI_CLIENT_ID, "username": USER["user_principal_name"],
            "password": "wrong", "scope": demo_sim.arm_endpoint + "/.default openid profile offline_access"}
    r = requests.post(url, data=form, verify=demo_sim.info["ca_bundle"], timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_grant" and body["error_codes"] == [50126]
    assert body["error_description"].startswith("AADSTS50126: Error validating credentials due to invalid "
                                                "username or password.")
    ok = requests.post(url, data=dict(form, password=USER["password"]), verify=demo_sim.info["ca_bundle"],
                       timeout=10).json()
    assert {"access_token", "id_token", "client_info", "expires_in"} <= set(ok)
    realm = requests.get(f"{demo_sim.arm_endpoint}/common/userrealm/{USER['user_principal_name']}",
                         params={"api-version": "1.0"}, verify=demo_sim.info["ca_bundle"], timeout=10).json()
    assert realm["account_type"] == "Managed"
    # the client-credentials grant still takes only the tenant id
    r = requests.post(url, data={"grant_type": "client_credentials", "client_id": demo_sim.info["client_id"],
                                 "client_secret": demo_sim.info["client_secret"],
                                 "scope": demo_sim.arm_endpoint + "/.default"},
                      verify=demo_sim.info["ca_bundle"], timeout=10)
    assert r.status_code == 400 and r.json()["error_codes"] == [90002]


def test_a_user_can_do_what_its_role_allows_and_nothing_else(tmp_path):
    """Azure RBAC applies to users as to service principals: the demo user is a Contributor of
    the subscription (its ``role``); a scenario's ``rbac.role_assignments`` can name the user by
    UPN instead (here Reader of the resource group), and without any assignment it is refused."""
    import yaml
    from azure.core.exceptions import HttpResponseError
    from avdsim.testing import SimServer
    reader = tmp_path / "reader.yaml"
    reader.write_text(yaml.safe_dump({"extends": "demo", "rbac": {"role_assignments": [
        {"role": "Reader", "scope": f"/subscriptions/{USER_SUB}/resourceGroups/{RG}",
         "user": USER["user_principal_name"]}]}}))
    with SimServer(scenario=str(reader)) as sim:
        compute = sim.compute_client(user_credential(sim))
        assert [vm.name for vm in compute.virtual_machines.list(RG)]
        with pytest.raises(HttpResponseError) as denied:
            compute.virtual_machines.begin_deallocate(RG, "vm-golden-w11")
        assert denied.value.status_code == 403
        assert denied.value.error.code == "AuthorizationFailed"
        assert "Microsoft.Compute/virtualMachines/deallocate/action" in denied.value.error.message
    nobody = tmp_path / "nobody.yaml"
    nobody.write_text(yaml.safe_dump({"extends": "demo", "rbac": {"role_assignments": [
        {"role": "Owner", "scope": f"/subscriptions/{USER_SUB}"}]}}))  # the service principal only
    with SimServer(scenario=str(nobody)) as sim:
        compute = sim.compute_client(user_credential(sim))
        with pytest.raises(HttpResponseError) as denied:
            list(compute.virtual_machines.list(RG))
        assert denied.value.status_code == 403 and denied.value.error.code == "AuthorizationFailed"


USER_SUB = scenario.load("demo")["subscription_id"]
