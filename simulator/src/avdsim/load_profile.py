"""How the people of one host pool behave: the seeded user-load profile (scenario
``host_pools[].users``) that ``avdsim.users.PoolUsers`` plays out."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

DISTRIBUTIONS = ("lognormal", "exponential", "uniform", "fixed")


@dataclass
class SessionLength:
    """Seeded distribution of session lengths, in simulated minutes."""

    distribution: str = "lognormal"
    median_minutes: float = 35.0  # lognormal
    sigma: float = 0.5  # lognormal
    mean_minutes: float = 35.0  # exponential
    minutes: float = 35.0  # fixed
    min_minutes: float = 10.0
    max_minutes: float = 90.0

    def validate(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(
                "session_minutes.distribution must be one of %s, got %r"
                % (", ".join(DISTRIBUTIONS), self.distribution)
            )
        if not 0 < self.min_minutes <= self.max_minutes:
            raise ValueError("session_minutes needs 0 < min_minutes <= max_minutes")
        for name in ("median_minutes", "mean_minutes", "minutes"):
            if getattr(self, name) <= 0:
                raise ValueError("session_minutes.%s must be > 0" % name)
        if self.sigma < 0:
            raise ValueError("session_minutes.sigma must be >= 0")

    def typical_minutes(self) -> float:
        if self.distribution == "lognormal":
            typical = self.median_minutes
        elif self.distribution == "exponential":
            typical = self.mean_minutes
        elif self.distribution == "uniform":
            typical = (self.min_minutes + self.max_minutes) / 2.0
        else:
            typical = self.minutes
        return min(self.max_minutes, max(self.min_minutes, typical))

    def sample_seconds(self, rng: random.Random) -> float:
        if self.distribution == "lognormal":
            minutes = rng.lognormvariate(math.log(self.median_minutes), self.sigma)
        elif self.distribution == "exponential":
            minutes = rng.expovariate(1.0 / self.mean_minutes)
        elif self.distribution == "uniform":
            minutes = rng.uniform(self.min_minutes, self.max_minutes)
        else:
            minutes = self.minutes
        return 60.0 * min(self.max_minutes, max(self.min_minutes, minutes))


@dataclass
class LoadProfile:
    """How many people use one host pool and how they behave."""

    target_concurrent_users: int = 0
    # Logon attempts per simulated minute while fewer than target users have a session; by
    # default 1.5 x target / typical session minutes, so the target is actually reached
    # (Little's law: sessions in steady state = logon rate x session length).
    logon_rate_per_min: Optional[float] = None
    session_minutes: SessionLength = field(default_factory=SessionLength)
    # Chance that a session is disconnected once during its life; the user comes back
    # (reconnects to the same session) after an exponential delay with this mean.
    disconnect_probability: float = 0.1
    reconnect_minutes: float = 5.0
    # A forced log-off counts as "with warning" only if a message reached the user this long before.
    warning_minutes: float = 5.0
    # Sessions already running when the scenario starts (defaults to the target).
    initial_sessions: Optional[int] = None
    # Distinct users who may log on (defaults to twice the target).
    user_population: Optional[int] = None
    user_domain: str = "contoso.com"
    seed: int = 1

    KEYS = (
        "target_concurrent_users", "logon_rate_per_min", "session_minutes", "disconnect_probability",
        "reconnect_minutes", "warning_minutes", "initial_sessions", "user_population", "user_domain",
        "seed",
    )

    @classmethod
    def from_dict(cls, data: Optional[Dict[str, Any]]) -> "LoadProfile":
        data = dict(data or {})
        unknown = sorted(set(data) - set(cls.KEYS))
        if unknown:
            raise ValueError("unknown user-load setting(s) %s; allowed: %s" % (unknown, ", ".join(cls.KEYS)))
        lengths = data.pop("session_minutes", None)
        profile = cls(**data)
        if isinstance(lengths, dict):
            allowed = set(SessionLength.__dataclass_fields__)
            bad = sorted(set(lengths) - allowed)
            if bad:
                raise ValueError("unknown session_minutes setting(s) %s; allowed: %s" % (bad, sorted(allowed)))
            profile.session_minutes = SessionLength(**lengths)
        elif lengths is not None:
            raise ValueError("session_minutes must be a mapping")
        profile.validate()
        return profile

    def validate(self) -> None:
        if self.target_concurrent_users < 0:
            raise ValueError("target_concurrent_users must be >= 0")
        if self.logon_rate_per_min is not None and self.logon_rate_per_min <= 0:
            raise ValueError("logon_rate_per_min must be > 0")
        if not 0 <= self.disconnect_probability <= 1:
            raise ValueError("disconnect_probability must be between 0 and 1")
        if self.reconnect_minutes <= 0 or self.warning_minutes < 0:
            raise ValueError("reconnect_minutes must be > 0 and warning_minutes >= 0")
        if self.initial_sessions is not None and self.initial_sessions < 0:
            raise ValueError("initial_sessions must be >= 0")
        if self.user_population is not None and self.user_population < self.target_concurrent_users:
            raise ValueError("user_population must be >= target_concurrent_users")
        self.session_minutes.validate()

    def logon_rate(self) -> float:
        """Logon attempts per simulated minute (the setting, or derived from the target)."""
        if self.logon_rate_per_min is not None:
            return self.logon_rate_per_min
        return max(0.5, 1.5 * self.target_concurrent_users / self.session_minutes.typical_minutes())

    def to_dict(self) -> Dict[str, Any]:
        data = {key: getattr(self, key) for key in self.KEYS}
        data["session_minutes"] = dict(self.session_minutes.__dict__)
        data["logon_rate_per_min"] = self.logon_rate()
        return data
