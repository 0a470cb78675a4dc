"""Honest simulated time: the clock moves fast only through the waits a client keeps.

Against Azure a client spends two kinds of time: its own (starting a task, importing the SDKs,
deciding, on a busy controller: more) and waits for Azure or for users (an operation in
progress, a replication, users leaving a drained host). The simulator's clock runs at the speed
of real time (``SimClock``), so the client's own time counts once, as against Azure. Only its
waits are fast-forwarded, and only by what the same wait lasts against Azure:

* **Kept appointments.** Every response that tells a client to come back later (the polling
  hint of a long-running operation, the wait of a 429) carries the wait in simulated seconds in
  the internal header ``WAIT_HEADER`` (stripped before sending). The client is told the wait
  compressed by ``--time-scale`` (``Retry-After`` / ``retry-after-ms``) and comes back quickly;
  when it does, the clock moves to the simulated time it was asked to come back at, running
  every event due on the way. The appointment is for the URL the client comes back to: the
  ``Azure-AsyncOperation`` and ``Location`` URLs of a started operation, the polled URL, or the
  throttled request itself.
* **Polls.** A client that reads the same URL again (same connection, same path and query)
  while Azure or users have something pending for that resource (``pending``), and nobody
  wrote to that resource, its parents or its children in between, is waiting for Azure or
  users. Such a read comes one client poll interval (``client_poll_interval_s``, default 15 s:
  the collection's default ``poll_interval``) after its previous read, so the clock moves to
  that time. A client that polls with a shorter real sleep (tests use 0.02 s) is counted as
  polling every 15 s of Azure time: its request count and its Azure time are those of the same
  run against Azure with the default interval. Pending are: an operation in progress on the
  resource (or inside it), what a provider announced with ``expect`` (sysprep until the guest
  shuts down, an agent registering with a host pool, a host's agent becoming ready, a resource
  group being deleted) and what a provider's predicate says (users still on a drained host).
  A read repeated while nothing is pending (a client's tight loop, a wait for a lease that only
  a client can release) moves nothing: it is paced by real time and throttled as in Azure.

The clock never moves back, and a wait already over in real time moves nothing (at
``--time-scale 1`` the simulator is a real-time Azure). Limits: the clock is one for all
clients, so while one client waits, another client that is busy at that moment sees simulated
time jump as if its own work took that long (its timers on the ARM clock, e.g. a lease, run out
sooner than against Azure); a client that re-reads a resource for another reason than waiting
is charged one poll interval for it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from urllib.parse import unquote, urlsplit

# Internal response header: the wait (simulated seconds) a response asks of its client.
WAIT_HEADER = "X-Avdsim-Wait-S"

WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")
_MAX_READS = 50000
_MAX_WRITES = 20000


def wait_header(sim_seconds: float) -> dict:
    """The internal header a provider adds to a response that asks its client to wait."""
    return {WAIT_HEADER: repr(max(0.0, float(sim_seconds)))}


def _url(path: str, query: str) -> str:
    return path.lower().rstrip("/") + ("?" + query.lower() if query else "")


def related(a: str, b: str) -> bool:
    """Whether two resource paths are the same resource, or one contains the other."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


class Pacer:
    """Moves the clock through the waits clients keep. Every call runs under the simulator
    lock."""

    def __init__(self, sim, client_poll_interval_s: float):
        if client_poll_interval_s <= 0:
            raise ValueError("client_poll_interval_s must be > 0")
        self.sim = sim
        self.client_poll_interval_s = float(client_poll_interval_s)
        self._appointments: dict[tuple[str, str], float] = {}
        self._reads: OrderedDict = OrderedDict()   # (client, url) -> (sim time, write seq)
        self._writes: deque = deque(maxlen=_MAX_WRITES)  # (seq, resource path)
        self._seq = 0
        self._expected: list = []   # (resource path, until sim time)
        self._predicates: list = []  # fn(resource path) -> bool
        self.kept = {"appointments": 0, "polls": 0}
        self.kept_s = {"appointments": 0.0, "polls": 0.0}

    # -- requests ---------------------------------------------------------------------------
    def before(self, client, method: str, path: str, query: str) -> None:
        """An ARM request arrives: keep its client's wait, then remember the request."""
        url = _url(path, query)
        resource = path.lower().rstrip("/")
        target = self._appointments.pop((method, url), None)
        kind = "appointments"
        if target is None and method == "GET":
            previous = self._reads.get((client, url))
            if previous is not None and not self._written_since(previous[1], resource) \
                    and self.pending(resource):
                target, kind = previous[0] + self.client_poll_interval_s, "polls"
        if target is not None:
            moved = self.sim.advance_to(target)
            self.kept[kind] += 1
            self.kept_s[kind] += moved
        if method == "GET":
            self._reads[(client, url)] = (self.sim.now(), self._seq)
            self._reads.move_to_end((client, url))
            while len(self._reads) > _MAX_READS:
                self._reads.popitem(last=False)
        elif method in WRITE_METHODS:
            self._seq += 1
            self._writes.append((self._seq, resource))

    def after(self, method: str, path: str, query: str, status: int, headers: dict) -> None:
        """A response leaves: turn its internal wait into appointments (and strip it)."""
        wait = headers.pop(WAIT_HEADER, None)
        if wait is None:
            return
        due = self.sim.now() + float(wait)
        if method == "GET" or status == 429:
            self._appointments[(method, _url(path, query))] = due
        for name in ("Azure-AsyncOperation", "Location"):
            value = headers.get(name)
            if value:
                parts = urlsplit(value)
                self._appointments[("GET", _url(unquote(parts.path), parts.query))] = due

    # -- what Azure and users have pending --------------------------------------------------
    def expect(self, resource_id: str | None, until: float) -> None:
        """Azure changes ``resource_id`` on its own until simulated time ``until``."""
        if resource_id:
            self._expected.append((resource_id.lower().rstrip("/"), float(until)))

    def add_predicate(self, predicate) -> None:
        """``predicate(resource path)`` says whether users or Azure have something pending
        there that no timed event announces (e.g. users on a drained host)."""
        self._predicates.append(predicate)

    def pending(self, resource: str) -> bool:
        now = self.sim.now()
        self._expected = [(r, until) for r, until in self._expected if until > now]
        if any(related(r, resource) for r, _until in self._expected):
            return True
        return any(predicate(resource) for predicate in self._predicates)

    def _written_since(self, seq: int, resource: str) -> bool:
        if seq >= self._seq:
            return False
        if not self._writes or self._writes[0][0] > seq + 1:
            return True  # history no longer kept: do not assume the client was waiting
        for write_seq, written in reversed(self._writes):
            if write_seq <= seq:
                return False
            if related(written, resource):
                return True
        return False

    def state(self) -> dict:
        return {"client_poll_interval_s": self.client_poll_interval_s,
                "waits_kept": dict(self.kept),
                "waits_kept_s": {k: round(v, 3) for k, v in self.kept_s.items()},
                "appointments_open": len(self._appointments),
                "pending_expectations": len(self._expected)}
