# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Typed errors raised by the domain layer, and the mapping of Azure SDK errors onto them."""

from __future__ import annotations

import contextlib
import json
import re

try:
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )
except ImportError:  # the module layer reports the missing library through missing_required_lib
    ClientAuthenticationError = HttpResponseError = ServiceRequestError = ServiceResponseError = None


class AzureModuleError(Exception):
    """Base of every error the collection raises.

    ``partial`` is what was done before the error (a dict the module returns beside ``msg``),
    the other attributes describe the Azure response when there was one.
    """

    hint = None
    operation = None  # what the collection was doing, in words ("delete the clone VM"); see azure_errors

    def __init__(self, message, partial=None, code=None, status=None, request_id=None,
                 correlation_id=None, hint=None):
        super().__init__(message)
        self.message = message
        self.partial = dict(partial or {})
        self.code = code
        self.status = status
        self.request_id = request_id
        self.correlation_id = correlation_id
        if hint is not None:
            self.hint = hint

    def details(self):
        """The error as a result dict; keys without a value are left out."""
        out = {
            "code": self.code,
            "status": self.status,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
            "hint": self.hint,
        }
        return {key: value for key, value in out.items() if value is not None}


class NotFoundError(AzureModuleError):
    hint = "Check the resource group and resource names; the message names the one that does not exist."


class SubscriptionNotFoundError(AzureModuleError):
    """ARM knows no such subscription, or not for this identity: not "the resource does not
    exist", so ``get_or_none`` and ``ignore_not_found`` let it through."""

    hint = ("The subscription does not exist or the identity cannot see it: check subscription_id "
            "(or AZURE_SUBSCRIPTION_ID) and the identity's role assignments.")


class ConflictError(AzureModuleError):
    hint = ("Another operation is changing this resource, or its current state does not allow the change; "
            "wait for it to finish and run again.")


class PreconditionError(AzureModuleError):
    hint = "The resource is not in a state that allows this step; the message says which condition failed."


class AuthenticationError(AzureModuleError):
    hint = ("Check the credentials (client_id/secret/tenant or ad_user/password, or their AZURE_* "
            "environment variables), auth_source and cloud_environment.")


class AuthorizationError(AzureModuleError):
    hint = "The identity is signed in but lacks a role assignment for this operation on this scope."


class ThrottledError(AzureModuleError):
    hint = "Azure Resource Manager throttled the requests; run again later or with fewer hosts per batch."


class BadRequestError(AzureModuleError):
    hint = "Azure rejected the request; the code and message name the property that is wrong."


class ConnectionFailedError(AzureModuleError):
    hint = ("Azure Resource Manager could not be reached: check cloud_environment, the network, and "
            "REQUESTS_CA_BUNDLE when the endpoint uses a private CA.")


class OperationFailedError(AzureModuleError):
    """Azure accepted the request, and the long-running operation it started ended ``Failed`` (or
    ``Canceled``): the code and message are the operation's, there is no HTTP error status."""

    hint = "Azure accepted the request, then the operation failed; the code and message say why."

    def __init__(self, message, operation_status="Failed", **kwargs):
        super().__init__(message, **kwargs)
        self.operation_status = operation_status

    def details(self):
        out = super().details()
        out["operation_status"] = self.operation_status
        return out


class TimeoutError(AzureModuleError):  # pylint: disable=redefined-builtin
    hint = "Raise the timeout, or run again: the task continues from where it stopped."


# Hints where the error code says more than its HTTP status. ARM codes:
# https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors
_HINT_BY_CODE = {
    "ResourceGroupNotFound": "Check resource_group: the subscription has no resource group of that name.",
    "ParentResourceNotFound": "The resource that contains this one (the message names it) does not exist.",
    "InvalidSubscriptionId": "subscription_id must be a subscription GUID.",
}

# Microsoft Entra sign-in errors (AADSTS codes in the message):
# https://learn.microsoft.com/entra/identity-platform/reference-error-codes
_AUTH_HINTS = (
    (("AADSTS50126", "AADSTS50034"),
     "Microsoft Entra refused the user's sign-in: check ad_user and password (or AZURE_AD_USER and "
     "AZURE_PASSWORD)."),
    (("AADSTS50076", "AADSTS50079", "AADSTS50158"),
     "The user must use multi-factor authentication, which a password sign-in cannot: use a service "
     "principal (client_id/secret/tenant) or a managed identity."),
    (("AADSTS7000215", "AADSTS7000222"),
     "The client secret is wrong or expired: check secret (or AZURE_SECRET/AZURE_CLIENT_SECRET) of the "
     "app in client_id."),
    (("AADSTS7000218",),
     "client_id names a confidential app: give its secret, or, for ad_user/password, leave client_id "
     "unset (the Azure CLI's public client) or name a public client."),
    (("AADSTS700016",), "No app with this client_id in the tenant: check client_id and tenant."),
    (("AADSTS90002",), "Unknown tenant: check tenant (or AZURE_TENANT) and cloud_environment."),
)


def _auth_hint(message):
    for codes, hint in _AUTH_HINTS:
        if any(code in message for code in codes):
            return hint
    return None


_BY_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionError,
    429: ThrottledError,
}


def _header(response, name):
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        return headers.get(name)
    except AttributeError:
        return None


