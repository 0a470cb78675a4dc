"""The OpenAPI definitions the response-shape tests validate against are present: without them
those tests could not check anything, so their absence is a failure, not a skip."""

import json

from spec_validation import SPECS, missing_specs


def test_every_reference_definition_is_present():
    assert not missing_specs(), "missing OpenAPI definitions (is ../shared beside the clone?): %s" % missing_specs()


def test_the_definitions_the_tests_name_exist_in_the_specs():
    # a renamed definition would otherwise fail deep inside jsonschema's $ref resolution
    wanted = {"avd": ["HostPool", "SessionHost", "UserSession"], "compute": ["VirtualMachine"],
              "disk": ["Disk", "Snapshot"], "gallery": ["GalleryImageVersion"]}
    for spec, names in wanted.items():
        with open(SPECS[spec], encoding="utf-8") as f:
            definitions = json.load(f)["definitions"]
        assert [name for name in names if name not in definitions] == [], spec
