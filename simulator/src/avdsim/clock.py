"""Simulated time and the scheduler of timed events.

Simulated time (epoch seconds, UTC) = start + real elapsed seconds + advances. The clock runs
at the speed of real time (1x) and moves faster only by advances: the waits a client keeps
(``avdsim.pacing``: the ``Retry-After`` of an operation or a 429, the poll interval of a
client that polls) and explicit ``POST /_sim/clock`` advances. Real seconds a client spends
working (starting a task, importing the SDKs, a busy CPU) are therefore counted once, as they
would be against Azure, and never multiplied.

``scale`` (``--time-scale``) does not change the clock: it only compresses the *hints* the
simulator sends (a 15 s ``Retry-After`` becomes 15 / scale real seconds), so a client that
follows them comes back quickly; the simulator then moves the clock to the time the client was
asked to come back at.

Everything the simulator shows to clients (the ``Date`` header, ``timeCreated``, operation
``startTime``/``endTime``) is simulated time.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import heapq
import itertools
import threading
import time


class SimClock:
    """``rate``: simulated seconds per real second while nothing is waited for (1: real time;
    0: the clock moves only by advances, so what a run sees does not depend on how fast its
    client runs)."""

    def __init__(self, scale: float, start: float | None = None, rate: float = 1.0):
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        if not 0 <= rate <= 1:
            raise ValueError("clock rate must be between 0 and 1")
        self.scale = float(scale)
        self.rate = float(rate)
        self.start = float(start) if start is not None else time.time()
        self._mono0 = time.monotonic()
        self._advanced = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.start + (time.monotonic() - self._mono0) * self.rate + self._advanced

    def elapsed(self) -> float:
        """Simulated seconds since the simulator started."""
        return self.now() - self.start

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("cannot move the clock backwards")
        with self._lock:
            self._advanced += float(seconds)

    def real_elapsed(self) -> float:
        """Real seconds since the simulator started."""
        return time.monotonic() - self._mono0

    def real_seconds(self, sim_seconds: float) -> float:
        """The real wait the simulator asks for in place of a simulated one (a hint)."""
        return sim_seconds / self.scale


def iso(ts: float) -> str:
    """ARM timestamp format: 2020-07-06T08:32:21.7398144+00:00 (7 fractional digits)."""
    d = _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%07d" % (d.microsecond * 10) + "+00:00"


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def parse_iso(value: str) -> float:
    """Parse an ISO 8601 timestamp (any number of fractional digits, Z or offset)."""
    v = value.strip()
    if v.endswith("Z") or v.endswith("z"):
        v = v[:-1] + "+00:00"
    # Python's fromisoformat (3.10) accepts at most 6 fractional digits.
    if "." in v:
        head, rest = v.split(".", 1)
        digits = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            digits += rest[i]
            i += 1
        v = head + "." + (digits[:6].ljust(6, "0")) + rest[i:]
    d = _dt.datetime.fromisoformat(v)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return d.timestamp()


class Scheduler:
    """Timed events on simulated time. ``run_due`` is called by the ticker thread and before
    every request, always under the simulator lock."""

    def __init__(self, clock: SimClock):
        self.clock = clock
        self._heap: list = []
        self._seq = itertools.count()
        self.current_event_time: float | None = None

    def at(self, when: float, fn, *args, **kwargs) -> int:
        seq = next(self._seq)
        heapq.heappush(self._heap, (float(when), seq, fn, args, kwargs))
        return seq

    def after(self, delay_s: float, fn, *args, **kwargs) -> int:
        return self.at(self.clock.now() + max(0.0, float(delay_s)), fn, *args, **kwargs)

    def cancel(self, seq: int) -> None:
        self._heap = [e for e in self._heap if e[1] != seq]
        heapq.heapify(self._heap)

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pending(self) -> int:
        return len(self._heap)

    def run_due(self, on_error, limit: int = 100000) -> int:
        """Run every event due at the current simulated time, in time order. Events scheduled
        by events are run too if they are already due. Bounded by ``limit``."""
        now = self.clock.now()
        ran = 0
        while self._heap and self._heap[0][0] <= now and ran < limit:
            when, _seq, fn, args, kwargs = heapq.heappop(self._heap)
            self.current_event_time = when
            try:
                fn(*args, **kwargs)
            except Exception as exc:  # an event must never kill the ticker
                on_error(fn, exc)
            finally:
                self.current_event_time = None
            ran += 1
        return ran
