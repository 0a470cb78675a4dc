"""The simulator: clock, scheduler, store, operations, throttling, faults, metrics, hooks,
identity and the providers, tied together under one lock."""

from __future__ import annotations

import importlib
import importlib.util
import threading
import traceback
import sys

from . import durations as _durations
from .clock import Scheduler, SimClock, iso
from .faults import Faults
from .hooks import Hooks
from .identity import Identity
from .lro import Operations
from .metrics import Metrics
from .pacing import Pacer
from .store import Store
from .throttle import ResourcePolicies, Throttle

# Built-in providers, imported in this order. Each may define ``register(sim)``.
BUILTIN_PROVIDERS = ["avdsim.identity", "avdsim.arm", "avdsim.arm_basics", "avdsim.control",
                     "avdsim.network", "avdsim.compute", "avdsim.disks", "avdsim.gallery",
                     "avdsim.rbac"]
# Providers that are loaded when their module exists (part 2: Desktop Virtualization, users).
OPTIONAL_PROVIDERS = ["avdsim.avd", "avdsim.users"]


def provider_modules() -> list:
    mods = []
    for name in BUILTIN_PROVIDERS:
        mods.append(importlib.import_module(name))
    for name in OPTIONAL_PROVIDERS:
        if importlib.util.find_spec(name) is not None:
            mods.append(importlib.import_module(name))
    return mods


