"""Azure SDK errors map onto the typed errors; "not found" on delete is success."""

from __future__ import annotations

import json

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.core.pipeline.transport import HttpRequest, RequestsTransportResponse
from azure.mgmt.core.exceptions import ARMErrorFormat

from ansible_collections.goldenimage.avd.plugins.module_utils import _errors
from ansible_collections.goldenimage.avd.plugins.module_utils._errors import classify, ignore_not_found


def arm_response(status, code, message, headers=None):
    """A real azure-core transport response carrying an ARM error body."""
    raw = requests.Response()
    raw.status_code = status
    raw.reason = "Reason"
    raw.headers.update({"Content-Type": "application/json", "x-ms-request-id": "req-1",
                        "x-ms-correlation-request-id": "corr-1"})
    raw.headers.update(headers or {})
    raw._content = json.dumps({"error": {"code": code, "message": message}}).encode()  # pylint: disable=protected-access
    return RequestsTransportResponse(HttpRequest("GET", "https://management.azure.com/x"), raw)


def http_error(status, code="SomeCode", message="Something happened.", cls=HttpResponseError):
    return cls(response=arm_response(status, code, message), error_format=ARMErrorFormat)


@pytest.mark.parametrize(
    "status, code, expected",
    [
        (400, "InvalidParameter", _errors.BadRequestError),
        (401, "InvalidAuthenticationToken", _errors.AuthenticationError),
        (403, "AuthorizationFailed", _errors.AuthorizationError),
        (404, "ResourceNotFound", _errors.NotFoundError),
        (404, "ResourceGroupNotFound", _errors.NotFoundError),
        (409, "OperationNotAllowed", _errors.ConflictError),
        (412, "PreconditionFailed", _errors.PreconditionError),
        (429, "TooManyRequests", _errors.ThrottledError),
        (500, "InternalServerError", _errors.AzureModuleError),
        (200, "OSProvisioningTimedOut", _errors.AzureModuleError),  # a failed long-running operation
    ],
)
def test_classify_http_errors(status, code, expected):
    error = classify(http_error(status, code, "The thing went wrong."))
    assert type(error) is expected  # pylint: disable=unidiomatic-typecheck
    assert isinstance(error, _errors.AzureModuleError)
    assert error.details()["code"] == code
    assert error.details()["status"] == status
    assert error.details()["request_id"] == "req-1"
    assert error.details()["correlation_id"] == "corr-1"
    assert "The thing went wrong." in error.message
    assert error.hint


def test_classify_sdk_subclasses_and_non_http_errors():
    assert isinstance(classify(http_error(404, cls=ResourceNotFoundError)), _errors.NotFoundError)
    auth = classify(ClientAuthenticationError("AADSTS7000215: Invalid client secret provided."))
    assert isinstance(auth, _errors.AuthenticationError) and "AADSTS7000215" in auth.message
    assert isinstance(classify(ServiceRequestError("connection refused")), _errors.ConnectionFailedError)
    assert "REQUESTS_CA_BUNDLE" in _errors.ConnectionFailedError.hint
    plain = classify(RuntimeError("boom"))
    assert type(plain) is _errors.AzureModuleError and plain.message == "boom"  # pylint: disable=unidiomatic-typecheck
    typed = _errors.ConflictError("busy", partial={"done": ["a"]})
    assert classify(typed) is typed


def test_timeout_error_carries_partial_result():
    error = _errors.TimeoutError("waited too long", partial={"drained": ["h1"], "pending": ["h2"]})
    assert error.partial == {"drained": ["h1"], "pending": ["h2"]}
    assert isinstance(error, _errors.AzureModuleError)


@pytest.mark.parametrize(
    "raised, found",
    [
        (None, True),
        (http_error(404, "ResourceNotFound"), False),
        (http_error(404, "NotFound", cls=ResourceNotFoundError), False),
        (_errors.NotFoundError("gone"), False),
    ],
)
def test_ignore_not_found(raised, found):
    with ignore_not_found() as outcome:
        if raised is not None:
            raise raised
    assert outcome.found is found


@pytest.mark.parametrize("raised", [http_error(409, "Conflict"), http_error(500), ValueError("bad input")])
def test_ignore_not_found_lets_other_errors_through(raised):
    with pytest.raises(type(raised)):
        with ignore_not_found():
            raise raised
