"""ARM protocol, identity, throttling, faults, time and the control API, through the real
azure-identity and azure-mgmt-compute clients."""

import email.utils
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error

import pytest
import yaml
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                   ResourceNotFoundError)
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient

from avdsim.testing import SimServer
from compute_helpers import RG, raw
from spec_validation import validate


def test_startup_json_line_env_file_and_clean_exit():
    # How fast it starts is a figure of the machine, not a property to test (CI's 2 cores may be
    # busy): the test asserts what start-up delivers, never how long it took.
    sim = SimServer(scenario="demo").start()
    try:
        for key in ("arm_endpoint", "authority_host", "metadata_url", "ca_bundle", "tenant_id",
                    "subscription_id", "client_id", "client_secret"):
            assert sim.info[key]
        assert sim.info["arm_endpoint"].startswith("https://127.0.0.1:")
        with open(sim.env_file, encoding="utf-8") as f:
            text = f.read()
        for key in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT",
                    "AZURE_CLOUD_ENVIRONMENT", "REQUESTS_CA_BUNDLE"):
            assert f"export {key}=" in text
        assert sim.env["AZURE_CLOUD_ENVIRONMENT"] == sim.info["metadata_url"]
        # sourcing the file gives exactly the SimServer env
        out = subprocess.run(["bash", "-c", f". {sim.env_file} && env"], capture_output=True,
                             text=True, check=True).stdout
        env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        for k, v in sim.env.items():
            assert env[k] == v
    finally:
        assert sim.stop() == 0


def test_token_and_wrong_secret(demo_sim):
    cred = demo_sim.credential()
    token = cred.get_token(demo_sim.arm_endpoint + "/.default")
    assert token.token.count(".") == 2 and token.expires_on > time.time() + 3000
    with pytest.raises(ClientAuthenticationError) as exc:
        demo_sim.credential(secret="not-the-secret").get_token(
            demo_sim.arm_endpoint + "/.default")
    assert "invalid_client" in str(exc.value) or "AADSTS7000215" in str(exc.value)


def test_openid_discovery_and_metadata(demo_sim):
    import urllib.request
    import ssl
    ctx = ssl.create_default_context(cafile=demo_sim.info["ca_bundle"])
    tenant = demo_sim.info["tenant_id"]
    with urllib.request.urlopen(f"{demo_sim.arm_endpoint}/{tenant}/v2.0/.well-known/"
                                "openid-configuration", context=ctx) as r:
        oidc = json.load(r)
    assert oidc["token_endpoint"] == f"{demo_sim.arm_endpoint}/{tenant}/oauth2/v2.0/token"
    assert oidc["issuer"] == f"{demo_sim.arm_endpoint}/{tenant}/v2.0"
    with urllib.request.urlopen(demo_sim.info["metadata_url"], context=ctx) as r:
        clouds = json.load(r)
    assert isinstance(clouds, list)
    assert clouds[0]["resourceManager"].rstrip("/") == demo_sim.arm_endpoint
    assert clouds[0]["authentication"]["loginEndpoint"].rstrip("/") == demo_sim.arm_endpoint
    assert clouds[0]["authentication"]["audiences"]


def test_requests_without_or_with_bad_token_are_401(demo_sim):
    import requests
    url = f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}/resourceGroups/{RG}"
    r = requests.get(url, params={"api-version": "2021-04-01"},
                     verify=demo_sim.info["ca_bundle"], timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in r.headers
    r = requests.get(url, params={"api-version": "2021-04-01"},
                     headers={"Authorization": "Bearer a.b.c"},
                     verify=demo_sim.info["ca_bundle"], timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
    # control API needs no token
    assert demo_sim.metrics()["requests"]["total"] >= 2


def test_api_version_required_error_shape_and_headers(demo_sim, compute):
    base = f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}/resourceGroups/{RG}"
    r = raw(compute, "GET", base + "/providers/Microsoft.Compute/virtualMachines/vm-golden-w11")
    assert r.status_code == 400
    assert r.json() == {"error": {"code": "MissingApiVersionParameter", "message": r.json()[
        "error"]["message"]}}
    r = raw(compute, "GET", base.replace("rg-avd-demo", "RG-AVD-DEMO") +
            "/providers/microsoft.compute/VIRTUALMACHINES/VM-GOLDEN-W11?api-version=2026-04-01")
    assert r.status_code == 200
    assert r.json()["name"] == "vm-golden-w11"  # ids keep their created casing
    for h in ("x-ms-request-id", "x-ms-correlation-request-id",
              "x-ms-ratelimit-remaining-subscription-reads", "Date"):
        assert r.headers.get(h), h
    r = raw(compute, "GET", base.replace("rg-avd-demo", "rg-nope") + "?api-version=2021-04-01")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceGroupNotFound"
    validate("common", "CloudError", r.json())
    with pytest.raises(ResourceNotFoundError) as exc:
        compute.virtual_machines.get(RG, "no-such-vm")
    assert exc.value.error.code == "ResourceNotFound"


def test_date_header_is_simulated_time(demo_sim, compute):
    before = demo_sim.clock()
    r = raw(compute, "GET", f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}"
            f"/resourceGroups/{RG}?api-version=2021-04-01")
    date = email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
    import datetime as dt
    sim_now = dt.datetime.fromisoformat(before["sim_now"]).timestamp()
    assert abs(date - sim_now) < 3600  # simulated clock (starts 2026-11-02), not the host's
    assert abs(date - time.time()) > 3600  # the scenario's clock starts weeks before today