class Simulator:
    def __init__(self, scenario: dict, time_scale: float | None = None,
                 clock_rate: float | None = None):
        self.lock = threading.RLock()
        self.scenario = scenario
        scale = time_scale if time_scale is not None else scenario.get(
            "time_scale", _durations.DEFAULT_TIME_SCALE)
        start = scenario.get("clock_start")
        if isinstance(start, str):
            from .clock import parse_iso
            start = parse_iso(start)
        rate = clock_rate if clock_rate is not None else scenario.get("clock_rate", 1.0)
        self.clock = SimClock(float(scale), start, rate=float(rate))
        self.scheduler = Scheduler(self.clock)
        self.store = Store()
        self.hooks = Hooks(self)
        self.metrics = Metrics()
        self.violations: list[dict] = []
        self.internal_errors: list[str] = []
        self.faults = Faults(int(scenario.get("seed", 4242)))
        throttling = dict(scenario.get("throttling") or {})
        self.resource_policies = ResourcePolicies(throttling.pop("compute", None))
        self.throttle = Throttle(self.clock.now, throttling)
        self.ops = Operations(self)
        self.durations = dict(_durations.DEFAULTS)
        for k, v in (scenario.get("durations") or {}).items():
            if k not in self.durations:
                raise ValueError(f"scenario durations: unknown entry '{k}'; known: "
                                 + ", ".join(sorted(self.durations)))
            self.durations[k] = float(v)
        self.poll_interval_s = float(scenario.get("poll_interval_s",
                                                  _durations.DEFAULT_POLL_INTERVAL_S))
        self.page_size = int(scenario.get("page_size", 50))
        self.pacer = Pacer(self, float(scenario.get("client_poll_interval_s",
                                                    _durations.DEFAULT_CLIENT_POLL_INTERVAL_S)))
        self.subscription_id = scenario["subscription_id"]
        self.subscriptions = {self.subscription_id.lower(): {
            "subscriptionId": self.subscription_id,
            "displayName": scenario.get("subscription_name", "avdsim"),
            "tenantId": scenario["tenant_id"]}}
        self.identity = Identity(scenario["tenant_id"], scenario["client_id"],
                                 scenario["client_secret"])
        self.base_url = "https://127.0.0.1"
        self.scenario_sections: list[tuple[int, str, object]] = []
        self.state_sections = {}
        self.modules = provider_modules()
        for mod in self.modules:
            reg = getattr(mod, "register", None)
            if reg:
                reg(self)

    # -- time -------------------------------------------------------------------------------
    def now(self) -> float:
        """Simulated now; inside a timed event, the time the event was due."""
        t = self.scheduler.current_event_time
        return t if t is not None else self.clock.now()

    def now_iso(self) -> str:
        return iso(self.now())

    def duration(self, name: str) -> float:
        return self.durations[name]

    def schedule(self, delay_s: float, fn, *args, **kwargs) -> int:
        return self.scheduler.at(self.now() + max(0.0, float(delay_s)), fn, *args, **kwargs)

    def tick(self) -> int:
        with self.lock:
            return self.scheduler.run_due(self._event_error)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward, running every event that falls due, in order."""
        with self.lock:
            self.advance_to(self.clock.now() + float(seconds))

    def advance_to(self, target: float) -> float:
        """Move simulated time forward to ``target`` (epoch seconds; nothing happens when it is
        already past), running every event that falls due on the way, each with the clock at
        its time. Returns the simulated seconds the clock moved."""
        with self.lock:
            self.scheduler.run_due(self._event_error)
            moved = 0.0
            # Step through due events so each runs with the clock at (or after) its time.
            for _ in range(1000000):
                nxt = self.scheduler.next_due()
                if nxt is None or nxt > target:
                    break
                step = nxt - self.clock.now()
                if step > 0:
                    self.clock.advance(step)
                    moved += step
                self.scheduler.run_due(self._event_error)
            rest = target - self.clock.now()
            if rest > 0:
                self.clock.advance(rest)
                moved += rest
            self.scheduler.run_due(self._event_error)
            return moved

    def _event_error(self, fn, exc):
        msg = f"event {getattr(fn, '__qualname__', fn)} failed: {exc!r}\n" + "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.internal_errors.append(msg)
        print(msg, file=sys.stderr, flush=True)

    # -- bookkeeping ------------------------------------------------------------------------
    def violation(self, kind: str, resource: str, detail: str) -> None:
        self.violations.append({"kind": kind, "resource": resource, "detail": detail,
                                "sim_time_s": round(self.clock.elapsed(), 3)})

    def arm_audiences(self) -> tuple:
        return (self.base_url, self.base_url + "/")

    # -- scenario ---------------------------------------------------------------------------
    def scenario_section(self, key: str, loader, order: int = 100) -> None:
        """Register ``loader(sim, value)`` for top-level scenario key ``key``; loaders run in
        ``order`` (built-ins: resource_groups 10, virtual_networks 20, galleries 30,
        virtual_machines 40; Desktop Virtualization should use 50 and later)."""
        self.scenario_sections.append((order, key, loader))

    def load_scenario(self) -> None:
        known = {"name", "description", "extends", "subscription_id", "subscription_name",
                 "tenant_id", "client_id", "client_secret", "durations", "throttling",
                 "poll_interval_s", "client_poll_interval_s", "page_size", "seed", "clock_start",
                 "time_scale", "clock_rate"}
        known |= {k for _o, k, _l in self.scenario_sections}
        unknown = set(self.scenario) - known
        if unknown:
            raise ValueError("scenario: unknown top-level keys: " + ", ".join(sorted(unknown)))
        with self.lock:
            for _order, key, loader in sorted(self.scenario_sections, key=lambda e: e[0]):
                if key in self.scenario and self.scenario[key] is not None:
                    loader(self, self.scenario[key])

    def state(self) -> dict:
        with self.lock:
            snap = self.store.snapshot()
            out = {"sim_time_s": round(self.clock.elapsed(), 3), "sim_now": self.now_iso(),
                   "time_scale": self.clock.scale, "clock_rate": self.clock.rate,
                   "subscription_id": self.subscription_id,
                   "resources": snap["resources"], "internal": snap["internal"],
                   "operations": {op.id: {"status": op.status, "kind": op.kind,
                                          "resourceId": op.resource_id}
                                  for op in self.ops.ops.values()},
                   "faults": self.faults.state(), "violations": list(self.violations),
                   "pending_events": self.scheduler.pending(),
                   "internal_errors": list(self.internal_errors),
                   "durations": dict(self.durations)}
            for name, fn in self.state_sections.items():
                out[name] = fn(self)
            return out
