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


def failed_operation(body):
    """What the SDK poller raises when an operation ends Failed: an error over the status poll's 200."""
    raw = requests.Response()
    raw.status_code = 200
    raw.headers.update({"Content-Type": "application/json", "x-ms-request-id": "req-2"})
    raw._content = json.dumps(body).encode()  # pylint: disable=protected-access
    response = RequestsTransportResponse(HttpRequest("GET", "https://management.azure.com/op"), raw)
    return HttpResponseError(response=response, error_format=ARMErrorFormat)


@pytest.mark.parametrize("body, state", [
    ({"status": "Failed", "error": {"code": "OSProvisioningTimedOut", "message": "The VM did not start."}}, "Failed"),
    ({"status": "Canceled", "error": {"code": "OperationCanceled", "message": "The VM did not start."}}, "Canceled"),
    ({"properties": {"provisioningState": "Failed"},
      "error": {"code": "OSProvisioningTimedOut", "message": "The VM did not start."}}, "Failed"),
])
def test_classify_failed_operation_names_its_code_not_http_200(body, state):
    error = classify(failed_operation(body))
    assert type(error) is _errors.OperationFailedError  # pylint: disable=unidiomatic-typecheck
    assert error.code == body["error"]["code"] and error.status is None
    assert error.details() == {"code": body["error"]["code"], "operation_status": state, "request_id": "req-2",
                               "hint": _errors.OperationFailedError.hint}
    assert error.message == "The VM did not start."


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


# ------------------------------------------------------------------------------ azure_errors

@pytest.mark.parametrize(
    "raised, expected",
    [
        (http_error(409, "OperationNotAllowed"), _errors.ConflictError),
        (http_error(404, "ResourceNotFound"), _errors.NotFoundError),
        (ServiceRequestError("no route"), _errors.ConnectionFailedError),
        (RuntimeError("boom"), _errors.AzureModuleError),
        (_errors.TimeoutError("Timed out."), _errors.TimeoutError),
    ],
)
def test_azure_errors_raises_the_typed_error_naming_the_operation(raised, expected):
    with pytest.raises(expected) as err:
        with _errors.azure_errors("delete the clone VM 'c1'"):
            raise raised
    assert type(err.value) is expected  # pylint: disable=unidiomatic-typecheck
    assert err.value.operation == "delete the clone VM 'c1'"


def test_azure_errors_innermost_operation_wins_and_partial_is_merged():
    with pytest.raises(_errors.ConflictError) as err:
        with _errors.azure_errors("build the image", partial={"steps": ["clone"]}):
            with _errors.azure_errors("create disk 'd1'", partial=lambda: {"created": ["s1"]}):
                raise http_error(409)
    assert err.value.operation == "create disk 'd1'"
    assert err.value.partial == {"created": ["s1"], "steps": ["clone"]}


def test_azure_errors_names_the_missing_resource():
    with pytest.raises(_errors.NotFoundError) as err:
        with _errors.azure_errors("read VM 'vm1'", not_found="VM 'vm1' was not found in resource group 'rg'."):
            raise http_error(404, "ResourceNotFound", "The Resource was not found.")
    assert err.value.message == "VM 'vm1' was not found in resource group 'rg'."
    assert err.value.code == "ResourceNotFound" and err.value.status == 404 and err.value.request_id == "req-1"


def test_azure_errors_lets_bad_input_through_and_works_as_a_decorator():
    @_errors.azure_errors("validate the options")
    def validate():
        raise ValueError("Option 'name' is required.")

    with pytest.raises(ValueError, match="Option 'name' is required."):
        validate()


_DENIED = ("The client 'app' with object id 'oid' does not have authorization to perform action "
           "'Microsoft.Compute/virtualMachines/write' over scope '/subscriptions/s/resourceGroups/rg/providers/"
           "Microsoft.Compute/virtualMachines/vm' or the scope is invalid. If access was recently granted, please "
           "refresh your credentials.")
_LINKED = ("The client 'app' with object id 'oid' has permission to perform action 'Microsoft.Compute/virtualMachines/"
           "write' on scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm'; however, "
           "it does not have permission to perform action(s) 'Microsoft.Network/virtualNetworks/subnets/join/action,"
           "Microsoft.Compute/galleries/images/versions/read' on the linked scope(s) '/subscriptions/s/net,/subscriptions/"
           "s/gal' (respectively) or the linked scope(s) are invalid.")


@pytest.mark.parametrize("code, message, hint", [
    ("AuthorizationFailed", _DENIED,
     "The identity lacks 'Microsoft.Compute/virtualMachines/write' on scope '/subscriptions/s/resourceGroups/rg/"
     "providers/Microsoft.Compute/virtualMachines/vm'."),
    ("LinkedAuthorizationFailed", _LINKED,
     "The identity lacks 'Microsoft.Network/virtualNetworks/subnets/join/action' on scope '/subscriptions/s/net'; "
     "'Microsoft.Compute/galleries/images/versions/read' on scope '/subscriptions/s/gal'."),
    ("AuthorizationFailed", "Something else.", _errors.AuthorizationError.hint),
])
def test_authorization_failures_name_the_action_and_scope(code, message, hint):
    error = classify(http_error(403, code, message))
    assert isinstance(error, _errors.AuthorizationError)
    assert error.hint.startswith(hint)


@pytest.mark.parametrize("message, expected", [
    ("AADSTS50126: Error validating credentials due to invalid username or password.", "check ad_user and password"),
    ("AADSTS50034: The user account {EUII Hidden} does not exist", "check ad_user and password"),
    ("AADSTS50076: Due to a configuration change made by your administrator", "multi-factor authentication"),
    ("AADSTS7000215: Invalid client secret provided.", "The client secret is wrong or expired"),
    ("AADSTS7000218: The request body must contain client_secret", "client_id names a confidential app"),
    ("AADSTS700016: Application with identifier 'x' was not found", "No app with this client_id"),
    ("AADSTS90002: Tenant 'x' not found.", "Unknown tenant"),
    ("Something else entirely", "ad_user/password"),  # the general hint names every option
])
def test_sign_in_errors_get_the_hint_of_their_aadsts_code(message, expected):
    error = classify(ClientAuthenticationError(message))
    assert isinstance(error, _errors.AuthenticationError)
    assert expected in error.hint


@pytest.mark.parametrize("status, code, expected", [
    (404, "ResourceGroupNotFound", "Check resource_group"),
    (404, "ParentResourceNotFound", "contains this one"),
    (404, "ResourceNotFound", "the message names the one that does not exist"),
    (404, "NotFound", "the message names the one that does not exist"),
])
def test_not_found_hints_follow_the_code(status, code, expected):
    error = classify(http_error(status, code, "missing"))
    assert expected in error.hint
    assert "subscription is the right one" not in error.hint


def test_unknown_subscription_is_not_a_missing_resource():
    error = classify(http_error(404, "SubscriptionNotFound", "The subscription 'x' could not be found."))
    assert isinstance(error, _errors.SubscriptionNotFoundError)
    assert not isinstance(error, _errors.NotFoundError)
    assert "check subscription_id" in error.hint
    with pytest.raises(HttpResponseError) as raised:
        with _errors.ignore_not_found():
            raise http_error(404, "SubscriptionNotFound", "gone")
    assert raised.value.error.code == "SubscriptionNotFound"
    assert not _errors.is_not_found(raised.value)
    with _errors.ignore_not_found() as outcome:
        raise http_error(404, "ResourceGroupNotFound", "no group")
    assert outcome.found is False and outcome.error.code == "ResourceGroupNotFound"
