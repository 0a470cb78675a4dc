# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Retries of Azure Resource Manager calls: the options (``api_retries``, ``api_retry_timeout``,
``api_retry_backoff``), the azure-core retry policy every client of the collection sends through,
and the pure decisions (which status and which failed-operation code are transient, how long to
wait before the next attempt, whether the budget allows it).

Azure's guidance: retry throttled requests (429) after the ``Retry-After`` the response carries
(https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
"Error code") and transient failures (408, 5xx) with exponential back-off
(https://learn.microsoft.com/azure/architecture/best-practices/transient-faults).
"""

from __future__ import annotations

import datetime
import os
import time
from email.utils import parsedate_to_datetime

try:
    from azure.core.pipeline.policies import RetryPolicy
except ImportError:  # the module layer reports the missing library through missing_required_lib
    RetryPolicy = object

RETRY_ARGUMENT_SPEC = dict(
    api_retries=dict(type="int"),
    api_retry_timeout=dict(type="int"),
    api_retry_backoff=dict(type="float"),
)

# option -> environment variable (the collection's own options read ANSIBLE_AZURE_*, as auth_source does)
ENV_NAMES = {
    "api_retries": "ANSIBLE_AZURE_API_RETRIES",
    "api_retry_timeout": "ANSIBLE_AZURE_API_RETRY_TIMEOUT",
    "api_retry_backoff": "ANSIBLE_AZURE_API_RETRY_BACKOFF",
}
DEFAULTS = {"api_retries": 10, "api_retry_timeout": 600, "api_retry_backoff": 0.8}
# inclusive bounds: the option's name and these go into the error message
LIMITS = {"api_retries": (0, 100), "api_retry_timeout": (1, 86400), "api_retry_backoff": (0.0, 60.0)}
BACKOFF_MAX = 120.0  # azure-core's RetryPolicy.BACKOFF_MAX: no back-off sleeps longer

# Statuses azure-core retries (RetryPolicy's default list): request timeout, throttling, transient 5xx.
TRANSIENT_STATUSES = frozenset((408, 429, 500, 502, 503, 504))

# Error codes of a long-running operation that ended Failed for a reason on Azure's side that a new
# attempt may not meet: the internal and transient failures of ARM and the Compute resource provider
# (the error object of the operation status, https://learn.microsoft.com/azure/azure-resource-manager/
# management/async-operations; codes: https://learn.microsoft.com/azure/azure-resource-manager/
# troubleshooting/common-deployment-errors, and the status codes' names for a gateway failure).
# Not OperationPreempted: another client's newer operation on the same resource replaced this one,
# and starting ours again would undo what that client asked for.
TRANSIENT_OPERATION_CODES = frozenset(code.lower() for code in (
    "InternalServerError", "InternalExecutionError", "InternalOperationError", "RetryableError",
    "ServiceUnavailable", "GatewayTimeout", "BadGateway", "TooManyRequests", "OperationTimedOut",
))


class RetrySettings:
    """The resolved retry options."""

    def __init__(self, retries=DEFAULTS["api_retries"], timeout=DEFAULTS["api_retry_timeout"],
                 backoff=DEFAULTS["api_retry_backoff"]):
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff

    def describe(self):
        return {"api_retries": self.retries, "api_retry_timeout": self.timeout, "api_retry_backoff": self.backoff}


def _number(option, value, source):
    kind = int if option != "api_retry_backoff" else float
    low, high = LIMITS[option]
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise ValueError("%s%s must be %s from %s to %s, got %r." % (
            option, source, "a whole number" if kind is int else "a number of seconds", low, high, value))
    return number


def resolve_retry_settings(params, environ=None):
    """``RetrySettings`` from the module options, else their environment variables, else the defaults.

    A value out of range raises ``ValueError`` naming the option (and the variable it came from).
    """
    environ = os.environ if environ is None else environ
    values = {}
    for option, variable in ENV_NAMES.items():
        value, source = (params or {}).get(option), ""
        if value is None and environ.get(variable) not in (None, ""):
            value, source = environ[variable], " (from %s)" % variable
        values[option] = DEFAULTS[option] if value is None else _number(option, value, source)
    return RetrySettings(values["api_retries"], values["api_retry_timeout"], values["api_retry_backoff"])


# ------------------------------------------------------------------------------ pure decisions
def is_transient_status(status):
    """Whether an HTTP status is worth another attempt (throttling, request timeout, transient 5xx)."""
    return status in TRANSIENT_STATUSES


def is_transient_operation_code(code):
    """Whether a long-running operation that ended Failed with ``code`` may succeed when started again."""
    return bool(code) and str(code).lower() in TRANSIENT_OPERATION_CODES


def backoff_seconds(backoff, attempt, cap=BACKOFF_MAX):
    """Exponential back-off before retry number ``attempt`` (1, 2, ...): backoff, 2x, 4x ..., at most ``cap``."""
    if attempt < 1 or backoff <= 0:
        return 0.0
    return min(float(cap), float(backoff) * (2 ** (attempt - 1)))


def retry_after_seconds(headers, now=None):
    """The wait a response asks for, in seconds, or None: ``retry-after-ms`` / ``x-ms-retry-after-ms``
    (the more precise) first, then ``Retry-After`` (seconds or an HTTP date)."""
    lowered = {str(key).lower(): value for key, value in (headers or {}).items()}
    for name, scale in (("retry-after-ms", 1000.0), ("x-ms-retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value in (None, ""):
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        if name == "retry-after":
            return _http_date_seconds(value, now)
    return None


def _http_date_seconds(value, now):
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def within_budget(elapsed, wait, timeout):
    """Whether waiting ``wait`` more seconds after ``elapsed`` stays inside ``timeout``."""
    return elapsed + wait <= timeout


# ------------------------------------------------------------------------------ the policy
class RetryStats:
    """What the retries of one module run did (for failures and the module's warnings)."""

    def __init__(self):
        self.retries = 0
        self.by_status = {}
        self.gave_up = 0
        self.restarts = 0

    def record(self, status):
        self.retries += 1
        key = str(status) if status else "connection"
        self.by_status[key] = self.by_status.get(key, 0) + 1

    def as_dict(self):
        return {"retries": self.retries, "by_status": dict(self.by_status), "gave_up": self.gave_up,
                "operations_restarted": self.restarts}


class ArmRetryPolicy(RetryPolicy):  # pylint: disable=too-many-ancestors
    """azure-core's ``RetryPolicy`` with the collection's settings: ``api_retries`` attempts after the
    first (status, connection and read errors alike), the ``retry-after-ms`` header before
    ``Retry-After``, exponential back-off from ``api_retry_backoff`` when the response names no wait,
    and no retry whose wait would end after ``api_retry_timeout`` seconds from the first attempt.

    azure-core keeps its own rules of what may be retried: the statuses of ``TRANSIENT_STATUSES``
    (any status with a ``Retry-After``), and POST or PATCH only on 500, 503 and 504, or with a
    ``Retry-After``.
    """

    def __init__(self, settings, stats=None, clock=time.monotonic):
        super().__init__(retry_total=settings.retries, retry_connect=settings.retries,
                         retry_read=settings.retries, retry_status=settings.retries,
                         retry_backoff_factor=settings.backoff, retry_backoff_max=BACKOFF_MAX)
        self.settings = settings
        self.stats = stats if stats is not None else RetryStats()
        self._clock = clock

    def configure_retries(self, options):
        retry_settings = super().configure_retries(options)
        retry_settings["goldenimage_start"] = self._clock()
        return retry_settings

    def get_backoff_time(self, settings):
        return backoff_seconds(settings["backoff"], len(settings["history"]), settings["max_backoff"])

    def get_retry_after(self, response):
        return retry_after_seconds(getattr(response.http_response, "headers", None))

    def increment(self, settings, response=None, error=None):
        if not super().increment(settings, response=response, error=error):
            return False
        http = getattr(response, "http_response", None) if error is None else None
        wait = self.get_retry_after(response) if http is not None else None
        if wait is None:
            wait = self.get_backoff_time(settings)
        if not within_budget(self._clock() - settings["goldenimage_start"], wait, self.settings.timeout):
            self.stats.gave_up += 1
            return False
        self.stats.record(getattr(http, "status_code", None))
        return True


# The settings of this module run, for the waits that restart operations (``_wait.wait_operation``):
# one module run is one process, and ``AzureModule`` sets them when it resolves its options.
_ACTIVE = {"settings": RetrySettings(), "stats": RetryStats()}


def activate(settings, stats):
    _ACTIVE["settings"] = settings
    _ACTIVE["stats"] = stats


def active_settings():
    return _ACTIVE["settings"]


def active_stats():
    return _ACTIVE["stats"]
