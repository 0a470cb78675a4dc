"""Validate Desktop Virtualization bodies against Microsoft's OpenAPI definitions
(``../shared/azure-reference/specs``, api-version 2024-04-03). Tests skip when absent."""

import json
import os

import pytest

SPEC = os.path.normpath(os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "azure-reference", "specs",
    "specification", "desktopvirtualization", "resource-manager", "Microsoft.DesktopVirtualization",
    "stable", "2024-04-03", "desktopvirtualization.json"))


def _strip_nulls(value):
    # The real service sends null for unset properties (see the recording); Swagger 2.0 has
    # no null type, so nulls are dropped before validating, as the SDK's deserializer does.
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def validate(definition: str, body: dict) -> None:
    """Raise jsonschema.ValidationError unless ``body`` fits ``#/definitions/<definition>``;
    skip the calling test when the reference folder is absent."""
    if not os.path.exists(SPEC):
        pytest.skip("DesktopVirtualization OpenAPI spec not found at %s (the shared "
                    "azure-reference folder is absent)" % SPEC)
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    def retrieve(uri):
        # Relative $refs (common-types) resolve to files of the same reference tree.
        with open(uri[len("file://"):], encoding="utf-8") as f:
            return Resource.from_contents(json.load(f), default_specification=DRAFT4)

    with open(SPEC, encoding="utf-8") as f:
        spec = json.load(f)
    base_uri = "file://" + SPEC
    registry = Registry(retrieve=retrieve).with_resource(
        base_uri, Resource.from_contents(spec, default_specification=DRAFT4))
    schema = {"$ref": base_uri + "#/definitions/%s" % definition}
    validator = jsonschema.Draft4Validator(schema, registry=registry)
    validator.validate(_strip_nulls(body))
