"""Retries of Azure calls: the options, the pure decisions, and the policy in a real azure-core pipeline
(a scripted transport answers; its sleep() only records: no test sleeps)."""

from __future__ import annotations

import datetime
import json

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import Pipeline
from azure.core.pipeline.transport import HttpRequest, HttpTransport, RequestsTransportResponse
from azure.mgmt.core.exceptions import ARMErrorFormat

from ansible_collections.goldenimage.avd.plugins.module_utils import _retry
from ansible_collections.goldenimage.avd.plugins.module_utils._errors import OperationFailedError, ThrottledError
from ansible_collections.goldenimage.avd.plugins.module_utils._retry import (
    ArmRetryPolicy, RetrySettings, RetryStats, backoff_seconds, is_transient_operation_code, is_transient_status,
    resolve_retry_settings, retry_after_seconds, within_budget)
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import should_restart, wait_operation


# ------------------------------------------------------------------------------ options
@pytest.mark.parametrize("params, environ, expected", [
    ({}, {}, (10, 600, 0.8)),
    ({"api_retries": 3, "api_retry_timeout": 60, "api_retry_backoff": 0.5}, {}, (3, 60, 0.5)),
    ({}, {"ANSIBLE_AZURE_API_RETRIES": "4", "ANSIBLE_AZURE_API_RETRY_TIMEOUT": "90",
          "ANSIBLE_AZURE_API_RETRY_BACKOFF": "0.02"}, (4, 90, 0.02)),
    ({"api_retries": 0}, {"ANSIBLE_AZURE_API_RETRIES": "7"}, (0, 600, 0.8)),  # the option wins, 0 included
    ({"api_retries": None}, {"ANSIBLE_AZURE_API_RETRIES": ""}, (10, 600, 0.8)),
    ({"api_retries": 100, "api_retry_timeout": 86400, "api_retry_backoff": 60}, {}, (100, 86400, 60.0)),
])
def test_resolve_retry_settings(params, environ, expected):
    settings = resolve_retry_settings(params, environ)
    assert (settings.retries, settings.timeout, settings.backoff) == expected


@pytest.mark.parametrize("params, environ, named", [
    ({"api_retries": -1}, {}, "api_retries must be a whole number from 0 to 100, got -1."),
    ({"api_retries": 101}, {}, "api_retries must be a whole number from 0 to 100"),
    ({"api_retry_timeout": 0}, {}, "api_retry_timeout must be a whole number from 1 to 86400, got 0."),
    ({"api_retry_backoff": -0.1}, {}, "api_retry_backoff must be a number of seconds from 0.0 to 60.0"),
    ({}, {"ANSIBLE_AZURE_API_RETRIES": "many"},
     "api_retries (from ANSIBLE_AZURE_API_RETRIES) must be a whole number from 0 to 100, got 'many'."),
    ({}, {"ANSIBLE_AZURE_API_RETRY_TIMEOUT": "1.5"}, "api_retry_timeout (from ANSIBLE_AZURE_API_RETRY_TIMEOUT)"),
])
def test_resolve_retry_settings_names_the_bad_option(params, environ, named):
    with pytest.raises(ValueError) as err:
        resolve_retry_settings(params, environ)
    assert named in str(err.value)


# ------------------------------------------------------------------------------ pure decisions
@pytest.mark.parametrize("status, transient", [
    (408, True), (429, True), (500, True), (502, True), (503, True), (504, True),
    (200, False), (400, False), (401, False), (403, False), (404, False), (409, False), (412, False),
    (501, False), (505, False), (None, False),
])
def test_is_transient_status(status, transient):
    assert is_transient_status(status) is transient


@pytest.mark.parametrize("code, transient", [
    ("InternalServerError", True), ("InternalExecutionError", True), ("internalexecutionerror", True),
    ("InternalOperationError", True), ("RetryableError", True), ("ServiceUnavailable", True),
    ("GatewayTimeout", True), ("TooManyRequests", True), ("OperationTimedOut", True),
    ("OperationPreempted", False), ("ReplicationFailed", False), ("OSProvisioningTimedOut", False),
    ("InvalidParameter", False), ("Conflict", False), ("", False), (None, False),
])
def test_is_transient_operation_code(code, transient):
    assert is_transient_operation_code(code) is transient


