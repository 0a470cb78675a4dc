"""The resource store: ARM resources by id (case-insensitive), with per-resource internal
state that is never returned to clients (guest model, secrets, bookkeeping)."""

from __future__ import annotations

import copy


class Store:
    def __init__(self):
        self._res: dict[str, dict] = {}
        self._internal: dict[str, dict] = {}

    @staticmethod
    def key(rid: str) -> str:
        return rid.rstrip("/").lower()

    def get(self, rid: str) -> dict | None:
        return self._res.get(self.key(rid))

    def exists(self, rid: str) -> bool:
        return self.key(rid) in self._res

    def put(self, rid: str, body: dict) -> dict:
        k = self.key(rid)
        self._res[k] = body
        self._internal.setdefault(k, {})
        return body

    def internal(self, rid: str) -> dict:
        """Mutable internal state of a resource (created on first use)."""
        return self._internal.setdefault(self.key(rid), {})

    def delete(self, rid: str) -> dict | None:
        k = self.key(rid)
        self._internal.pop(k, None)
        return self._res.pop(k, None)

    def list(self, rtype: str | None = None, prefix: str | None = None) -> list[dict]:
        """Resources of an ARM type (e.g. ``Microsoft.Compute/virtualMachines``) whose id starts
        with ``prefix`` (e.g. ``/subscriptions/x/resourceGroups/rg/``), in creation order."""
        t = rtype.lower() if rtype else None
        p = prefix.lower() if prefix else None
        out = []
        for k, body in self._res.items():
            if t and str(body.get("type", "")).lower() != t:
                continue
            if p and not k.startswith(p):
                continue
            out.append(body)
        return out

    def children(self, parent_id: str) -> list[dict]:
        p = self.key(parent_id) + "/"
        return [b for k, b in self._res.items() if k.startswith(p)]

    def snapshot(self) -> dict:
        return {"resources": copy.deepcopy(list(self._res.values())),
                "internal": copy.deepcopy(self._internal)}
