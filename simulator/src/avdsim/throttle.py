"""Per-subscription token buckets for reads, writes and deletes, as ARM throttles
(https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
subscription reads 250 tokens refilled at 25/s, writes 200 at 10/s, deletes 200 at 10/s.

Buckets refill on SIMULATED time, Azure's clock in the simulator. The wait of a 429 is an
appointment (``avdsim.pacing``): the client is asked to come back after it compressed by the
time scale, and when it does the clock has moved by the whole wait, so the bucket has refilled
as in Azure. A burst with nothing pending runs on real time and is throttled as in Azure."""

from __future__ import annotations

import math
from collections import deque
from typing import Callable

DEFAULT_LIMITS = {
    "read": {"bucket": 250, "refill_per_s": 25.0},
    "write": {"bucket": 200, "refill_per_s": 10.0},
    "delete": {"bucket": 200, "refill_per_s": 10.0},
}

HEADER = {"read": "x-ms-ratelimit-remaining-subscription-reads",
          "write": "x-ms-ratelimit-remaining-subscription-writes",
          "delete": "x-ms-ratelimit-remaining-subscription-deletes"}


class TokenBucket:
    def __init__(self, capacity: float, refill_per_s: float, now: Callable[[], float]):
        self.capacity = float(capacity)
        self.refill = float(refill_per_s)
        self.tokens = float(capacity)
        self._now = now
        self.t = now()

    def _fill(self):
        now = self._now()
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.t) * self.refill)
        self.t = max(self.t, now)

    def take(self) -> tuple[bool, float]:
        """(allowed, seconds of the bucket's clock until a token is available)."""
        self._fill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True, 0.0
        return False, (1.0 - self.tokens) / self.refill if self.refill > 0 else 60.0

    def remaining(self) -> int:
        self._fill()
        return int(self.tokens)


class Throttle:
    """``now`` is the clock the buckets refill on: the simulator passes its simulated clock."""

    def __init__(self, now: Callable[[], float], limits: dict | None = None):
        self.now = now
        self.limits = {k: dict(v) for k, v in DEFAULT_LIMITS.items()}
        for k, v in (limits or {}).items():
            self.limits.setdefault(k, {}).update(v)
        self.buckets: dict[tuple[str, str], TokenBucket] = {}

    def bucket(self, sub: str, kind: str) -> TokenBucket:
        key = (sub.lower(), kind)
        b = self.buckets.get(key)
        if b is None:
            lim = self.limits[kind]
            b = self.buckets[key] = TokenBucket(lim["bucket"], lim["refill_per_s"], self.now)
        return b

    def check(self, sub: str, kind: str) -> tuple[bool, float, int]:
        """(allowed, seconds on the bucket's clock until a token is back, remaining)."""
        b = self.bucket(sub, kind)
        ok, wait = b.take()
        return ok, (max(1.0, float(math.ceil(wait))) if not ok else 0.0), b.remaining()