@pytest.mark.parametrize("backoff, attempt, cap, expected", [
    (0.8, 1, 120, 0.8), (0.8, 2, 120, 1.6), (0.8, 3, 120, 3.2), (0.8, 10, 120, 120.0),
    (1, 8, 120, 120.0), (1, 7, 120, 64.0), (0, 5, 120, 0.0), (0.8, 0, 120, 0.0), (2, 3, 5, 5.0),
])
def test_backoff_seconds(backoff, attempt, cap, expected):
    assert backoff_seconds(backoff, attempt, cap) == pytest.approx(expected)


NOW = datetime.datetime(2026, 12, 7, 20, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "17"}, 17.0),
    ({"retry-after": "0"}, 0.0),
    ({"Retry-After": "1", "retry-after-ms": "40"}, 0.04),  # the more precise wins
    ({"x-ms-retry-after-ms": "1500"}, 1.5),
    ({"Retry-After": "Mon, 07 Dec 2026 20:00:30 GMT"}, 30.0),
    ({"Retry-After": "Mon, 07 Dec 2026 19:59:00 GMT"}, 0.0),  # a date past: at once
    ({"Retry-After": "soon"}, None),
    ({"Retry-After": "-5"}, 0.0),
    ({}, None),
    (None, None),
])
def test_retry_after_seconds(headers, expected):
    assert retry_after_seconds(headers, now=NOW) == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("elapsed, wait, timeout, allowed", [
    (0, 10, 600, True), (590, 10, 600, True), (590, 11, 600, False), (0, 700, 600, False), (0, 0, 1, True),
])
def test_within_budget(elapsed, wait, timeout, allowed):
    assert within_budget(elapsed, wait, timeout) is allowed


