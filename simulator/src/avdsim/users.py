"""The people who use the desktops: a seeded user-load model per host pool.

Pure logic on simulated seconds (no server, no wall clock), so it can be driven by the
simulator's clock or by a test's fake clock. The Desktop Virtualization layer mirrors every
session host it knows into a ``PoolUsers`` (``upsert_host`` / ``remove_host``) and always calls
``advance_to(now)`` before it changes anything, so every logon, natural log-off, disconnect and
reconnect happens at its own simulated time against the host state that held at that time.

Definitions used in the metrics (``/_sim/metrics`` -> ``users``):
- a *session* exists from logon until log-off; it is ``Active`` or ``Disconnected`` and counts
  against the host's ``maxSessionLimit`` in both states (as in Azure Virtual Desktop);
- an *available host* is a session host whose status is ``Available`` and that allows new
  sessions (not in drain mode); *free slots* are the sessions such hosts can still take;
- a *forced log-off* ends a session that the user did not end: a log-off by the operator, or the
  VM being deallocated, stopped or deleted (or its session host removed) with the user on it. It
  is counted *without warning* unless a message was delivered to that session (the session was
  ``Active`` when ``sendMessage`` arrived) at least ``warning_minutes`` before.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .load_profile import LoadProfile, SessionLength  # noqa: F401  (SessionLength: the model's API)

ACTIVE = "Active"
DISCONNECTED = "Disconnected"

BREADTH_FIRST = "BreadthFirst"
DEPTH_FIRST = "DepthFirst"
PERSISTENT = "Persistent"

# First RDS session id a multi-session host hands out (0 is services, 1 the console).
FIRST_SESSION_ID = 2
# Upper bound on events handled by one advance_to() call: a guard against a runaway model,
# far above what any realistic profile produces between two requests.
MAX_EVENTS_PER_ADVANCE = 200_000
# Capacity timeline points kept per pool before older points are thinned out.
MAX_TIMELINE_POINTS = 5_000

@dataclass
class Message:
    sim_time_s: float
    title: str
    body: str
    delivered: bool


@dataclass
class Session:
    uid: int  # unique within the pool, never reused (ids on a host may be)
    session_id: str
    host: str
    user: int
    state: str
    created_s: float
    ends_s: float
    messages: List[Message] = field(default_factory=list)


@dataclass
class HostSeat:
    """What the load balancer knows about one session host."""

    name: str
    available: bool = False
    allow_new_session: bool = True
    assigned_user: Optional[int] = None  # personal pools
    sessions: Dict[str, Session] = field(default_factory=dict)
    next_session_id: int = FIRST_SESSION_ID

    def can_take(self, limit: int) -> bool:
        return self.available and self.allow_new_session and len(self.sessions) < limit


@dataclass
class Counters:
    logon_attempts: int = 0
    logon_failures: int = 0
    sessions_ended_naturally: int = 0
    forced_logoffs: int = 0
    forced_logoffs_without_warning: int = 0
    messages_sent: int = 0


class PoolUsers:
    """Sessions and users of one host pool."""

    def __init__(
        self,
        name: str,
        profile: LoadProfile,
        host_pool_type: str = "Pooled",
        load_balancer_type: str = BREADTH_FIRST,
        max_session_limit: Optional[int] = None,
        now_s: float = 0.0,
        on_capacity: Optional[Callable[["PoolUsers", float, int, int], None]] = None,
    ):
        profile.validate()
        self.name = name
        self.profile = profile
        self.host_pool_type = host_pool_type
        self.load_balancer_type = load_balancer_type
        self.max_session_limit = max_session_limit
        self.now_s = now_s
        self.rng = random.Random("%s/%s" % (profile.seed, name.lower()))
        self.hosts: Dict[str, HostSeat] = {}
        self.counters = Counters()
        self.capacity_timeline: List[List[float]] = []
        self.min_available_hosts: Optional[int] = None
        self.on_capacity = on_capacity
        # While a scenario builds the pool, capacity is not recorded (no half-built dips).
        self.muted = False
        self.log: List[Dict[str, Any]] = []  # forced log-offs, for the state dump and tests
        self._events: List[Tuple[float, int, str, int]] = []
        self._seq = 0
        self._uid = 0
        self._sessions_by_uid: Dict[int, Session] = {}
        self._arrival_scheduled = False
        self._schedule_arrival()

    # ----- configuration ---------------------------------------------------------------
    @property
    def session_limit(self) -> int:
        if self.host_pool_type != "Pooled":
            return 1
        if self.max_session_limit is None or self.max_session_limit <= 0:
            return 999999  # Azure's default for pooled pools
        return self.max_session_limit

    def configure(self, now_s: float, host_pool_type: str, load_balancer_type: str,
                  max_session_limit: Optional[int]) -> None:
        self.advance_to(now_s)
        self.host_pool_type = host_pool_type
        self.load_balancer_type = load_balancer_type
        self.max_session_limit = max_session_limit
        self._record_capacity()

    def set_profile(self, now_s: float, profile: LoadProfile) -> None:
        self.advance_to(now_s)
        profile.validate()
        self.profile = profile
        self.rng = random.Random("%s/%s" % (profile.seed, self.name.lower()))
        self._schedule_arrival()

    # ----- hosts ---------------------------------------------------------------------------
    def upsert_host(self, now_s: float, name: str, available: bool, allow_new_session: bool,
                    assigned_user: Optional[int] = None, record: bool = True) -> HostSeat:
        """Mirror a session host's state. ``record=False`` batches several hosts that change at
        one instant (a scenario's hosts): call ``record_capacity`` after the last one."""
        self.advance_to(now_s)
        seat = self.hosts.get(name.lower())
        if seat is None:
            seat = self.hosts[name.lower()] = HostSeat(name=name)
        seat.available = available
        seat.allow_new_session = allow_new_session
        if assigned_user is not None:
            seat.assigned_user = assigned_user
        if record:
            self._record_capacity()
        return seat

    def record_capacity(self, now_s: float) -> None:
        self.advance_to(now_s)
        self._record_capacity()

    def host(self, name: str) -> Optional[HostSeat]:
        return self.hosts.get(name.lower())

    def end_host_sessions(self, now_s: float, name: str, reason: str) -> List[Session]:
        """The VM stopped or went away: every session on it ends as a forced log-off."""
        self.advance_to(now_s)
        seat = self.hosts.get(name.lower())
        if seat is None:
            return []
        ended = list(seat.sessions.values())
        for session in ended:
            self._force_end(session, reason)
        self._record_capacity()
        return ended

    def remove_host(self, now_s: float, name: str, reason: str) -> List[Session]:
        ended = self.end_host_sessions(now_s, name, reason)
        self.hosts.pop(name.lower(), None)
        self._record_capacity()
        return ended

    # ----- operator actions -------------------------------------------------------------
    def get_session(self, host: str, session_id: str) -> Optional[Session]:
        seat = self.hosts.get(host.lower())
        return seat.sessions.get(str(session_id)) if seat else None

    def sessions(self, host: Optional[str] = None) -> List[Session]:
        seats = [self.hosts[host.lower()]] if host and host.lower() in self.hosts else (
            [] if host else list(self.hosts.values()))
        result = [s for seat in seats for s in seat.sessions.values()]
        result.sort(key=lambda s: (s.host.lower(), int(s.session_id)))
        return result

    def logoff(self, now_s: float, host: str, session_id: str, reason: str = "operator log-off") -> bool:
        self.advance_to(now_s)
        session = self.get_session(host, session_id)
        if session is None:
            return False
        self._force_end(session, reason)
        self._record_capacity()
        return True

    def disconnect(self, now_s: float, host: str, session_id: str) -> bool:
        self.advance_to(now_s)
        session = self.get_session(host, session_id)
        if session is None:
            return False
        if session.state == ACTIVE:
            session.state = DISCONNECTED
            self._push(self.now_s + self._reconnect_delay(), "reconnect", session.uid)
        return True

    def send_message(self, now_s: float, host: str, session_id: str, title: str, body: str) -> bool:
        self.advance_to(now_s)
        session = self.get_session(host, session_id)
        if session is None:
            return False
        session.messages.append(Message(self.now_s, title or "", body or "", session.state == ACTIVE))
        self.counters.messages_sent += 1
        return True

    # ----- simulated time ---------------------------------------------------------------
    def advance_to(self, now_s: float) -> None:
        handled = 0
        while self._events and self._events[0][0] <= now_s:
            handled += 1
            if handled > MAX_EVENTS_PER_ADVANCE:
                raise RuntimeError("user model of %s: more than %d events in one step"
                                   % (self.name, MAX_EVENTS_PER_ADVANCE))
            when, _seq, kind, uid = heapq.heappop(self._events)
            self.now_s = max(self.now_s, when)
            if kind == "arrival":
                self._arrival_scheduled = False
                self._arrive()
                self._schedule_arrival()
            else:
                session = self._sessions_by_uid.get(uid)
                if session is None:
                    continue  # ended earlier (forced log-off): a stale event
                if kind == "end":
                    self._end(session)
                    self.counters.sessions_ended_naturally += 1
                    self._record_capacity()
                elif kind == "disconnect" and session.state == ACTIVE:
                    session.state = DISCONNECTED
                    self._push(self.now_s + self._reconnect_delay(), "reconnect", uid)
                elif kind == "reconnect" and session.state == DISCONNECTED:
                    session.state = ACTIVE
        self.now_s = max(self.now_s, now_s)

    def populate(self, now_s: float, count: Optional[int] = None) -> int:
        """Sessions already running at scenario start, part-way through their lives."""
        self.advance_to(now_s)
        wanted = self.profile.initial_sessions if count is None else count
        if wanted is None:
            wanted = self.profile.target_concurrent_users
        made = 0
        for _ in range(wanted):
            user = self._pick_offline_user()
            seat = self._choose_host(user) if user is not None else None
            if seat is None:
                break
            length = self.profile.session_minutes.sample_seconds(self.rng)
            elapsed = self.rng.uniform(0.0, length * 0.9)
            self._open(seat, user, created_s=self.now_s - elapsed, ends_s=self.now_s + length - elapsed)
            made += 1
        self._record_capacity()
        return made

    # ----- metrics ---------------------------------------------------------------------
    def available_hosts(self) -> int:
        return sum(1 for seat in self.hosts.values() if seat.available and seat.allow_new_session)

    def free_slots(self) -> int:
        limit = self.session_limit
        return sum(max(0, limit - len(seat.sessions)) for seat in self.hosts.values()
                   if seat.available and seat.allow_new_session)

    def session_count(self) -> int:
        return len(self._sessions_by_uid)

    def user_name(self, user: int) -> Tuple[str, str]:
        """(userPrincipalName, activeDirectoryUserName) of a simulated user."""
        domain = self.profile.user_domain
        netbios = domain.split(".")[0].upper()[:15]
        login = "user%03d" % user
        return "%s@%s" % (login, domain), "%s\\%s" % (netbios, login)

    def state(self) -> Dict[str, Any]:
        return {
            "profile": self.profile.to_dict(),
            "now_s": self.now_s,
            "counters": dict(self.counters.__dict__),
            "available_hosts": self.available_hosts(),
            "free_slots": self.free_slots(),
            "min_available_hosts": self.min_available_hosts,
            "hosts": {
                seat.name: {
                    "available": seat.available,
                    "allow_new_session": seat.allow_new_session,
                    "sessions": [
                        {"id": s.session_id, "user": self.user_name(s.user)[0], "state": s.state,
                         "created_s": s.created_s, "ends_s": s.ends_s,
                         "messages": [m.__dict__ for m in s.messages]}
                        for s in seat.sessions.values()
                    ],
                }
                for seat in self.hosts.values()
            },
            "forced_logoffs": list(self.log),
        }

    # ----- internals ---------------------------------------------------------------------
    def _push(self, when: float, kind: str, uid: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, uid))

    def _schedule_arrival(self) -> None:
        if self._arrival_scheduled or self.profile.target_concurrent_users <= 0:
            return
        self._arrival_scheduled = True
        self._push(self.now_s + self.rng.expovariate(self.profile.logon_rate() / 60.0), "arrival")

    def _reconnect_delay(self) -> float:
        return self.rng.expovariate(1.0 / (60.0 * self.profile.reconnect_minutes))

    def _users_online(self) -> set:
        return {s.user for s in self._sessions_by_uid.values()}

    def _population(self) -> int:
        if self.profile.user_population is not None:
            return self.profile.user_population
        return max(1, 2 * self.profile.target_concurrent_users)

    def _pick_offline_user(self) -> Optional[int]:
        online = self._users_online()
        offline = [u for u in range(1, self._population() + 1) if u not in online]
        return self.rng.choice(offline) if offline else None

    def _arrive(self) -> None:
        if self.session_count() >= self.profile.target_concurrent_users:
            return  # nobody else wants a desktop right now
        user = self._pick_offline_user()
        if user is None:
            return
        self.counters.logon_attempts += 1
        seat = self._choose_host(user)
        if seat is None:
            self.counters.logon_failures += 1
            return
        length = self.profile.session_minutes.sample_seconds(self.rng)
        self._open(seat, user, created_s=self.now_s, ends_s=self.now_s + length)
        self._record_capacity()

    def _choose_host(self, user: int) -> Optional[HostSeat]:
        limit = self.session_limit
        seats = sorted(self.hosts.values(), key=lambda seat: seat.name.lower())
        if self.host_pool_type != "Pooled":
            # Personal desktops: a user's own host, else an unassigned one (automatic assignment).
            own = [s for s in seats if s.assigned_user == user]
            if own:
                return own[0] if own[0].can_take(limit) else None
            free = [s for s in seats if s.assigned_user is None and s.can_take(limit)]
            if not free:
                return None
            free[0].assigned_user = user
            return free[0]
        candidates = [seat for seat in seats if seat.can_take(limit)]
        if not candidates:
            return None
        if self.load_balancer_type == DEPTH_FIRST:
            # The host with the most sessions that is still under the limit; ties by name.
            return min(candidates, key=lambda seat: -len(seat.sessions))
        return min(candidates, key=lambda seat: len(seat.sessions))

    def _open(self, seat: HostSeat, user: int, created_s: float, ends_s: float) -> Session:
        self._uid += 1
        session_id = str(seat.next_session_id)
        seat.next_session_id += 1
        session = Session(self._uid, session_id, seat.name, user, ACTIVE, created_s, ends_s)
        seat.sessions[session_id] = session
        self._sessions_by_uid[session.uid] = session
        self._push(ends_s, "end", session.uid)
        if self.rng.random() < self.profile.disconnect_probability:
            when = self.rng.uniform(max(created_s, self.now_s), ends_s)
            self._push(when, "disconnect", session.uid)
        return session

    def _end(self, session: Session) -> None:
        seat = self.hosts.get(session.host.lower())
        if seat is not None:
            seat.sessions.pop(session.session_id, None)
        self._sessions_by_uid.pop(session.uid, None)

    def _force_end(self, session: Session, reason: str) -> None:
        warned_before = self.now_s - 60.0 * self.profile.warning_minutes
        warned = any(m.delivered and m.sim_time_s <= warned_before for m in session.messages)
        self.counters.forced_logoffs += 1
        if not warned:
            self.counters.forced_logoffs_without_warning += 1
        self.log.append({
            "sim_time_s": self.now_s, "host": session.host, "session_id": session.session_id,
            "user": self.user_name(session.user)[0], "reason": reason, "warned": warned,
        })
        self._end(session)

    def _record_capacity(self) -> None:
        if self.muted:
            return
        available, free = self.available_hosts(), self.free_slots()
        if self.hosts:
            if self.min_available_hosts is None or available < self.min_available_hosts:
                self.min_available_hosts = available
        point = [round(self.now_s, 3), available, free]
        if self.capacity_timeline and self.capacity_timeline[-1][1:] == point[1:]:
            return
        if self.capacity_timeline and self.capacity_timeline[-1][0] == point[0]:
            self.capacity_timeline[-1] = point  # several changes at one instant: keep the last
        else:
            self.capacity_timeline.append(point)
        if len(self.capacity_timeline) > MAX_TIMELINE_POINTS:
            # Thin the older half (every other point), keep the recent half exact.
            half = MAX_TIMELINE_POINTS // 2
            self.capacity_timeline = self.capacity_timeline[:half:2] + self.capacity_timeline[half:]
        if self.on_capacity is not None:
            self.on_capacity(self, self.now_s, available, free)


