"""ARM resource ids."""

from __future__ import annotations

import re


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def resource_id(sub: str, rg: str, namespace: str, *type_name_pairs: str) -> str:
    """resource_id(sub, rg, "Microsoft.Compute", "virtualMachines", "vm1", "extensions", "x")"""
    if len(type_name_pairs) % 2:
        raise ValueError("type/name pairs expected")
    tail = "/".join(type_name_pairs)
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{tail}"


_ID_RE = re.compile(r"^/subscriptions/(?P<sub>[^/]+)(?:/resourceGroups/(?P<rg>[^/]+))?"
                    r"(?:/providers/(?P<ns>[^/]+)/(?P<rest>.+))?$", re.IGNORECASE)


def parse(rid: str) -> dict | None:
    """{'subscription', 'resource_group', 'namespace', 'types': [...], 'names': [...],
    'type' (full ARM type), 'name' (last name)} or None if it is not an ARM id."""
    if not isinstance(rid, str):
        return None
    m = _ID_RE.match(rid.rstrip("/"))
    if not m:
        return None
    out = {"subscription": m.group("sub"), "resource_group": m.group("rg"),
           "namespace": m.group("ns"), "types": [], "names": []}
    rest = m.group("rest")
    if rest:
        segs = rest.split("/")
        if len(segs) % 2:
            return None
        out["types"] = segs[0::2]
        out["names"] = segs[1::2]
        out["type"] = m.group("ns") + "/" + "/".join(out["types"])
        out["name"] = out["names"][-1]
    return out


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a.rstrip("/").lower() == b.rstrip("/").lower()
