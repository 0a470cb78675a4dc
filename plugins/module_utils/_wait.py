# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Bounded waits: a monotonic deadline, a polling loop and a timeout around SDK pollers."""

from __future__ import annotations

import contextlib
import time

from ._errors import AzureModuleError, OperationFailedError, TimeoutError, azure_errors  # pylint: disable=redefined-builtin
from ._retry import active_settings, active_stats, is_transient_operation_code


class Deadline:
    """A point in time ``timeout`` seconds from now on a monotonic clock.

    ``clock`` is injectable so tests can drive time without sleeping.
    """

    def __init__(self, timeout, clock=time.monotonic):
        if timeout is None or timeout < 0:
            raise ValueError("timeout must be a number of seconds >= 0, got %r" % (timeout,))
        self.timeout = float(timeout)
        self._clock = clock
        self._start = clock()
        self._end = self._start + self.timeout

    @classmethod
    def of(cls, timeout_or_deadline, clock=time.monotonic):
        """Accept either seconds or an existing Deadline (shared by several steps)."""
        if isinstance(timeout_or_deadline, Deadline):
            return timeout_or_deadline
        return cls(timeout_or_deadline, clock=clock)

    def elapsed(self):
        return self._clock() - self._start

    def remaining(self):
        return max(0.0, self._end - self._clock())

    def expired(self):
        return self._clock() >= self._end


def check_poll_interval(value, option="poll_interval"):
    """Validate a poll interval: seconds > 0, fractions allowed (tests poll a simulator often)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError("%s: must be a number of seconds > 0 (fractions allowed), got %r." % (option, value))
    return float(value)


def check_timeout(value, option="timeout"):
    """Validate a timeout option: whole seconds >= 0 (0: do not wait)."""
    if value < 0:
        raise ValueError("Option '%s' must be >= 0 seconds, got %d." % (option, value))
    return value


def _partial(partial):
    if callable(partial):
        return partial()
    return partial


def wait_for(predicate, timeout, poll_interval, describe, partial=None, clock=time.monotonic, sleep=time.sleep):
    """Call ``predicate()`` until it returns a truthy value, and return that value.

    The first call happens at once, then one call every ``poll_interval`` seconds, and never
    beyond ``timeout`` (seconds or a ``Deadline``). On timeout raises ``TimeoutError`` naming
    ``describe`` and carrying ``partial`` (a dict, or a callable returning one, of what was done).
    """
    check_poll_interval(poll_interval)
    deadline = Deadline.of(timeout, clock=clock)
    attempts = 0
    while True:
        attempts += 1
        value = predicate()
        if value:
            return value
        if deadline.expired():
            raise TimeoutError(
                "Timed out after %ss waiting for %s (%d checks)." % (_seconds(deadline.timeout), describe, attempts),
                partial=_partial(partial),
            )
        sleep(min(poll_interval, max(deadline.remaining(), 0.0)))


def wait_poller(poller, timeout, describe="the Azure operation", partial=None, clock=time.monotonic):
    """Wait for an azure-core ``LROPoller`` at most ``timeout`` (seconds or a ``Deadline``), return its result.

    The poller follows the server's Retry-After; this only bounds the total time.
    """
    deadline = Deadline.of(timeout, clock=clock)
    poller.wait(timeout=deadline.remaining())
    if not poller.done():
        raise TimeoutError(
            "Timed out after %ss waiting for %s (last status: %s)." % (
                _seconds(deadline.timeout), describe, _status(poller)),
            partial=_partial(partial),
        )
    return poller.result()


def wait_operation(poller, timeout, operation, partial=None, clock=time.monotonic, restart=None):
    """``wait_poller`` for the long-running ``operation`` ("delete the clone VM 'c1'"): its result.

    ``poller`` is an azure-core ``LROPoller``, or a callable that starts the operation and returns
    one. ``restart`` (only for an operation that is safe to repeat: a PUT or PATCH of the same
    body, a start, a deallocate, a delete) is a callable that starts it again, or True to call
    ``poller`` again: an operation that ends Failed with a transient error code
    (``_retry.is_transient_operation_code``) is started again, at most ``api_retries`` times and
    within ``timeout``; any other failure stops at once.
    Any error, the timeout included, names ``operation`` and carries ``partial`` (see ``azure_errors``).
    """
    if restart is True:
        if not callable(poller):
            raise ValueError("wait_operation: restart=True needs a callable that starts the operation")
        restart = poller
    restart = restart or None
    deadline = Deadline.of(timeout, clock=clock)
    restarts = 0
    start = poller if callable(poller) else (lambda: poller)
    while True:
        try:
            with azure_errors(operation, partial=partial):
                current = start()
                return wait_poller(current, deadline, describe="Azure to %s" % operation, partial=partial, clock=clock)
        except AzureModuleError as err:
            if restart is None or not should_restart(err, restarts, active_settings().retries, deadline.expired()):
                raise
            restarts += 1
            active_stats().restarts += 1
            start = restart


def start_operation(start, operation, partial=None):
    """``start()`` (an SDK ``begin_*`` call) inside ``azure_errors(operation)``: its poller, or a typed
    error naming ``operation`` (the retries of the request included: throttled or unavailable for longer)."""
    with azure_errors(operation, partial=partial):
        return start()


def should_restart(error, restarts, limit, expired):
    """Whether a failed long-running operation is started again: it ended Failed (not an HTTP
    error of the request, not a timeout) with a transient code, fewer than ``limit`` restarts were
    made, and time is left."""
    return isinstance(error, OperationFailedError) and error.operation_status == "Failed" \
        and is_transient_operation_code(error.code) and restarts < limit and not expired


def _status(poller):
    with contextlib.suppress(Exception):  # only for the message: a poller that cannot say is "unknown"
        return poller.status()
    return "unknown"


def _seconds(value):
    return int(value) if float(value).is_integer() else value
