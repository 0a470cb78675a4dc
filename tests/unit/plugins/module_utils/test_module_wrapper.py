"""AzureModule: wire-format conversion, the ARM clock, results and failures as Ansible sees them."""

from __future__ import annotations

import datetime
import enum
import json

import pytest
import requests
from ansible.module_utils.testing import patch_module_args
from azure.core.exceptions import HttpResponseError
from azure.core.paging import ItemPaged
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.transport import HttpRequest, RequestsTransportResponse
from azure.mgmt.compute import models as compute_models
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.desktopvirtualization import models as desktop_models

from ansible_collections.goldenimage.avd.plugins.module_utils import _errors
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, to_wire

AWX_ENV = {"AZURE_CLIENT_ID": "awx-client", "AZURE_SECRET": "awx-secret-value-123", "AZURE_TENANT": "awx-tenant",
           "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-00000000000e"}


@pytest.fixture
def awx_env(monkeypatch):
    for name in ("AZURE_PROFILE", "AZURE_CLOUD_ENVIRONMENT", "ANSIBLE_AZURE_AUTH_SOURCE", "AZURE_CLIENT_SECRET",
                 "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWX_ENV.items():
        monkeypatch.setenv(name, value)


def transport_response(status=200, headers=None, body=b"{}"):
    raw = requests.Response()
    raw.status_code = status
    raw.reason = "OK"
    raw.headers.update(headers or {})
    raw._content = body  # pylint: disable=protected-access
    return RequestsTransportResponse(HttpRequest("GET", "https://management.azure.com/x"), raw)


def run_module(args, body, capsys, diff=False, check=False):
    """Run ``body(azure_module)`` inside an AzureModule; return (exit code, JSON result)."""
    module_args = dict(args, _ansible_diff=diff, _ansible_check_mode=check)
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exit_info:
            azure = AzureModule(dict(name=dict(type="str")))
            body(azure)
    out = capsys.readouterr().out
    return exit_info.value.code, json.loads(out)


# ------------------------------------------------------------------------------ to_wire

def compute_model(cls, data):
    """A compute model from its wire form in the installed SDK's generation: msrest models
    (azure-mgmt-compute up to 38) deserialize it, TypeSpec models (39 and later) take the mapping."""
    if hasattr(cls, "_attribute_map"):
        return cls.deserialize(data)
    return cls(data)


def test_to_wire_compute_model_is_camel_case_with_read_only_fields():
    vm = compute_model(compute_models.VirtualMachine, {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        "name": "vm1", "location": "westeurope", "tags": {"goldenimage.role": "original"},
        "properties": {"hardwareProfile": {"vmSize": "Standard_D4s_v5"}, "provisioningState": "Succeeded",
                       "storageProfile": {"osDisk": {"osType": "Windows", "createOption": "FromImage"}}},
    })
    wire = to_wire(vm)
    assert wire["name"] == "vm1" and wire["tags"] == {"goldenimage.role": "original"}
    assert wire["properties"]["hardwareProfile"] == {"vmSize": "Standard_D4s_v5"}
    assert wire["properties"]["provisioningState"] == "Succeeded"
    assert wire["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows"
    json.dumps(wire)


def test_to_wire_msrest_model_is_camel_case_with_read_only_fields():
    pool = desktop_models.HostPool.deserialize({
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DesktopVirtualization/hostPools/hp",
        "name": "hp", "type": "Microsoft.DesktopVirtualization/hostPools", "location": "westeurope",
        "properties": {"hostPoolType": "Pooled", "loadBalancerType": "BreadthFirst", "maxSessionLimit": 8,
                       "preferredAppGroupType": "Desktop", "validationEnvironment": False},
    })
    wire = to_wire(pool)
    assert wire["id"].endswith("/hostPools/hp") and wire["name"] == "hp"
    assert wire["properties"]["hostPoolType"] == "Pooled"
    assert wire["properties"]["loadBalancerType"] == "BreadthFirst"
    assert wire["properties"]["maxSessionLimit"] == 8
    assert "host_pool_type" not in json.dumps(wire)
    json.dumps(wire)


def test_to_wire_msrest_datetime_and_enum():
    host = desktop_models.SessionHost.deserialize({
        "name": "hp/avd-demo-0", "properties": {"allowNewSession": False, "sessions": 2, "status": "Available",
                                                "lastHeartBeat": "2026-11-02T07:01:38Z"}})
    wire = to_wire(host)
    assert wire["properties"]["allowNewSession"] is False
    assert wire["properties"]["status"] == "Available"
    assert not isinstance(wire["properties"]["status"], enum.Enum)
    assert wire["properties"]["lastHeartBeat"].startswith("2026-11-02T07:01:38")


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
        ([], []),
        ((1, "x"), [1, "x"]),
        (desktop_models.HostPoolType.POOLED, "Pooled"),
        (datetime.datetime(2026, 11, 2, 7, 0, tzinfo=datetime.timezone.utc), "2026-11-02T07:00:00+00:00"),
        ([compute_models.SubResource(id="/x")], [{"id": "/x"}]),
        ({"nested": compute_models.SubResource(id="/y")}, {"nested": {"id": "/y"}}),
        (iter([compute_models.SubResource(id="/z")]), [{"id": "/z"}]),
        (b"raw", b"raw"),
    ],
)
def test_to_wire_plain_values(value, expected):
    assert to_wire(value) == expected


