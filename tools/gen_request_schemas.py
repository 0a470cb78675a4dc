"""Generate ``simulator/src/avdsim/request_schemas.json``: the members each request body of the
strict providers may have, from Microsoft's OpenAPI definitions in
``../shared/azure-reference/specs`` (ComputeRP 2026-04-01, DiskRP 2025-01-02).

The simulator loads the compact table, not the specs, so it runs wherever it is installed;
``simulator/tests/test_strict.py`` regenerates the table from the specs and fails when the
committed one differs. Run: ``.venv/bin/python tools/gen_request_schemas.py``."""

from __future__ import annotations

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.normpath(os.path.join(ROOT, "..", "shared", "azure-reference", "specs",
                                    "specification"))
COMPUTE = os.path.join(REF, "compute", "resource-manager", "Microsoft.Compute")
SPECS = [os.path.join(COMPUTE, "Compute", "stable", "2026-04-01", "ComputeRP.json"),
         os.path.join(COMPUTE, "DiskRP", "stable", "2025-01-02", "DiskRP.json")]
OUT = os.path.join(ROOT, "simulator", "src", "avdsim", "request_schemas.json")
# ComputeRP refers to a common.json that is not at the relative path (reference README)
_BROKEN = os.path.join(COMPUTE, "Compute", "common-types", "v1", "common.json")
_FIXED = os.path.join(COMPUTE, "common-types", "v1", "common.json")
_files: dict = {}


def _load(path):
    path = _FIXED if os.path.normpath(path) == _BROKEN else os.path.normpath(path)
    if path not in _files:
        with open(path, encoding="utf-8") as handle:
            _files[path] = json.load(handle)
    return path, _files[path]


def _resolve(ref, base):
    file_part, _hash, pointer = ref.partition("#")
    path = os.path.join(os.path.dirname(base), file_part) if file_part else base
    path, doc = _load(path)
    node = doc
    for part in pointer.strip("/").split("/"):
        node = node[part]
    return path, node, pointer.rsplit("/", 1)[-1]


class Builder:
    def __init__(self):
        self.defs: dict = {}

    def definition(self, schema, base, name):
        """The name of the (merged) definition of ``schema``, added to ``self.defs``."""
        if "$ref" in schema:
            base, schema, name = _resolve(schema["$ref"], base)
        if name in self.defs:
            return name
        self.defs[name] = entry = {}
        props, open_map = {}, False
        for part in schema.get("allOf", []):
            parent = self.definition(part, base, name + "^")
            props.update(self.defs[parent]["p"])
            open_map = open_map or self.defs[parent].get("open", False)
        for key, prop in (schema.get("properties") or {}).items():
            props[key] = self.member(prop, base, f"{name}.{key}")
        if schema.get("additionalProperties") not in (None, False) and not props:
            open_map = True
        entry["p"] = props
        if open_map or (schema.get("type") == "object" and not props and "allOf" not in schema):
            entry["open"] = True
        return name

    def member(self, prop, base, name):
        """``[kind, definition or None, read-only]``: kind o(bject), a(rray), m(ap), s(calar)."""
        read_only = bool(prop.get("readOnly"))
        target = prop
        if "$ref" in prop:
            base, target, name = _resolve(prop["$ref"], base)
            read_only = read_only or bool(target.get("readOnly"))
        if target.get("type") == "array":
            items = target.get("items") or {}
            if _is_object(items, base):
                return ["a", self.definition(items, base, name + "[]"), read_only]
            return ["s", None, read_only]
        if _is_object(target, base):
            if target.get("additionalProperties") not in (None, False) and \
                    not target.get("properties"):
                return ["m", None, read_only]
            return ["o", self.definition(target, base, name), read_only]
        return ["s", None, read_only]


def _is_object(schema, base):
    if "$ref" in schema:
        base, schema, _name = _resolve(schema["$ref"], base)
    return schema.get("type") == "object" or "properties" in schema or "allOf" in schema


def _route_key(method, template):
    return f"{method.upper()} " + re.sub(r"\{[^}]+\}", "{}", template).lower()


def build():
    builder = Builder()
    bodies = {}
    for spec in SPECS:
        path, doc = _load(spec)
        for template, ops in sorted(doc["paths"].items()):
            for method, op in ops.items():
                if method not in ("put", "patch", "post") or not isinstance(op, dict):
                    continue
                for param in op.get("parameters", []):
                    if "$ref" in param:
                        _p, param, _n = _resolve(param["$ref"], path)
                    if param.get("in") == "body" and _is_object(param.get("schema", {}), path):
                        bodies[_route_key(method, template)] = builder.definition(
                            param["schema"], path, op.get("operationId", "body"))
    return {"source": [os.path.relpath(s, REF) for s in SPECS], "bodies": bodies,
            "definitions": dict(sorted(builder.defs.items()))}


def main(argv):
    table = build()
    text = json.dumps(table, indent=0, sort_keys=True, separators=(",", ":")) + "\n"
    if "--check" in argv:
        with open(OUT, encoding="utf-8") as handle:
            return 0 if handle.read() == text else 1
    with open(OUT, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"{OUT}: {len(table['bodies'])} bodies, {len(table['definitions'])} definitions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