# ------------------------------------------------------------------------------ the policy
class ScriptedTransport(HttpTransport):
    """Answers each request with the next (status, headers) of ``script``; sleep() advances a fake clock."""

    def __init__(self, script, clock):
        self.script = list(script)
        self.clock = clock
        self.sent = []
        self.slept = []

    def send(self, request, **kwargs):
        self.sent.append(request.method)
        status, headers = self.script.pop(0)
        raw = requests.Response()
        raw.status_code = status
        raw.headers.update(headers)
        raw._content = json.dumps({"error": {"code": "X", "message": "x"}} if status >= 400 else {}).encode()  # pylint: disable=protected-access
        return RequestsTransportResponse(request, raw)

    def sleep(self, duration):
        self.slept.append(round(duration, 3))
        self.clock.now += duration

    def open(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def send(script, method="GET", retries=10, timeout=600, backoff=0.1):
    clock = Clock()
    transport = ScriptedTransport(script, clock)
    stats = RetryStats()
    policy = ArmRetryPolicy(RetrySettings(retries, timeout, backoff), stats, clock=clock)
    response = Pipeline(transport, policies=[policy]).run(HttpRequest(method, "https://management.azure.com/x"))
    return response.http_response.status_code, transport, stats


@pytest.mark.parametrize("script, method, status, slept, retried", [
    # throttled: the wait the response names (ms first), every time
    ([(429, {"Retry-After": "1", "retry-after-ms": "50"})] * 3 + [(200, {})], "GET", 200, [0.05] * 3, {"429": 3}),
    ([(429, {"Retry-After": "2"}), (200, {})], "POST", 200, [2.0], {"429": 1}),
    # transient 5xx without a wait: exponential back-off from api_retry_backoff
    ([(503, {}), (500, {}), (504, {}), (200, {})], "PUT", 200, [0.1, 0.2, 0.4], {"503": 1, "500": 1, "504": 1}),
    ([(500, {}), (200, {})], "POST", 200, [0.1], {"500": 1}),
    # azure-core's rules stay: POST is not retried on 502 (the request may have been carried out)
    ([(502, {}), (200, {})], "POST", 502, [], {}),
    ([(502, {}), (200, {})], "DELETE", 200, [0.1], {"502": 1}),
    # not transient: at once
    ([(409, {}), (200, {})], "PUT", 409, [], {}),
    ([(400, {}), (200, {})], "GET", 400, [], {}),
])
def test_policy_retries_transient_failures(script, method, status, slept, retried):
    got, transport, stats = send(script, method)
    assert got == status
    assert transport.slept == slept
    assert stats.by_status == retried and stats.retries == sum(retried.values())


def test_policy_stops_after_api_retries():
    got, transport, stats = send([(503, {})] * 10, retries=3)
    assert got == 503 and len(transport.sent) == 4 and stats.retries == 3


def test_policy_does_not_wait_past_api_retry_timeout():
    # a Retry-After beyond the budget: the 429 is returned at once, not slept on
    got, transport, stats = send([(429, {"Retry-After": "700"}), (200, {})], timeout=600)
    assert got == 429 and transport.slept == [] and stats.gave_up == 1
    # back-off adds up until the next wait would end after the timeout: 1 + 2 + 4 = 7 <= 10, + 8 > 10
    got, transport, stats = send([(503, {})] * 10, timeout=10, backoff=1)
    assert got == 503 and transport.slept == [1, 2, 4] and stats.gave_up == 1


# ------------------------------------------------------------------------------ restarts of operations
def failed_operation(code, state="Failed"):
    raw = requests.Response()
    raw.status_code = 200
    raw.headers.update({"Content-Type": "application/json"})
    raw._content = json.dumps({"status": state, "error": {"code": code, "message": "went wrong"}}).encode()  # pylint: disable=protected-access
    return HttpResponseError(response=RequestsTransportResponse(HttpRequest("GET", "https://x/op"), raw),
                             error_format=ARMErrorFormat)


class Poller:
    """An operation that ends as scripted: raises ``outcome`` from result(), or returns it."""

    def __init__(self, outcome):
        self.outcome = outcome

    def wait(self, timeout=None):
        pass

    def done(self):
        return True

    def result(self, timeout=None):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.mark.parametrize("error, restarts, limit, expired, expected", [
    (OperationFailedError("x", code="InternalExecutionError"), 0, 10, False, True),
    (OperationFailedError("x", code="RetryableError"), 9, 10, False, True),
    (OperationFailedError("x", code="RetryableError"), 10, 10, False, False),
    (OperationFailedError("x", code="RetryableError"), 0, 10, True, False),
    (OperationFailedError("x", code="InternalExecutionError", operation_status="Canceled"), 0, 10, False, False),
    (OperationFailedError("x", code="OperationPreempted"), 0, 10, False, False),
    (OperationFailedError("x", code="ReplicationFailed"), 0, 10, False, False),
    (ThrottledError("x", code="TooManyRequests", status=429), 0, 10, False, False),  # the SDK retried it already
])
def test_should_restart(error, restarts, limit, expired, expected):
    assert should_restart(error, restarts, limit, expired) is expected


def start_script(outcomes):
    started = []

    def start():
        started.append(len(started))
        return Poller(outcomes[len(started) - 1])
    return start, started


def test_wait_operation_restarts_an_idempotent_operation_after_transient_failures():
    _retry.activate(RetrySettings(retries=3), RetryStats())
    start, started = start_script([failed_operation("InternalExecutionError"), failed_operation("RetryableError"),
                                   {"provisioningState": "Succeeded"}])
    assert wait_operation(start, 60, "deallocate VM 'vm1'", restart=True) == {"provisioningState": "Succeeded"}
    assert len(started) == 3 and _retry.active_stats().restarts == 2


def test_wait_operation_stops_at_the_restart_limit_with_the_real_error():
    _retry.activate(RetrySettings(retries=2), RetryStats())
    start, started = start_script([failed_operation("InternalExecutionError")] * 5)
    with pytest.raises(OperationFailedError) as err:
        wait_operation(start, 60, "deallocate VM 'vm1'", restart=True)
    assert len(started) == 3
    assert err.value.code == "InternalExecutionError" and err.value.operation == "deallocate VM 'vm1'"


@pytest.mark.parametrize("restart, code", [(True, "OSProvisioningTimedOut"), (False, "InternalExecutionError")])
def test_wait_operation_does_not_restart_a_permanent_failure_or_without_leave(restart, code):
    _retry.activate(RetrySettings(retries=5), RetryStats())
    start, started = start_script([failed_operation(code), {"ok": True}])
    with pytest.raises(OperationFailedError):
        wait_operation(start, 60, "start VM 'vm1'", restart=restart)
    assert len(started) == 1


def test_wait_operation_restarts_a_running_poller_through_its_restart_callable():
    # operations started side by side: the first poller is given, the restart starts a new one
    _retry.activate(RetrySettings(retries=3), RetryStats())
    start, started = start_script([{"id": "disk-1"}])
    first = Poller(failed_operation("InternalServerError"))
    assert wait_operation(first, 60, "create disk 'd1'", restart=start) == {"id": "disk-1"}
    assert len(started) == 1


def test_wait_operation_restart_needs_a_callable():
    with pytest.raises(ValueError, match="callable"):
        wait_operation(Poller({}), 60, "start VM 'vm1'", restart=True)
