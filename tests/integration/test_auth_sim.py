"""Authentication and cloud resolution of the modules, for real against the simulator.

Read-only calls (hostpool_info) with the credential arriving every way users provide it: AWX
environment, azure-identity names, module options through module_defaults and the action group,
a credential file profile. Wrong input fails clearly, secrets never show, TLS stays verified.
"""

from __future__ import annotations

import json

import pytest

from avdsim import scenario
from helpers import run_module, run_playbook

POOL = {"resource_group": "rg-avd-demo", "host_pool": "hp-demo-pooled"}
NO_AZURE = {"AZURE_CLIENT_ID": None, "AZURE_SECRET": None, "AZURE_TENANT": None, "AZURE_SUBSCRIPTION_ID": None,
            "AZURE_CLOUD_ENVIRONMENT": None}


def assert_pool_read(result):
    assert result["failed"] is False, result.get("msg")
    assert result["changed"] is False
    assert result["exists"] is True
    names = sorted(host["name"] for host in result["session_hosts"])
    assert len(names) == 3 and all("avd-demo-" in name for name in names), names


def test_awx_environment(sim):
    before = sim.metrics()
    assert_pool_read(run_module(sim, "hostpool_info", POOL))
    after = sim.metrics()
    # the simulator really issued a token and served the reads
    assert after["tokens_issued"] > before["tokens_issued"]
    assert after["requests"]["reads"] > before["requests"]["reads"]


def test_azure_identity_environment_names(sim):
    env = dict(NO_AZURE, AZURE_CLIENT_ID=sim.env["AZURE_CLIENT_ID"], AZURE_CLIENT_SECRET=sim.env["AZURE_SECRET"],
               AZURE_TENANT_ID=sim.env["AZURE_TENANT"], AZURE_SUBSCRIPTION_ID=sim.env["AZURE_SUBSCRIPTION_ID"],
               AZURE_CLOUD_ENVIRONMENT=sim.env["AZURE_CLOUD_ENVIRONMENT"])
    assert_pool_read(run_module(sim, "hostpool_info", POOL, extra_env=env))


def test_module_defaults_action_group_with_options_only(sim):
    playbook = {
        "name": "options through module_defaults",
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/goldenimage.avd.azure": {
            "auth_source": "auto",
            "client_id": sim.env["AZURE_CLIENT_ID"],
            "secret": sim.env["AZURE_SECRET"],
            "tenant": sim.env["AZURE_TENANT"],
            "subscription_id": sim.env["AZURE_SUBSCRIPTION_ID"],
            "cloud_environment": sim.env["AZURE_CLOUD_ENVIRONMENT"],
        }},
        "tasks": [{"name": "read the pool", "goldenimage.avd.hostpool_info": POOL}],
    }
    run = run_playbook(sim, [playbook], extra_env=NO_AZURE)
    assert run.rc == 0, run.stdout[-3000:]
    assert_pool_read(dict(run.task("read the pool"), failed=False))
    assert sim.env["AZURE_SECRET"] not in run.stdout + run.stderr


def test_wrong_secret_option_beats_right_environment(sim):
    result = run_module(sim, "hostpool_info", dict(POOL, secret="not-the-secret-4711"))
    assert result["failed"] is True
    assert "AADSTS7000215" in result["msg"]
    assert "The client secret is wrong or expired: check secret" in result["msg"]
    assert "not-the-secret-4711" not in json.dumps(result)


# A cloud-only Entra user of the demo tenant (simulator/src/avdsim/scenarios/demo.yaml).
ENTRA_USER = scenario.load("demo")["entra_users"][0]


def test_awx_username_password_credential(sim):
    """AWX's Azure credential with a username and password injects AZURE_AD_USER, AZURE_PASSWORD and
    AZURE_SUBSCRIPTION_ID (no client id, secret or tenant): the user signs in through the Azure CLI's
    public client and the tenant 'organizations', as azure.azcollection does."""
    env = dict(NO_AZURE, AZURE_AD_USER=ENTRA_USER["user_principal_name"], AZURE_PASSWORD=ENTRA_USER["password"],
               AZURE_SUBSCRIPTION_ID=sim.env["AZURE_SUBSCRIPTION_ID"],
               AZURE_CLOUD_ENVIRONMENT=sim.env["AZURE_CLOUD_ENVIRONMENT"])
    before = sim.metrics()["tokens_issued"]
    assert_pool_read(run_module(sim, "hostpool_info", POOL, extra_env=env))
    assert sim.metrics()["tokens_issued"] > before