def test_idle_real_time_counts_once_and_manual_advance():
    with SimServer(scenario="demo", time_scale=600) as sim:
        t0 = time.monotonic()
        a = sim.clock()["sim_time_s"]
        t1 = time.monotonic()
        time.sleep(0.5)
        t2 = time.monotonic()
        b = sim.clock()["sim_time_s"]
        t3 = time.monotonic()
        # nothing waited for: simulated time runs at the speed of real time, whatever the scale
        assert (t2 - t1) - 0.05 <= b - a <= (t3 - t0) + 0.05
        c = sim.advance(3600)["sim_time_s"]
        assert 3600 <= c - b <= 3600 + (time.monotonic() - t3) + 0.05
        assert sim.metrics()["sim_time_s"] >= c


def test_429_fault_storm_sdk_retries_and_succeeds(demo_sim, compute):
    # retry_after is simulated seconds: the client is told the wait compressed by the time scale
    # and, when it comes back, the clock moves to the time it was asked to come back at
    demo_sim.clear_faults()
    demo_sim.add_fault(method="GET", path_regex=r"/virtualMachines/vm-golden-w11$", status=429,
                       count=2, retry_after=30)
    before = demo_sim.metrics()
    vm = compute.virtual_machines.get(RG, "vm-golden-w11")
    assert vm.name == "vm-golden-w11"
    after = demo_sim.metrics()
    assert after["sim_time_s"] - before["sim_time_s"] >= 60  # two waits of 30 s kept
    assert after["clock"]["waits_kept"]["appointments"] - before["clock"]["waits_kept"]["appointments"] >= 2
    assert after["faults_injected"] - before["faults_injected"] == 2
    assert after["faults_by_status"]["429"] - before["faults_by_status"].get("429", 0) == 2
    assert after["throttled"] - before["throttled"] == 2
    op = "GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/" \
         "Microsoft.Compute/virtualMachines/{vmName}"
    assert after["requests"]["by_operation"][op] - before["requests"]["by_operation"].get(
        op, 0) == 3


@pytest.mark.parametrize("spec, retry_after, retry_after_ms", [
    # Azure's 429 always names a wait (request-limits-and-throttling#error-code): a fault without
    # retry_after asks for 10 simulated seconds; at time scale 6000 that is 2 ms (5 at least)
    ({"status": 429}, "0", "5"),
    ({"status": 429, "retry_after": 12000}, "2", None),
    ({"status": 503, "retry_after": 60}, "0", "10"),
    ({"status": 500}, None, None),  # a 500 of Azure names no wait: clients back off on their own
])
def test_injected_faults_carry_retry_after_as_azure(demo_sim, compute, spec, retry_after, retry_after_ms):
    demo_sim.clear_faults()
    demo_sim.add_fault(method="GET", path_regex=r"/virtualMachines/avd-demo-1$", count=1, **spec)
    address = (f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}/resourceGroups/{RG}"
               "/providers/Microsoft.Compute/virtualMachines/avd-demo-1?api-version=2024-07-01")
    response = compute._client.send_request(HttpRequest("GET", address),  # pylint: disable=protected-access
                                            retry_total=0)  # the answer itself, not the SDK's retry
    assert response.status_code == spec["status"]
    assert response.headers.get("Retry-After") == retry_after
    assert response.headers.get("retry-after-ms") == retry_after_ms
    assert "X-Avdsim-Wait-S" not in response.headers
    demo_sim.clear_faults()


