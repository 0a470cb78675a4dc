"""Unknown members of request bodies, refused as Microsoft.Compute refuses them.

Compute (CRP: virtual machines, their extensions and run commands, restore points) and DiskRP
(disks, snapshots) deserialize request bodies strictly: a member their model does not have is a
400 ``InvalidRequestContent`` "The request content was invalid and could not be deserialized:
'Could not find member '<name>' on object of type '<type>'. Path '<path>', ...'." (Azure/azure-sdk-for-net#3487
for a disk, Azure/azure-powershell#4317; Azure/azure-sdk-for-java#646 for a VM). Members are
matched without regard to case (the deserializer's rule: ``AccountType`` was reported under its
own spelling). Read-only members (``id``, ``name``, ``type``, ``provisioningState``,
``resources`` of a VM ... what an SDK sends back on a PUT of a model it read) are ignored, as the
services ignore them since Azure/azure-rest-api-specs#286.

Not strict here: GalleryRP, Microsoft.DesktopVirtualization and Microsoft.Network (no report of
either behaviour was found; the simulator validates their known members in the handlers).

The members come from ``request_schemas.json``, generated from the ComputeRP 2026-04-01 and
DiskRP 2025-01-02 OpenAPI definitions by ``tools/gen_request_schemas.py`` (committed, so the
simulator needs no spec files at run time; a simulator test checks it against the specs)."""

from __future__ import annotations

import json
import os
import re

from .errors import ArmError

with open(os.path.join(os.path.dirname(__file__), "request_schemas.json"), encoding="utf-8") as _f:
    _TABLE = json.load(_f)
_BODIES = _TABLE["bodies"]
_DEFS = {name: {"open": d.get("open", False),
                "members": {k.lower(): (k, m) for k, m in d["p"].items()}}
         for name, d in _TABLE["definitions"].items()}


def body_definition(method: str, template: str) -> str | None:
    """The definition of the body of ``method template`` on a strict provider, or None."""
    return _BODIES.get(f"{method.upper()} " + re.sub(r"\{[^}]+\}", "{}", template).lower())


def check(definition: str, body) -> None:
    """Raise 400 InvalidRequestContent at the first member ``definition`` does not have."""
    _walk(body, definition, "", "ResourceDefinition")


def _walk(value, definition: str, path: str, type_name: str) -> None:
    spec = _DEFS[definition]
    if spec["open"] or not isinstance(value, dict):
        return
    for key, item in value.items():
        found = spec["members"].get(key.lower())
        if found is None:
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: "
                           f"'Could not find member '{key}' on object of type '{type_name}'. "
                           f"Path '{path}{key}'.'.")
        _name, (kind, target, read_only) = found
        if read_only or item is None:
            continue  # a read-only member sent back is ignored
        if kind == "o":
            _walk(item, target, f"{path}{key}.", _short(target))
        elif kind == "a" and isinstance(item, list):
            for index, element in enumerate(item):
                _walk(element, target, f"{path}{key}[{index}].", _short(target))


def _short(definition: str) -> str:
    """The type name in the message: the definition's own name (inline ones: their member)."""
    return definition.rstrip("^[]").rsplit(".", 1)[-1]
