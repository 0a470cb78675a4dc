"""Fault injection: ``POST /_sim/faults`` adds a rule, ``DELETE /_sim/faults`` clears them.

Rule fields: ``method`` (default any), ``path_regex`` (``re.search`` on the URL path, case
-insensitive; default any), ``status`` (HTTP status to return, default 500), ``code``
(ARM error code; default from the status), ``message``, ``count`` (apply to the next n
matching requests) or ``rate`` (probability 0..1 per matching request; seeded), 
``retry_after`` (simulated seconds, sent as ``Retry-After``/``retry-after-ms`` compressed by the
time scale; a 429 without one asks for ``DEFAULT_429_RETRY_AFTER_S``), ``lro_fail`` (the request
is accepted normally, but the long-running operation it starts ends ``Failed`` with ``code``).

A storm over the whole run: ``{"path_regex": "^/subscriptions/", "status": 429, "rate": 0.3}``.
``metrics()["faults_injected"]`` counts the injected answers, ``faults_by_status`` per status."""

from __future__ import annotations

import random
import re

DEFAULT_CODES = {400: "BadRequest", 401: "AuthenticationFailed", 403: "AuthorizationFailed",
                 404: "NotFound", 409: "Conflict", 429: "TooManyRequests",
                 500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
                 504: "GatewayTimeout"}

# Azure's 429 always carries Retry-After (https://learn.microsoft.com/azure/azure-resource-manager/
# management/request-limits-and-throttling#error-code); ARM's waits are seconds to tens of seconds.
DEFAULT_429_RETRY_AFTER_S = 10.0


def retry_after_s(rule: dict) -> float | None:
    """The simulated wait a fault's answer asks for: its ``retry_after``, the default for a 429,
    else None (no Retry-After, as a 500 of Azure)."""
    if rule.get("retry_after") is not None:
        return max(0.0, float(rule["retry_after"]))
    if rule["status"] == 429:
        return DEFAULT_429_RETRY_AFTER_S
    return None


class Faults:
    def __init__(self, seed: int = 4242):
        self.rules: list[dict] = []
        self.rng = random.Random(seed)
        self.injected = 0
        self.by_status: dict[str, int] = {}

    def add(self, spec: dict) -> dict:
        if not isinstance(spec, dict):
            raise ValueError("fault spec must be a JSON object")
        rule = dict(spec)
        rule["method"] = str(rule.get("method") or "*").upper()
        rule["_re"] = re.compile(rule.get("path_regex") or ".*", re.IGNORECASE)
        if "status" in rule:
            rule["status"] = int(rule["status"])
        else:
            rule["status"] = 500
        rule.setdefault("code", None)
        if "count" in rule and rule["count"] is not None:
            rule["count"] = int(rule["count"])
        if "rate" in rule and rule["rate"] is not None:
            rate = float(rule["rate"])
            if not 0 <= rate <= 1:
                raise ValueError("rate must be between 0 and 1")
            rule["rate"] = rate
        if rule.get("retry_after") is not None:
            retry_after = float(rule["retry_after"])
            if retry_after < 0:
                raise ValueError("retry_after must be >= 0 simulated seconds")
            rule["retry_after"] = retry_after
        if rule.get("count") is None and rule.get("rate") is None:
            rule["count"] = 1
        rule["lro_fail"] = bool(rule.get("lro_fail"))
        rule["hits"] = 0
        self.rules.append(rule)
        return self.public(rule)

    @staticmethod
    def public(rule: dict) -> dict:
        return {k: v for k, v in rule.items() if not k.startswith("_")}

    def clear(self):
        self.rules.clear()

    def match(self, method: str, path: str, lro: bool) -> dict | None:
        """The first rule that fires for this request (consuming a count), or None.
        ``lro`` selects rules with ``lro_fail`` true or false."""
        for rule in list(self.rules):
            if rule["lro_fail"] != lro:
                continue
            if rule["method"] not in ("*", method):
                continue
            if not rule["_re"].search(path):
                continue
            if rule.get("count") is not None:
                if rule["count"] <= 0:
                    continue
                rule["count"] -= 1
                if rule["count"] <= 0 and rule.get("rate") is None:
                    self.rules.remove(rule)
            elif self.rng.random() >= rule["rate"]:
                continue
            rule["hits"] += 1
            self.injected += 1
            key = "lro_fail" if lro else str(rule["status"])
            self.by_status[key] = self.by_status.get(key, 0) + 1
            return rule
        return None

    def state(self) -> list[dict]:
        return [self.public(r) for r in self.rules]