def test_fault_storm_over_every_route_is_ridden_out_by_retries(demo_sim):
    # a rate with no method, over every ARM path: any request may meet it (seeded). A client that
    # retries enough rides it out (the SDK's default of 3 status retries does not, every time).
    compute = demo_sim.compute_client(retry_total=10, retry_status=10, retry_backoff_factor=0.01)
    demo_sim.clear_faults()
    demo_sim.add_fault(path_regex="^/subscriptions/", status=429, rate=0.3)
    demo_sim.add_fault(path_regex="^/subscriptions/", status=503, rate=0.2)
    before = demo_sim.metrics()["faults_injected"]
    for _round in range(5):
        assert len(list(compute.virtual_machines.list(RG))) >= 4
        assert compute.virtual_machines.get(RG, "vm-golden-w11").name == "vm-golden-w11"
    demo_sim.clear_faults()
    assert demo_sim.metrics()["faults_injected"] - before >= 2


def test_bad_fault_specs_are_refused(demo_sim):
    for spec, named in (({"status": 429, "rate": 2}, "rate"), ({"status": 429, "retry_after": -1}, "retry_after")):
        with pytest.raises(urllib.error.HTTPError) as err:
            demo_sim.add_fault(**spec)
        assert err.value.code == 400 and named in json.loads(err.value.read())["error"]["message"]


def test_500_fault_then_success_and_clear(demo_sim, compute):
    demo_sim.clear_faults()
    rule = demo_sim.add_fault(method="GET", path_regex="/disks$", status=500,
                              code="InternalServerError", count=1)
    assert rule["count"] == 1
    disks = list(compute.disks.list_by_resource_group(RG))  # SDK retries the 500
    assert disks
    demo_sim.add_fault(method="GET", path_regex="/galleries$", status=503, rate=1.0)
    assert demo_sim.clear_faults()["cleared"] == 1


def test_non_retryable_fault_surfaces_arm_error(demo_sim, compute):
    demo_sim.clear_faults()
    demo_sim.add_fault(method="GET", path_regex="/virtualMachines/avd-demo-0$", status=409,
                       code="OperationNotAllowed", message="injected", count=1)
    with pytest.raises(HttpResponseError) as exc:
        compute.virtual_machines.get(RG, "avd-demo-0")
    assert exc.value.status_code == 409 and exc.value.error.code == "OperationNotAllowed"


def _custom_scenario(tmp, **extra):
    data = {"extends": "demo", **extra}
    path = os.path.join(tmp, "scenario.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f)
    return path


def _read_vm(compute, sim):
    return raw(compute, "GET", f"{sim.arm_endpoint}/subscriptions/{sim.subscription_id}/"
               f"resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm-golden-w11"
               "?api-version=2026-04-01")


def test_token_bucket_throttling_429_and_recovery():
    # at time scale 1 the simulated clock is the real one: ARM's bucket exactly
    with tempfile.TemporaryDirectory() as tmp:
        path = _custom_scenario(tmp, throttling={"read": {"bucket": 5, "refill_per_s": 4}})
        with SimServer(scenario=path, time_scale=1) as sim:
            compute = sim.compute_client()
            remaining = []
            for _ in range(12):  # more reads than the bucket holds: 429s, retried by the SDK
                r = _read_vm(compute, sim)
                assert r.status_code == 200
                remaining.append(int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]))
            m = sim.metrics()
            assert m["throttled"] >= 1
            assert m["errors_by_code"]["SubscriptionRequestsThrottled"] == m["throttled"]
            assert min(remaining) == 0


def test_token_bucket_refills_on_simulated_time():
    # Azure's clock in the simulator is the simulated one: a burst that empties the bucket is
    # answered with 429 and a Retry-After in real time; advancing the clock refills it.
    with tempfile.TemporaryDirectory() as tmp:
        path = _custom_scenario(tmp, throttling={"read": {"bucket": 3, "refill_per_s": 0.01}})
        with SimServer(scenario=path, time_scale=1) as sim:
            compute = sim.compute_client(retry_total=0)
            statuses = [_read_vm(compute, sim) for _ in range(4)]
            assert [r.status_code for r in statuses] == [200, 200, 200, 429]
            throttled = statuses[-1]
            assert throttled.json()["error"]["code"] == "SubscriptionRequestsThrottled"
            assert int(throttled.headers["Retry-After"]) >= 99  # 1 token at 0.01/s
            sim.advance(300)  # three tokens' worth of simulated time
            again = _read_vm(compute, sim)
            assert again.status_code == 200
            assert int(again.headers["x-ms-ratelimit-remaining-subscription-reads"]) == 2


