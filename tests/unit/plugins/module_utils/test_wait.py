"""Bounded waits on an injected clock: no test sleeps."""

from __future__ import annotations

import pytest
from azure.core.polling import LROPoller, NoPolling

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import TimeoutError as WaitTimeout
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import Deadline, wait_for, wait_operation, wait_poller


class FakeClock:
    """Monotonic clock the test advances; sleep() advances it."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    "timeout, advance, remaining, expired",
    [
        (60, 0, 60, False),
        (60, 59.5, 0.5, False),
        (60, 60, 0, True),
        (60, 90, 0, True),
        (0, 0, 0, True),
    ],
)
def test_deadline(timeout, advance, remaining, expired):
    clock = FakeClock()
    deadline = Deadline(timeout, clock=clock)
    clock.now += advance
    assert deadline.remaining() == pytest.approx(remaining)
    assert deadline.expired() is expired
    assert deadline.elapsed() == pytest.approx(advance)


@pytest.mark.parametrize("timeout", [None, -1])
def test_deadline_rejects_bad_timeouts(timeout):
    with pytest.raises(ValueError, match="timeout"):
        Deadline(timeout)


def test_deadline_of_shares_one_deadline():
    clock = FakeClock()
    deadline = Deadline(100, clock=clock)
    assert Deadline.of(deadline) is deadline
    assert Deadline.of(30, clock=clock).remaining() == 30


@pytest.mark.parametrize(
    "ready_after_checks, timeout, interval, expected_sleeps",
    [
        (1, 60, 10, []),                 # ready at once: no sleep
        (3, 60, 10, [10, 10]),           # two polls later
        (4, 25, 10, [10, 10, 5]),        # the last sleep is cut to the deadline
    ],
)
def test_wait_for_polls_until_ready(ready_after_checks, timeout, interval, expected_sleeps):
    clock = FakeClock()
    checks = []

    def predicate():
        checks.append(clock.now)
        return {"state": "ready"} if len(checks) >= ready_after_checks else None

    value = wait_for(predicate, timeout, interval, "the host to be ready", clock=clock, sleep=clock.sleep)
    assert value == {"state": "ready"}
    assert clock.sleeps == expected_sleeps
    assert len(checks) == ready_after_checks


def test_wait_for_times_out_with_partial_result():
    clock = FakeClock()
    drained = []

    def predicate():
        drained.append("h%d" % len(drained))
        return False

    with pytest.raises(WaitTimeout) as err:
        wait_for(predicate, 30, 10, "sessions to end", partial=lambda: {"drained": list(drained)},
                 clock=clock, sleep=clock.sleep)
    assert "Timed out after 30s waiting for sessions to end (4 checks)" in str(err.value)
    assert err.value.partial == {"drained": ["h0", "h1", "h2", "h3"]}
    assert clock.now - 1000.0 == 30
    assert sum(clock.sleeps) <= 30


@pytest.mark.parametrize("interval", [0, -5, None])
def test_wait_for_rejects_bad_poll_interval(interval):
    with pytest.raises(ValueError, match="poll_interval"):
        wait_for(lambda: True, 10, interval, "x")


def test_wait_poller_returns_result_of_a_real_poller():
    poller = LROPoller(None, "initial", lambda response: {"provisioningState": "Succeeded"}, NoPolling())
    assert wait_poller(poller, 5) == {"provisioningState": "Succeeded"}


class NeverDone:
    """An operation that does not finish: stands in for an Azure LRO that outlives the timeout."""

    def __init__(self):
        self.waited = []

    def wait(self, timeout=None):
        self.waited.append(timeout)

    def done(self):
        return False

    def status(self):
        return "InProgress"

    def result(self, timeout=None):
        raise AssertionError("result() must not be called on timeout")


def test_wait_poller_times_out_with_status_and_partial():
    clock = FakeClock()
    deadline = Deadline(120, clock=clock)
    clock.now += 100  # earlier steps used most of the shared deadline
    poller = NeverDone()
    with pytest.raises(WaitTimeout) as err:
        wait_poller(poller, deadline, describe="replication to northeurope", partial={"version": "1.0.1"})
    assert poller.waited == [pytest.approx(20)]
    assert "replication to northeurope" in str(err.value) and "InProgress" in str(err.value)
    assert err.value.partial == {"version": "1.0.1"}


def test_wait_operation_names_the_operation_on_timeout():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        wait_operation(NeverDone(), Deadline(30, clock=clock), "delete the clone VM 'c1'",
                       partial=lambda: {"deleted": []}, clock=clock)
    assert "waiting for Azure to delete the clone VM 'c1'" in str(err.value)
    assert err.value.operation == "delete the clone VM 'c1'" and err.value.partial == {"deleted": []}


def test_wait_operation_returns_the_result():
    poller = LROPoller(None, "initial", lambda response: {"provisioningState": "Succeeded"}, NoPolling())
    assert wait_operation(poller, 5, "create disk 'd1'") == {"provisioningState": "Succeeded"}
