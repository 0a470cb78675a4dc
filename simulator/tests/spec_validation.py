"""Validate response bodies against Microsoft's OpenAPI definitions in
``../shared/azure-reference/specs``: DesktopVirtualization 2024-04-03, ComputeRP 2026-04-01,
DiskRP 2025-01-02, GalleryRP 2025-03-03.

The reference folder is part of the test environment (CI has ``../shared`` beside the clone):
when a definition is missing the calling test fails, it never skips, and
``test_reference_specs.py`` says which files are missing.

ComputeRP refers to ``../../common-types/v1/common.json`` which, relative to the file, does
not exist; the same definitions live in ``Microsoft.Compute/common-types/v1/common.json`` (see
the reference README), so that one path is mapped."""

import json
import os

import pytest

REF = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                    "azure-reference", "specs", "specification"))
COMPUTE = os.path.join(REF, "compute", "resource-manager", "Microsoft.Compute")
SPECS = {
    "avd": os.path.join(REF, "desktopvirtualization", "resource-manager",
                        "Microsoft.DesktopVirtualization", "stable", "2024-04-03",
                        "desktopvirtualization.json"),
    "compute": os.path.join(COMPUTE, "Compute", "stable", "2026-04-01", "ComputeRP.json"),
    "disk": os.path.join(COMPUTE, "DiskRP", "stable", "2025-01-02", "DiskRP.json"),
    "gallery": os.path.join(COMPUTE, "GalleryRP", "stable", "2025-03-03", "GalleryRP.json"),
    "common": os.path.join(COMPUTE, "common-types", "v1", "common.json"),
}
_BROKEN = os.path.join(COMPUTE, "Compute", "common-types", "v1", "common.json")
_FIXED = os.path.join(COMPUTE, "common-types", "v1", "common.json")
_cache = {}


def missing_specs():
    """The definition files that are not where the tests expect them."""
    return [path for path in SPECS.values() if not os.path.exists(path)]


def _strip_nulls(value):
    # The real service sends null for unset properties (see the recordings); Swagger 2.0 has
    # no null type, so nulls are dropped before validating, as the SDK's deserializer does.
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _open_enums(node):
    """``x-ms-enum`` with ``modelAsString: true`` is an extensible enum: any string is valid
    (AutoRest's rule), so the closed ``enum`` list is dropped for validation."""
    if isinstance(node, dict):
        xe = node.get("x-ms-enum")
        if isinstance(xe, dict) and xe.get("modelAsString", False) and "enum" in node:
            node = {k: v for k, v in node.items() if k != "enum"}
        return {k: _open_enums(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_open_enums(v) for v in node]
    return node


def _load(path):
    if path not in _cache:
        with open(path, encoding="utf-8") as f:
            _cache[path] = _open_enums(json.load(f))
    return _cache[path]


def validate(spec: str, definition: str, body: dict) -> None:
    """Raise jsonschema.ValidationError unless ``body`` fits ``#/definitions/<definition>`` of
    ``spec`` (a key of SPECS); fail the calling test when the definition file is missing."""
    path = SPECS[spec]
    if not os.path.exists(path):
        pytest.fail(f"OpenAPI spec not found at {path}: the shared azure-reference folder must "
                    "be beside the clone (../shared)", pytrace=False)
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    def retrieve(uri):
        # relative $refs (common-types) resolve to files of the same reference tree
        p = os.path.normpath(uri[len("file://"):])
        if p == _BROKEN:
            p = _FIXED
        return Resource.from_contents(_load(p), default_specification=DRAFT4)

    base = "file://" + path
    registry = Registry(retrieve=retrieve).with_resource(
        base, Resource.from_contents(_load(path), default_specification=DRAFT4))
    schema = {"$ref": base + "#/definitions/" + definition}
    jsonschema.Draft4Validator(schema, registry=registry).validate(_strip_nulls(body))