def test_to_wire_pager_reads_every_page():
    pages = {None: (["a", "b"], "page2"), "page2": (["c"], None)}

    def get_next(token):
        return token

    def extract_data(token):
        items, next_token = pages[token]
        return next_token, iter([desktop_models.SessionHost.deserialize({"name": "hp/" + item}) for item in items])

    wire = to_wire(ItemPaged(get_next, extract_data))
    assert [host["name"] for host in wire] == ["hp/a", "hp/b", "hp/c"]


# ------------------------------------------------------------------------------ ARM clock

@pytest.mark.parametrize(
    "header, expected",
    [
        ("Mon, 02 Nov 2026 07:01:38 GMT", datetime.datetime(2026, 11, 2, 7, 1, 38, tzinfo=datetime.timezone.utc)),
        ("Tue, 01 Dec 2026 23:59:59 GMT", datetime.datetime(2026, 12, 1, 23, 59, 59, tzinfo=datetime.timezone.utc)),
    ],
)
def test_server_now_follows_date_header(awx_env, capsys, header, expected):
    def body(azure):
        local = azure.server_now()
        assert abs((local - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 5
        request = HttpRequest("GET", "https://management.azure.com/x")
        azure._record_response(PipelineResponse(request, transport_response(headers={"Date": header}), None))
        azure._record_response(PipelineResponse(request, transport_response(headers={"Date": "garbage"}), None))
        azure._record_response(PipelineResponse(request, transport_response(headers={}), None))
        azure.exit(False, server_now=azure.server_now().isoformat())

    code, result = run_module({}, body, capsys)
    assert code == 0
    assert result["server_now"] == expected.isoformat()


def test_clients_carry_the_response_hook(awx_env, capsys):
    def body(azure):
        compute, desktop = azure.compute, azure.desktop
        hooks = [client._config.custom_hook_policy._response_callback for client in (compute, desktop)]
        azure.exit(False, hooks_bound=[getattr(hook, "__self__", None) is azure for hook in hooks],
                   base=[client._config.base_url if hasattr(client._config, "base_url") else None
                         for client in (compute, desktop)],
                   scopes=[client._config.credential_scopes for client in (compute, desktop)])

    code, result = run_module({}, body, capsys)
    assert code == 0, result
    assert result["hooks_bound"] == [True, True]
    assert result["scopes"] == [["https://management.azure.com/.default"]] * 2


# ------------------------------------------------------------------------------ results

@pytest.mark.parametrize("diff_mode, has_diff", [(True, True), (False, False)])
def test_exit_returns_diff_only_in_diff_mode(awx_env, capsys, diff_mode, has_diff):
    def body(azure):
        azure.exit(True, diff=azure.make_diff(None, {"name": "x"}), name="x")

    code, result = run_module({"name": "x"}, body, capsys, diff=diff_mode)
    assert code == 0 and result["changed"] is True and result["name"] == "x"
    assert ("diff" in result) is has_diff
    if has_diff:
        assert result["diff"] == {"before": {}, "after": {"name": "x"}}


def test_check_mode_flag(awx_env, capsys):
    code, result = run_module({}, lambda azure: azure.exit(False, check=azure.check_mode), capsys, check=True)
    assert result["check"] is True


def test_fail_json_azure_reports_code_status_ids_hint_and_partial(awx_env, capsys):
    raw = requests.Response()
    raw.status_code = 409
    raw.reason = "Conflict"
    raw.headers.update({"Content-Type": "application/json", "x-ms-request-id": "req-9",
                        "x-ms-correlation-request-id": "corr-9"})
    raw._content = json.dumps({"error": {"code": "OperationNotAllowed",  # pylint: disable=protected-access
                                         "message": "The VM is being deallocated."}}).encode()
    error = HttpResponseError(response=RequestsTransportResponse(HttpRequest("PUT", "https://x"), raw),
                              error_format=ARMErrorFormat)

    code, result = run_module({}, lambda azure: azure.fail_json_azure(error, "Cannot snapshot vm1"), capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith("Cannot snapshot vm1: ")
    assert "The VM is being deallocated." in result["msg"] and "(OperationNotAllowed, HTTP 409)" in result["msg"]
    assert result["azure_error"]["request_id"] == "req-9"
    assert result["azure_error"]["correlation_id"] == "corr-9"
    assert result["azure_error"]["hint"] == _errors.ConflictError.hint
    assert "azure-mgmt-compute" in result["sdk_versions"]


def test_typed_error_partial_result_is_returned(awx_env, capsys):
    error = _errors.TimeoutError("Timed out after 60s waiting for sessions to end.", partial={"drained": ["h1"]})

    def handler(_azure):
        raise error

    code, result = run_module({}, lambda azure: azure.run(handler), capsys)
    assert code == 1
    assert result["drained"] == ["h1"]
    assert "Timed out after 60s" in result["msg"] and _errors.TimeoutError.hint in result["msg"]


def test_value_error_is_bad_input(awx_env, capsys):
    def handler(_azure):
        raise ValueError("Option 'version' must look like 1.2.3, got 'x'.")

    code, result = run_module({}, lambda azure: azure.run(handler), capsys)
    assert code == 1 and result["msg"] == "Option 'version' must look like 1.2.3, got 'x'."
    assert "azure_error" not in result


def test_bad_cloud_fails_before_any_call(awx_env, capsys):
    code, result = run_module({"cloud_environment": "Mars"}, lambda azure: azure.compute, capsys)
    assert code == 1
    assert "cloud_environment must be one of AzureCloud, AzureUSGovernment, AzureChinaCloud" in result["msg"]


def test_secret_from_environment_is_masked(awx_env, capsys):
    def body(azure):
        azure.auth  # pylint: disable=pointless-statement
        azure.fail("leaked awx-secret-value-123 here")

    code, result = run_module({}, body, capsys)
    assert code == 1
    assert "awx-secret-value-123" not in json.dumps(result)


def test_auth_options_cannot_be_redefined():
    with patch_module_args({}):
        with pytest.raises(ValueError, match="shared option"):
            AzureModule(dict(secret=dict(type="str")))
        with pytest.raises(ValueError, match="shared option"):
            AzureModule(dict(api_retries=dict(type="int")))


@pytest.mark.parametrize("args, env, named", [
    ({"api_retries": 500}, {}, "api_retries must be a whole number from 0 to 100, got 500."),
    ({}, {"ANSIBLE_AZURE_API_RETRY_TIMEOUT": "0"}, "api_retry_timeout (from ANSIBLE_AZURE_API_RETRY_TIMEOUT)"),
])
def test_bad_retry_options_fail_before_the_module_runs(awx_env, monkeypatch, capsys, args, env, named):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ran = []
    code, result = run_module(args, lambda azure: azure.run(ran.append), capsys)
    assert code == 1 and named in result["msg"] and ran == []


def test_clients_send_through_the_retry_policy(awx_env, monkeypatch, capsys):
    monkeypatch.setenv("ANSIBLE_AZURE_API_RETRIES", "4")

    def body(azure):
        policy = azure.compute._config.retry_policy  # pylint: disable=protected-access
        desktop = azure.desktop._config.retry_policy  # pylint: disable=protected-access
        azure.exit(False, kinds=[type(policy).__name__, type(desktop).__name__],
                   totals=[policy.total_retries, policy.status_retries, desktop.total_retries])

    code, result = run_module({"api_retry_timeout": 30}, body, capsys)
    assert code == 0
    assert result["kinds"] == ["ArmRetryPolicy", "ArmRetryPolicy"] and result["totals"] == [4, 4, 4]


def test_failed_operation_reports_its_code_and_state_not_http_200(awx_env, capsys):
    raw = requests.Response()
    raw.status_code = 200
    raw.headers.update({"Content-Type": "application/json"})
    raw._content = json.dumps({"status": "Failed", "error": {  # pylint: disable=protected-access
        "code": "OSProvisioningTimedOut", "message": "OS provisioning did not finish in the allotted time."}}).encode()
    error = HttpResponseError(response=RequestsTransportResponse(HttpRequest("GET", "https://x/op"), raw),
                              error_format=ARMErrorFormat)

    def handler(_azure):
        with _errors.azure_errors("start VM 'vm1'"):
            raise error

    code, result = run_module({}, lambda azure: azure.run(handler), capsys)
    assert code == 1
    assert result["msg"].startswith("Could not start VM 'vm1': Azure accepted the request, then the operation ended "
                                    "Failed: OS provisioning did not finish in the allotted time. "
                                    "(OSProvisioningTimedOut)")
    assert "HTTP 200" not in result["msg"] and "status" not in result["azure_error"]
    assert result["azure_error"]["operation_status"] == "Failed"


def test_transient_failure_says_what_the_retries_did_and_what_to_do(awx_env, capsys):
    def handler(azure):
        azure.retry_stats.record(503)
        azure.retry_stats.record(503)
        raise _errors.AzureModuleError("The service is unavailable.", code="ServiceUnavailable", status=503)

    code, result = run_module({"api_retries": 2}, lambda azure: azure.run(handler), capsys)
    assert code == 1
    assert "(ServiceUnavailable, HTTP 503)" in result["msg"]
    assert "retried 2 failed Azure calls" in result["msg"] and "api_retries=2" in result["msg"]
    assert "raise api_retries/api_retry_timeout" in result["msg"]
    assert result["azure_error"]["retries"]["by_status"] == {"503": 2}


def test_failure_names_the_operation(awx_env, capsys):
    def handler(_azure):
        with _errors.azure_errors("delete the clone VM 'c1'"):
            raise _errors.ConflictError("The VM is being deallocated.", code="OperationNotAllowed", status=409)

    code, result = run_module({}, lambda azure: azure.run(handler), capsys)
    assert code == 1
    assert result["msg"].startswith("Could not delete the clone VM 'c1': The VM is being deallocated.")
    assert result["azure_error"]["operation"] == "delete the clone VM 'c1'"