def classify(exc):
    """Map any exception onto an ``AzureModuleError`` subclass (returned, not raised)."""
    if isinstance(exc, AzureModuleError):
        return exc
    if ClientAuthenticationError is not None and isinstance(exc, ClientAuthenticationError) \
            and (getattr(exc, "response", None) is None or "AADSTS" in str(exc)):
        # a sign-in refused by Microsoft Entra (not a 401 of Azure Resource Manager)
        message = _first_line(exc)
        return AuthenticationError(message, hint=_auth_hint(message))
    status = getattr(exc, "status_code", None)
    if HttpResponseError is not None and isinstance(exc, HttpResponseError) or status is not None:
        return _classify_http(exc, status)
    if ServiceRequestError is not None and isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return ConnectionFailedError(_first_line(exc))
    return AzureModuleError(_first_line(exc) or exc.__class__.__name__)


def _classify_http(exc, status):
    """An HTTP error of ARM, or (status below 400) a long-running operation that ended Failed: the
    poller raises that with the status poll's 200, which says nothing about the failure."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
    response = getattr(exc, "response", None)
    ids = dict(request_id=_header(response, "x-ms-request-id"),
               correlation_id=_header(response, "x-ms-correlation-request-id"))
    if status is not None and status < 400:
        return OperationFailedError(_first_line(message), operation_status=_operation_status(response),
                                    code=code, hint=_HINT_BY_CODE.get(code), **ids)
    cls = SubscriptionNotFoundError if code == "SubscriptionNotFound" else _BY_STATUS.get(status)
    if cls is None:
        cls = AzureModuleError
        if code == "ResourceNotFound":
            cls = NotFoundError
    return cls(_first_line(message), code=code, status=status, hint=_error_hint(cls, code, message, status), **ids)


def _operation_status(response):
    """``status`` of an operation-status body (``Failed``, ``Canceled``), or the resource's
    ``provisioningState``; ``Failed`` when the body says neither."""
    with contextlib.suppress(Exception):  # only for the message: a body that cannot say is "Failed"
        body = json.loads(response.text())
        return body.get("status") or (body.get("properties") or {}).get("provisioningState") or "Failed"
    return "Failed"


_DENIED = re.compile(r"perform action '([^']+)' over scope '([^']+)'")
_LINKED = re.compile(r"perform action\(s\) '([^']+)' on the linked scope\(s\) '([^']+)'")


def _authorization_hint(code, message):
    """Name the missing action(s) and scope(s) of Azure's AuthorizationFailed /
    LinkedAuthorizationFailed message; None keeps the class's generic hint."""
    text = str(message or "")
    found = _DENIED.search(text) if code == "AuthorizationFailed" else _LINKED.search(text) \
        if code == "LinkedAuthorizationFailed" else None
    if not found:
        return None
    pairs = zip(found.group(1).split(","), found.group(2).split(","))
    return ("The identity lacks %s. Grant it with a role assignment (the collection's custom role, "
            "meta/goldenimage-avd-operator-role.json, holds every action the collection uses)."
            % "; ".join("'%s' on scope '%s'" % pair for pair in pairs))


def _error_hint(cls, code, message, status):
    """A hint only where it is specific: the missing action of an authorization failure, a
    hint for the ARM error code, else the generic one for the status of an unclassified error."""
    if cls is AuthorizationError:
        return _authorization_hint(code, message)
    return _HINT_BY_CODE.get(code) or (None if cls is not AzureModuleError else _generic_hint(status))


def _generic_hint(status):
    if status and status >= 500:
        return ("Azure reported a server-side failure; run again, and open a support case with the "
                "correlation id if it persists.")
    return None


@contextlib.contextmanager
def azure_errors(operation, not_found=None, partial=None):
    """Name the operation an error inside the block belongs to, and raise it as a typed error.

    ``with azure_errors("delete the clone VM"): ...`` or, as a decorator, ``@azure_errors("...")``.
    Any exception becomes its ``AzureModuleError`` (``classify``) carrying ``operation`` (the
    innermost block names it; None only classifies), so the failure message says which step
    failed. ``not_found`` replaces the Azure message of a "not found" error (name the resource the
    user gave). ``partial`` (a dict, or a callable returning one) is merged into the error's
    partial result. ``ValueError`` (bad input) passes unchanged.
    """
    try:
        yield
    except ValueError:
        raise  # bad input, found before Azure was asked: the module reports it as it is
    except Exception as exc:  # pylint: disable=broad-except
        err = classify(exc)
        if not_found is not None and isinstance(err, NotFoundError) and err.operation is None:
            err = NotFoundError(not_found, partial=err.partial, code=err.code, status=err.status,
                                request_id=err.request_id, correlation_id=err.correlation_id)
        if err.operation is None and operation:
            err.operation = operation
        if partial is not None:
            err.partial.update(partial() if callable(partial) else partial)
        if err is exc:
            raise
        raise err from exc


def get_or_none(operation, *args, **kwargs):
    """Run a read operation: its result, ``None`` when the resource does not exist, else a typed error."""
    with ignore_not_found(), azure_errors(None):
        return operation(*args, **kwargs)
    return None


def is_not_found(exc):
    return isinstance(classify(exc), NotFoundError)


def _first_line(value):
    text = str(value).strip()
    # SDK messages append the whole response body after a blank line; the first lines are enough.
    return text.split("\n\n", 1)[0].strip()


class _Outcome:
    found = True
    error = None  # the NotFoundError when not found: its ``code`` says what is missing


@contextlib.contextmanager
def ignore_not_found():
    """Treat "not found" as success (idempotent deletes).

    ``with ignore_not_found() as outcome: client.begin_delete(...)``; afterwards ``outcome.found``
    is False when the resource was already gone (``outcome.error`` says what was missing). Any
    other error, an unknown subscription included, propagates unchanged.
    """
    outcome = _Outcome()
    try:
        yield outcome
    except Exception as exc:  # pylint: disable=broad-except
        error = classify(exc)
        if not isinstance(error, NotFoundError):
            raise
        outcome.found = False
        outcome.error = error
