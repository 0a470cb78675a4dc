# -*- coding: utf-8 -*-
"""Table-driven tests of version names and the golden-image build decision (plugins/module_utils/_versions.py)."""

from __future__ import annotations

import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _versions as versions
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _versions as versions

VM = "/subscriptions/s/resourceGroups/rg-avd/providers/Microsoft.Compute/virtualMachines/vm-golden"
OTHER = "/subscriptions/s/resourceGroups/rg-avd/providers/Microsoft.Compute/virtualMachines/vm-other"


@pytest.mark.parametrize("name, expected", [
    ("1.0.0", (1, 0, 0)),
    ("1.10.2", (1, 10, 2)),
    ("2147483647.0.12", (2147483647, 0, 12)),
    ("01.0.0", (1, 0, 0)),
    ("1.0.2147483648", None),
    ("1.0", None),
    ("1.0.x", None),
    ("1.0.0\n", None),
    ("latest", None),
    ("", None),
    (None, None),
])
def test_parse_version(name, expected):
    assert versions.parse_version(name) == expected


@pytest.mark.parametrize("names, expected", [
    (["1.0.10", "1.0.9", "1.0.2"], ["1.0.2", "1.0.9", "1.0.10"]),
    (["2.0.0", "1.10.0", "1.9.9"], ["1.9.9", "1.10.0", "2.0.0"]),
    (["1.0.0", "latest", "0.0.1"], ["latest", "0.0.1", "1.0.0"]),
])
def test_version_key_sorts_numerically_and_other_names_first(names, expected):
    assert sorted(names, key=versions.version_key) == expected


@pytest.mark.parametrize("names, expected", [
    ([], None),
    (["latest"], None),
    (["1.0.9", "1.0.10", "1.0.2"], "1.0.10"),
    (["2.0.0", "latest", "1.9.9"], "2.0.0"),
])
def test_highest_version(names, expected):
    assert versions.highest_version(names) == expected


@pytest.mark.parametrize("names, expected", [
    ([], "1.0.0"),
    (["1.0.0"], "1.0.1"),
    (["1.0.9", "1.0.10", "1.0.2"], "1.0.11"),
    (["1.2.0", "1.10.0", "1.9.5"], "1.10.1"),
    (["2.0.0", "latest", "1.9.9"], "2.0.1"),
])
def test_next_patch_version(names, expected):
    assert versions.next_patch_version(names) == expected


@pytest.mark.parametrize("value, ok", [("1.0.0", True), ("1.0", False), ("1.0.0\n", False), ("a.b.c", False)])
def test_validate_version(value, ok):
    if ok:
        assert versions.validate_version(value, option="build_version") == value
    else:
        with pytest.raises(ValueError, match="build_version"):
            versions.validate_version(value, option="build_version")


def v(name, state="Succeeded", source=VM):
    return {"name": name, "provisioning_state": state, "provenance": {"source_vm": source} if source else {}}


@pytest.mark.parametrize("existing, requested, source, expected", [
    # nothing yet: the first version
    ([], "auto", VM, ("1.0.0", "build")),
    # every earlier build finished: the next patch after the highest version of any source
    ([v("1.0.0"), v("1.0.1", source=OTHER)], "auto", VM, ("1.0.2", "build")),
    ([v("1.0.9"), v("1.0.10"), v("latest", source=None)], "auto", VM, ("1.0.11", "build")),
    # an unfinished capture of this VM is resumed, a failed one retried
    ([v("1.0.0"), v("1.0.1", "Creating")], "auto", VM, ("1.0.1", "resume")),
    ([v("1.0.0"), v("1.0.1", "Failed")], "auto", VM, ("1.0.1", "retry")),
    # two unfinished: the highest (the Jinja of the role took the lowest; image_capture takes the highest)
    ([v("1.0.1", "Failed"), v("1.0.2", "Creating")], "auto", VM, ("1.0.2", "resume")),
    ([v("1.0.1", "Creating"), v("1.0.10", "Failed")], "auto", VM, ("1.0.10", "retry")),
    # another VM's unfinished capture is not ours
    ([v("1.0.0"), v("1.0.1", "Creating", source=OTHER)], "auto", VM, ("1.0.2", "build")),
    # the provenance tag compares like ARM ids: case-insensitive
    ([v("1.0.0"), v("1.0.1", "Creating", source=VM.lower())], "auto", VM, ("1.0.1", "resume")),
    ([v("1.0.0"), v("1.0.1", "Creating", source=VM.upper())], "auto", VM.lower(), ("1.0.1", "resume")),
    # untagged versions belong to no VM, also when the VM id is unknown
    ([v("1.0.0", "Creating", source=None)], "auto", VM, ("1.0.1", "build")),
    ([v("1.0.0", "Creating", source=None)], "auto", None, ("1.0.1", "build")),
    # a pinned version
    ([v("1.0.0")], "2.0.0", VM, ("2.0.0", "build")),
    ([v("1.0.0")], "1.0.0", VM, ("1.0.0", "finish")),
    ([v("1.0.0", "Creating")], "1.0.0", VM, ("1.0.0", "finish")),
    ([v("1.0.0", "Failed")], "1.0.0", VM, ("1.0.0", "retry")),
    ([v("1.0.0", source=OTHER)], "1.0.0", VM, ("1.0.0", "refuse")),
    ([v("1.0.0", "Failed", source=OTHER)], "1.0.0", VM, ("1.0.0", "refuse")),
    ([v("1.0.0", source=None)], "1.0.0", VM, ("1.0.0", "refuse")),
    # a pinned version wins over an unfinished one
    ([v("1.0.1", "Creating")], "1.0.5", VM, ("1.0.5", "build")),
])
def test_decide_build(existing, requested, source, expected):
    decision = versions.decide_build(existing, source, requested)
    assert (decision["version"], decision["action"]) == expected
    assert decision["action"] in versions.BUILD_ACTIONS
    assert decision["reason"].startswith(decision["version"] + ": ")


def test_decide_build_lists_next_unfinished_and_failed():
    existing = [v("1.0.0"), v("1.0.10", "Failed"), v("1.0.9", "Creating"), v("1.0.11", "Creating", source=OTHER)]
    decision = versions.decide_build(existing, VM)
    assert decision["next_version"] == "1.0.12"
    assert decision["unfinished"] == ["1.0.9", "1.0.10"]
    assert decision["failed"] == ["1.0.10"]