def test_ad_user_options_and_wrong_password(sim):
    """ad_user/password as module options: the right password reads the pool, a wrong one fails
    naming the options, and neither password shows anywhere in the output."""
    auth = {"ad_user": ENTRA_USER["user_principal_name"], "subscription_id": sim.env["AZURE_SUBSCRIPTION_ID"],
            "cloud_environment": sim.env["AZURE_CLOUD_ENVIRONMENT"]}
    wrong = "Wr0ng-" + ENTRA_USER["password"][::-1]
    playbook = {"name": "user sign-in", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "read as the user", "goldenimage.avd.hostpool_info": dict(POOL, password=ENTRA_USER["password"], **auth)},
        {"name": "wrong password", "goldenimage.avd.hostpool_info": dict(POOL, password=wrong, **auth),
         "ignore_errors": True},
        {"name": "no password", "goldenimage.avd.hostpool_info": dict(POOL, **auth), "ignore_errors": True},
    ]}
    run = run_playbook(sim, [playbook], extra_env=NO_AZURE)
    assert run.rc == 0, run.stdout[-3000:]
    assert_pool_read(dict(run.task("read as the user"), failed=False))
    failed = run.task("wrong password")
    assert failed["failed"] is True
    assert "AADSTS50126" in failed["msg"]
    assert "check ad_user and password" in failed["msg"]
    missing = run.task("no password")
    assert missing["msg"] == "auth_source=params: ad_user is set but no password (option 'password' or AZURE_PASSWORD)."
    for secret in (wrong, ENTRA_USER["password"]):
        assert secret not in run.stdout + run.stderr


def test_subscription_option_beats_environment(sim):
    other = "11111111-2222-3333-4444-555555555555"
    before = sim.metrics()["errors_by_code"]
    result = run_module(sim, "hostpool_info", dict(POOL, subscription_id=other))
    after = sim.metrics()["errors_by_code"]
    # the option was used: the simulator knows no such subscription and answered with an error
    assert result["failed"] is True or result.get("exists") is False
    assert sum(after.values()) > sum(before.values()), (before, after)


def test_credential_file_profile(sim, tmp_path):
    home = tmp_path / "home"
    (home / ".azure").mkdir(parents=True)
    (home / ".azure" / "credentials").write_text(
        "[sim]\nsubscription_id=%s\nclient_id=%s\nsecret=%s\ntenant=%s\ncloud_environment=%s\n" % (
            sim.env["AZURE_SUBSCRIPTION_ID"], sim.env["AZURE_CLIENT_ID"], sim.env["AZURE_SECRET"],
            sim.env["AZURE_TENANT"], sim.env["AZURE_CLOUD_ENVIRONMENT"]))
    result = run_module(sim, "hostpool_info", dict(POOL, auth_source="credential_file", profile="sim"),
                        extra_env=dict(NO_AZURE, HOME=str(home)))
    assert_pool_read(result)


def test_tls_is_verified(sim):
    result = run_module(sim, "hostpool_info", POOL, extra_env={"REQUESTS_CA_BUNDLE": None})
    assert result["failed"] is True
    assert "REQUESTS_CA_BUNDLE" in result["msg"]


@pytest.mark.parametrize("cloud, message", [
    ("AzureMars", "cloud_environment must be one of AzureCloud, AzureUSGovernment, AzureChinaCloud"),
    ("http://127.0.0.1:1/metadata/endpoints?api-version=2022-09-01", "https://"),
])
def test_bad_cloud_environment(sim, cloud, message):
    result = run_module(sim, "hostpool_info", dict(POOL, cloud_environment=cloud))
    assert result["failed"] is True and message in result["msg"]