def aggregate_metrics(pools: Iterable[PoolUsers]) -> Dict[str, Any]:
    """The ``users`` section of ``/_sim/metrics`` over every host pool."""
    pools = list(pools)
    counters = Counters()
    for pool in pools:
        for key, value in pool.counters.__dict__.items():
            setattr(counters, key, getattr(counters, key) + value)
    timeline = _merge_timelines(pools)
    mins = [p.min_available_hosts for p in pools if p.min_available_hosts is not None]
    if len(pools) == 1:
        min_available = mins[0] if mins else 0
    else:
        min_available = min((point[1] for point in timeline), default=0)
    return {
        "logon_attempts": counters.logon_attempts,
        "logon_failures": counters.logon_failures,
        "sessions_active": sum(p.session_count() for p in pools),
        "sessions_ended_naturally": counters.sessions_ended_naturally,
        "forced_logoffs": counters.forced_logoffs,
        "forced_logoffs_without_warning": counters.forced_logoffs_without_warning,
        "messages_sent": counters.messages_sent,
        "min_available_hosts": min_available,
        "capacity_timeline": timeline,
    }


def _merge_timelines(pools: List[PoolUsers]) -> List[List[float]]:
    """Totals over all pools at every instant one of them changed."""
    if len(pools) == 1:
        return [list(point) for point in pools[0].capacity_timeline]
    merged: List[List[float]] = []
    current = [(0, 0)] * len(pools)
    points = sorted(
        (point[0], index, point[1], point[2])
        for index, pool in enumerate(pools) for point in pool.capacity_timeline
    )
    for when, index, available, free in points:
        current[index] = (available, free)
        total = [when, sum(c[0] for c in current), sum(c[1] for c in current)]
        if merged and merged[-1][0] == when:
            merged[-1] = total
        elif not merged or merged[-1][1:] != total[1:]:
            merged.append(total)
    return merged
