"""Scenarios: YAML files describing the starting world.

``--scenario demo`` loads ``avdsim/scenarios/demo.yaml``; any other value is a path. A file
may say ``extends: demo`` (or a path): the base is loaded first, then mappings are merged
key by key and lists are appended (``durations`` entries override the base's)."""

from __future__ import annotations

import os

import yaml

_HERE = os.path.join(os.path.dirname(__file__), "scenarios")


def bundled() -> list[str]:
    return sorted(f[:-5] for f in os.listdir(_HERE) if f.endswith(".yaml"))


def _merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(over, list):
        return base + over
    return over


def load(name_or_path: str, _depth: int = 0) -> dict:
    if _depth > 5:
        raise ValueError("scenario 'extends' chain is deeper than 5")
    if os.path.sep not in name_or_path and not name_or_path.endswith((".yaml", ".yml")):
        path = os.path.join(_HERE, name_or_path + ".yaml")
        if not os.path.exists(path):
            raise ValueError(f"unknown scenario '{name_or_path}'; bundled: {', '.join(bundled())}"
                             " (or give a path to a YAML file)")
    else:
        path = name_or_path
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"scenario {path}: top level must be a mapping")
    parent = data.pop("extends", None)
    if parent:
        is_file = os.path.sep in parent or parent.endswith((".yaml", ".yml"))
        if is_file and not os.path.isabs(parent):
            parent = os.path.join(os.path.dirname(os.path.abspath(path)), parent)
        data = _merge(load(parent, _depth + 1), data)
    for key in ("subscription_id", "tenant_id", "client_id", "client_secret"):
        if not data.get(key):
            raise ValueError(f"scenario {path}: '{key}' is required")
    return data