def test_paging_with_next_link():
    with tempfile.TemporaryDirectory() as tmp:
        path = _custom_scenario(tmp, page_size=2)
        with SimServer(scenario=path, time_scale=6000) as sim:
            compute = sim.compute_client()
            names = [v.name for v in compute.virtual_machines.list(RG)]
            assert names == ["vm-golden-w11", "avd-demo-0", "avd-demo-1", "avd-demo-2"]
            r = raw(compute, "GET", f"{sim.arm_endpoint}/subscriptions/{sim.subscription_id}/"
                    f"providers/Microsoft.Compute/virtualMachines?api-version=2026-04-01")
            body = r.json()
            assert len(body["value"]) == 2 and "$skiptoken=2" in body["nextLink"]
            validate("compute", "VirtualMachineListResult", body)


def test_custom_scenario_overrides_durations():
    with tempfile.TemporaryDirectory() as tmp:
        path = _custom_scenario(tmp, durations={"vm_power_off": 7200})
        with SimServer(scenario=path, time_scale=600) as sim:
            assert sim.state()["durations"]["vm_power_off"] == 7200
            compute = sim.compute_client()
            poller = compute.virtual_machines.begin_power_off(RG, "avd-demo-2")
            iv = compute.virtual_machines.instance_view(RG, "avd-demo-2")
            assert "PowerState/stopping" in [s.code for s in iv.statuses]
            sim.advance(7300)
            poller.result()
            iv = compute.virtual_machines.instance_view(RG, "avd-demo-2")
            assert "PowerState/stopped" in [s.code for s in iv.statuses]


