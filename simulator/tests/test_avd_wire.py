"""Raw wire bodies of the Desktop Virtualization routes, checked against Microsoft's OpenAPI
definitions and the real recording; ARM plumbing (bearer, faults, metrics) on these routes."""

import json
import ssl
import urllib.error
import urllib.request

import pytest
from azure.core.rest import HttpRequest

from avd_helpers import DOMAIN, POOL, RG, mint_token
from spec_validation import validate
from avdsim.testing import SimServer

API = "api-version=2024-04-03"


@pytest.fixture(scope="module")
def sim():
    with SimServer(scenario="demo", time_scale=20) as server:
        yield server


@pytest.fixture(scope="module")
def desktop(sim):
    return sim.desktop_client()


def url(sim, tail):
    return "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DesktopVirtualization/%s" % (
        sim.arm_endpoint, sim.subscription_id, RG, tail)


def raw(desktop, method, address, body=None):
    request = HttpRequest(method, address, json=body,
                          headers={"Content-Type": "application/json"} if body is not None else {})
    return desktop._client.send_request(request)  # pylint: disable=protected-access


def test_host_pool_body_matches_the_recording_and_the_spec(sim, desktop):
    response = raw(desktop, "GET", url(sim, "hostPools/%s?%s" % (POOL, API)))
    assert response.status_code == 200
    body = response.json()
    validate("avd", "HostPool", body)
    # as the real service answers (recording): lower-case path segments, nulls, no token on GET
    assert body["id"] == "/subscriptions/%s/resourcegroups/%s/providers/Microsoft.DesktopVirtualization/" \
                         "hostpools/%s" % (sim.subscription_id, RG, POOL)
    assert body["type"] == "Microsoft.DesktopVirtualization/hostpools"
    assert body["identity"] is None and body["kind"] is None
    assert body["properties"]["registrationInfo"] is None
    assert body["properties"]["hostPoolType"] == "Pooled"
    assert body["properties"]["maxSessionLimit"] == 8
    assert body["tags"]["goldenimage.follow-marker"] == "prod"
    listed = raw(desktop, "GET", url(sim, "hostPools?%s" % API)).json()
    validate("avd", "HostPoolList", listed)


def test_token_bodies(sim, desktop):
    token = mint_token(sim, desktop)
    retrieved = raw(desktop, "POST", url(sim, "hostPools/%s/retrieveRegistrationToken?%s" % (POOL, API))).json()
    validate("avd", "RegistrationInfo", retrieved)
    assert retrieved["token"] == token and retrieved["registrationTokenOperation"] == "None"
    listed = raw(desktop, "POST", url(sim, "hostPools/%s/listRegistrationTokens?%s" % (POOL, API))).json()
    validate("avd", "RegistrationTokenList", listed)
    got = raw(desktop, "GET", url(sim, "hostPools/%s?%s" % (POOL, API))).text()
    assert token not in got


def test_session_host_and_user_session_lists(sim, desktop):
    hosts = raw(desktop, "GET", url(sim, "hostPools/%s/sessionHosts?%s" % (POOL, API))).json()
    validate("avd", "SessionHostList", hosts)
    assert hosts["value"][0]["name"] == "%s/avd-demo-0.%s" % (POOL, DOMAIN)
    sessions = raw(desktop, "GET", url(sim, "hostPools/%s/userSessions?%s" % (POOL, API))).json()
    validate("avd", "UserSessionList", sessions)
    first = sessions["value"][0]
    assert first["id"].lower().endswith("/usersessions/" + first["name"].split("/")[2])
    paged = raw(desktop, "GET", url(sim, "hostPools/%s/userSessions?%s&pageSize=2" % (POOL, API))).json()
    assert len(paged["value"]) == 2 and "initialSkip=2" in paged["nextLink"]


def test_errors_have_the_service_shape(sim, desktop):
    response = raw(desktop, "PUT", url(sim, "hostPools/hp-bad?%s" % API),
                   {"location": "westeurope", "properties": {"hostPoolType": "Pooled"}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "400" and error["message"].startswith("ActivityId: ")
    response = raw(desktop, "GET", url(sim, "hostPools/%s/sessionHosts/nope.%s/userSessions/2?%s"
                                       % (POOL, DOMAIN, API)))
    assert response.status_code == 404


def test_bearer_required_and_ratelimit_headers(sim, desktop):
    context = ssl.create_default_context(cafile=sim.info["ca_bundle"])
    request = urllib.request.Request(url(sim, "hostPools/%s?%s" % (POOL, API)))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert err.value.code == 401
    assert json.loads(err.value.read())["error"]["code"] == "AuthenticationFailed"
    response = raw(desktop, "GET", url(sim, "hostPools/%s?%s" % (POOL, API)))
    assert "x-ms-ratelimit-remaining-subscription-reads" in response.headers


def test_faults_and_metrics_apply(sim, desktop):
    sim.add_fault(method="GET", path_regex="/sessionHosts$", status=503, count=1, retry_after=0)
    hosts = list(desktop.session_hosts.list(RG, POOL))  # the SDK retries the 503
    assert len(hosts) == 3
    metrics = sim.metrics()
    assert metrics["faults_injected"] >= 1
    key = ("GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
           "Microsoft.DesktopVirtualization/hostPools/{hostPoolName}/sessionHosts")
    assert metrics["requests"]["by_operation"][key] >= 2


def test_session_hosts_cannot_be_put(sim, desktop):
    response = raw(desktop, "PUT", url(sim, "hostPools/%s/sessionHosts/avd-new.%s?%s" % (POOL, DOMAIN, API)),
                   {"properties": {"allowNewSession": True}})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "MethodNotAllowed"
