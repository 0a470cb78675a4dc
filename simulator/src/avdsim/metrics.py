"""Request counters, latency and extra sections (``users`` from the AVD provider)."""

from __future__ import annotations

from collections import Counter, deque


class Metrics:
    def __init__(self):
        self.total = 0
        self.by_kind = Counter()
        self.by_operation = Counter()
        self.throttled = 0
        self.tokens_issued = 0
        self.errors_by_code = Counter()
        self._latency = deque(maxlen=20000)
        self.sections = {}

    def count(self, operation: str, kind: str) -> None:
        self.total += 1
        self.by_kind[kind] += 1
        self.by_operation[operation] += 1

    def latency(self, seconds: float) -> None:
        self._latency.append(seconds)

    def snapshot(self, sim) -> dict:
        lat = sorted(self._latency)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else 0.0

        out = {
            "sim_time_s": round(sim.clock.elapsed(), 3),
            "sim_now": sim.now_iso(),
            "real_time_s": round(sim.clock.real_elapsed(), 3),
            "clock": sim.pacer.state(),
            "requests": {"total": self.total, "reads": self.by_kind["read"],
                         "writes": self.by_kind["write"], "deletes": self.by_kind["delete"],
                         "by_operation": dict(self.by_operation)},
            "throttled": self.throttled,
            "faults_injected": sim.faults.injected,
            "faults_by_status": dict(sim.faults.by_status),
            "errors_by_code": dict(self.errors_by_code),
            "tokens_issued": self.tokens_issued,
            "latency_ms": {"count": len(lat), "p50": pct(0.5), "p95": pct(0.95),
                           "max": round(lat[-1] * 1000, 3) if lat else 0.0},
            "users": {},
            "violations": list(sim.violations),
        }
        for name, fn in self.sections.items():
            out[name] = fn(sim)
        return out