def test_unknown_scenario_key_fails_fast():
    with tempfile.TemporaryDirectory() as tmp:
        path = _custom_scenario(tmp, durations={"no_such_duration": 1})
        proc = subprocess.run([sys.executable, "-m", "avdsim", "serve", "--scenario", path,
                               "--state-dir", tmp], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2
        assert "no_such_duration" in proc.stderr


def test_sigterm_exits_zero():
    sim = SimServer(scenario="demo").start()
    sim.proc.send_signal(signal.SIGTERM)
    assert sim.proc.wait(timeout=10) == 0
    sim.stop()


def test_sdk_client_with_other_subscription_gets_404(demo_sim):
    client = ComputeManagementClient(demo_sim.credential(), "00000000-0000-0000-0000-000000000000",
                                     base_url=demo_sim.arm_endpoint,
                                     credential_scopes=[demo_sim.arm_endpoint + "/.default"],
                                     connection_verify=demo_sim.info["ca_bundle"])
    with pytest.raises(HttpResponseError) as exc:
        client.virtual_machines.get(RG, "vm-golden-w11")
    assert exc.value.status_code == 404 and exc.value.error.code == "SubscriptionNotFound"


def test_compute_resource_policies_headers_and_429():
    import requests
    with tempfile.TemporaryDirectory() as tmp:
        path = _custom_scenario(tmp, throttling={"compute": {"UpdateVM3Min": 2}})
        with SimServer(scenario=path, time_scale=60) as sim:
            compute = sim.compute_client()
            r = raw(compute, "GET", f"{sim.arm_endpoint}/subscriptions/{sim.subscription_id}/"
                    f"resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/"
                    "avd-demo-0?api-version=2026-04-01")
            assert r.headers["x-ms-ratelimit-remaining-resource"] == \
                "Microsoft.Compute/LowCostGet3Min;3999,Microsoft.Compute/LowCostGet30Min;31999"
            token = sim.credential().get_token(sim.arm_endpoint + "/.default").token
            url = (f"{sim.arm_endpoint}/subscriptions/{sim.subscription_id}/resourceGroups/{RG}"
                   "/providers/Microsoft.Compute/virtualMachines/avd-demo-0/start"
                   "?api-version=2026-04-01")
            codes = [requests.post(url, headers={"Authorization": "Bearer " + token},
                                   verify=sim.info["ca_bundle"], timeout=10)
                     for _ in range(3)]
            # (the 2nd may meet the 1st still running: 409 AnotherOperationInProgress; it is
            # counted against the policy all the same, as in Azure)
            assert [c.status_code for c in codes][::2] == [202, 429]
            assert codes[1].status_code in (202, 409)
            err = codes[2].json()["error"]
            assert err["code"] == "OperationNotAllowed"
            assert err["details"][0]["target"] == "UpdateVM3Min"
            # the window is 3 simulated minutes: about 3 real seconds at 60x
            assert 1 <= int(codes[2].headers["Retry-After"]) <= 4
            sim.advance(200)  # the window slides with simulated time
            again = requests.post(url, headers={"Authorization": "Bearer " + token},
                                  verify=sim.info["ca_bundle"], timeout=10)
            assert again.status_code == 202


def test_resource_group_lifecycle_and_cascading_delete(demo_sim, compute):
    from compute_helpers import vm_from_image_body, image_id
    sub = demo_sim.subscription_id
    url = f"{demo_sim.arm_endpoint}/subscriptions/{sub}/resourceGroups/rg-tmp?api-version=2021-04-01"
    r = raw(compute, "PUT", url, {"location": "westeurope", "tags": {"owner": "tests"}})
    assert r.status_code == 201 and r.json()["properties"]["provisioningState"] == "Succeeded"
    assert raw(compute, "PUT", url, {"location": "westeurope"}).status_code == 200
    conflict = raw(compute, "PUT", url, {"location": "northeurope"})
    assert conflict.status_code == 409
    r = raw(compute, "PATCH", url, {"tags": {"owner": "tests", "x": "1"}})
    assert r.json()["tags"] == {"owner": "tests", "x": "1"}
    compute.virtual_machines.begin_create_or_update(
        "rg-tmp", "vm-in-tmp", vm_from_image_body(sub, "vm-in-tmp", image_id(sub, "1.0.0"))
    ).result()
    r = raw(compute, "DELETE", url)
    assert r.status_code == 202 and "/operationresults/" in r.headers["Location"]
    for _ in range(300):
        done = raw(compute, "GET", r.headers["Location"])
        if done.status_code == 200:
            break
        assert done.status_code == 202
        time.sleep(0.01)
    assert raw(compute, "GET", url).status_code == 404
    names = [v.name for v in compute.virtual_machines.list_all()]
    assert "vm-in-tmp" not in names


def test_concurrent_requests_are_counted_exactly(demo_sim, compute):
    from concurrent.futures import ThreadPoolExecutor
    op = ("GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
          "Microsoft.Compute/galleries/{galleryName}")
    before = demo_sim.metrics()["requests"]["by_operation"].get(op, 0)
    with ThreadPoolExecutor(max_workers=6) as pool:
        names = list(pool.map(lambda _: compute.galleries.get(RG, "gal_avd_demo").name,
                              range(60)))
    assert names == ["gal_avd_demo"] * 60
    assert demo_sim.metrics()["requests"]["by_operation"][op] - before == 60


def test_unsimulated_operation_is_invalid_resource_type(demo_sim, compute):
    r = raw(compute, "GET", f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}/"
            f"resourceGroups/{RG}/providers/Microsoft.Compute/availabilitySets/as1"
            "?api-version=2026-04-01")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "InvalidResourceType"
    assert "Microsoft.Compute" in r.json()["error"]["message"]


def test_scenario_extends_chain_relative_to_the_file(tmp_path):
    from avdsim import scenario
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({"extends": "demo", "page_size": 3}))
    (tmp_path / "child.yaml").write_text(yaml.safe_dump({
        "extends": "base.yaml", "durations": {"sysprep": 60},
        "resource_groups": [{"name": "rg-extra", "location": "northeurope"}]}))
    data = scenario.load(str(tmp_path / "child.yaml"))
    assert data["page_size"] == 3 and data["durations"] == {"sysprep": 60}
    assert [g["name"] for g in data["resource_groups"]] == ["rg-avd-demo", "rg-extra"]


def test_resource_group_check_existence(demo_sim, compute):
    base = f"{demo_sim.arm_endpoint}/subscriptions/{demo_sim.subscription_id}/resourcegroups/"
    assert raw(compute, "HEAD", base + RG + "?api-version=2021-04-01").status_code == 204
    assert raw(compute, "HEAD", base + "rg-none?api-version=2021-04-01").status_code == 404