# Microsoft.Compute's own per-operation policies (x-ms-ratelimit-remaining-resource), as the
# recorded responses show them: name -> [(window name, seconds, allowed requests)].
# Disk and gallery policies: the names and the (3Min, 30Min) windows are those of the
# x-ms-ratelimit-remaining-resource headers in Azure/azure-sdk-for-python's recordings
# (../shared/azure-reference/recordings/azure-sdk-for-python/test_mgmt_compute_disks.test_compute_shot
# and test_mgmt_compute_galleries.test_compute_galleries): PUT/PATCH disk and PATCH snapshot ->
# CreateUpdateDisks, PUT snapshot (and begin/endGetAccess) -> HighCostSnapshotCreateHydrate,
# GET disk/snapshot -> LowCostGet, DELETE disk/snapshot -> DeleteDisks, galleries / gallery images /
# image versions -> CreateUpdate*, Get*, Delete* of each, a capsOperations poll ->
# GetOperationStatus. Each limit is the count a first call in a fresh window left remaining plus
# one, rounded up to the bucket the other values of the same header point at (e.g. GetGallery
# "3Min;349,30Min;2496" -> 350 and 2500). Microsoft documents the mechanism (per-policy buckets,
# the header, 429 OperationNotAllowed) in "Troubleshooting API throttling errors"
# (https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/troubleshooting-throttling-errors)
# and the VM limits in https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits;
# it publishes no table for disks and galleries, so the recorded headers are the source.
# Disk and snapshot lists carry no policy: no recording shows one.
COMPUTE_POLICIES = {
    "PutVM": [("3Min", 180, 240), ("30Min", 1800, 1200)],
    "UpdateVM": [("3Min", 180, 240), ("30Min", 1800, 1200)],
    "DeleteVM": [("3Min", 180, 240), ("30Min", 1800, 1200)],
    "LowCostGet": [("3Min", 180, 4000), ("30Min", 1800, 32000)],
    "HighCostGet": [("3Min", 180, 140), ("30Min", 1800, 700)],
    "GetOperation": [("3Min", 180, 15000), ("30Min", 1800, 30000)],
    "GetOperationStatus": [("3Min", 180, 1200), ("30Min", 1800, 4200)],
    "CreateUpdateDisks": [("3Min", 180, 1000), ("30Min", 1800, 8000)],
    "HighCostSnapshotCreateHydrate": [("3Min", 180, 1000), ("30Min", 1800, 8000)],
    "DeleteDisks": [("3Min", 180, 3000), ("30Min", 1800, 24000)],
    "CreateUpdateGallery": [("3Min", 180, 50), ("30Min", 1800, 300)],
    "GetGallery": [("3Min", 180, 350), ("30Min", 1800, 2500)],
    "DeleteGallery": [("3Min", 180, 50), ("30Min", 1800, 300)],
    "CreateUpdateGalleryImage": [("3Min", 180, 150), ("30Min", 1800, 750)],
    "GetGalleryImage": [("3Min", 180, 600), ("30Min", 1800, 3000)],
    "DeleteGalleryImage": [("3Min", 180, 50), ("30Min", 1800, 300)],
    "CreateUpdateGalleryImageVersion": [("3Min", 180, 375), ("30Min", 1800, 1200)],
    "GetGalleryImageVersion": [("3Min", 180, 2000), ("30Min", 1800, 10000)],
    "DeleteGalleryImageVersion": [("3Min", 180, 150), ("30Min", 1800, 1000)],
}


def operation_policy(route_policy: str | None, params: dict) -> str | None:
    """The policy of an operation-status poll depends on the kind of operation: GalleryRP's
    ``capsOperations`` count against GetOperationStatus, the others against GetOperation (recordings
    above)."""
    kind = next((v for k, v in params.items() if k.lower() == "operationkind"), "")
    if route_policy == "GetOperation" and kind.lower() == "capsoperations":
        return "GetOperationStatus"
    return route_policy


class ResourcePolicies:
    """Sliding windows per (subscription, policy window) on SIMULATED time: they judge how a
    client paces its calls against operations that take simulated minutes (a client that lists
    VMs every simulated second is throttled, as it would be in Azure), while the subscription
    buckets above protect the simulator's real request rate."""

    def __init__(self, overrides: dict | None = None):
        self.policies = {name: [list(w) for w in windows]
                         for name, windows in COMPUTE_POLICIES.items()}
        for key, limit in (overrides or {}).items():
            for name, windows in self.policies.items():
                for w in windows:
                    if name + w[0] == key:
                        w[2] = int(limit)
        self.hits: dict[tuple[str, str], deque] = {}

    def check(self, sub: str, policy: str, now: float, namespace: str = "Microsoft.Compute"):
        """(allowed, header value, 429 detail or None). ``now`` is simulated time; the detail
        is (group, window seconds, limit, measured, simulated seconds until a slot frees)."""
        header = []
        blocked = None
        for wname, seconds, limit in self.policies[policy]:
            q = self.hits.setdefault((sub.lower(), policy + wname), deque())
            while q and q[0] <= now - seconds:
                q.popleft()
            if len(q) >= limit and blocked is None:
                blocked = (policy + wname, seconds, limit, len(q) + 1,
                           max(1.0, q[0] + seconds - now))
        if blocked is None:
            for wname, _seconds, _limit in self.policies[policy]:
                self.hits[(sub.lower(), policy + wname)].append(now)
        for wname, _seconds, limit in self.policies[policy]:
            used = len(self.hits[(sub.lower(), policy + wname)])
            header.append(f"{namespace}/{policy}{wname};{max(0, limit - used)}")
        return blocked is None, ",".join(header), blocked
