"""The collection metadata stays consistent as modules are added."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def load(relative):
    return yaml.safe_load((REPO / relative).read_text())


def test_every_module_is_in_the_azure_action_group():
    group = load("meta/runtime.yml")["action_groups"]["azure"]
    missing = sorted(set(MODULES) - set(group))
    assert not missing, "add %s to action_groups.azure in meta/runtime.yml" % ", ".join(missing)
    unknown = sorted(set(group) - set(MODULES))
    assert not unknown, "meta/runtime.yml lists modules that do not exist: %s" % ", ".join(unknown)
    assert len(group) == len(set(group)), "duplicate entries in action_groups.azure"


def test_runtime_requires_ansible():
    # the oldest ansible-core `make test` runs (test-requirements.txt pins it): claim no older one
    assert load("meta/runtime.yml")["requires_ansible"] == ">=2.19.0"
    pinned = [line for line in (REPO / "test-requirements.txt").read_text().splitlines()
              if line.startswith("ansible-core==")]
    assert pinned and pinned[0].startswith("ansible-core==2.19."), pinned


def _requirements_txt():
    """{package: lower bound} of requirements.txt (every line is ``name>=version``)."""
    out = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, bound = line.partition(">=")
            assert sep and bound, "requirements.txt: %r is not name>=version" % line
            out[name.strip().lower()] = bound.strip()
    return out


def _documented_requirements(docs):
    out = {}
    for entry in docs.get("requirements") or []:
        name, _sep, bound = str(entry).partition(">=")
        out[name.strip().lower()] = bound.strip()
    return out


def test_module_docs_list_every_python_requirement_with_its_bound():
    """The shared ``azure`` doc fragment lists every package of requirements.txt with the same lower
    bound, and every module extends it: the docs cannot drift from what pip installs."""
    from ansible_collections.goldenimage.avd.plugins.doc_fragments.azure import ModuleDocFragment

    documented = _documented_requirements(yaml.safe_load(ModuleDocFragment.DOCUMENTATION))
    expected = _requirements_txt()
    assert expected, "requirements.txt lists nothing"
    wrong = {name: (documented.get(name), bound) for name, bound in expected.items() if documented.get(name) != bound}
    assert not wrong, "doc fragment azure: requirements (documented, requirements.txt): %s" % wrong
    for module in MODULES:
        docs = yaml.safe_load(__import__(
            "ansible_collections.goldenimage.avd.plugins.modules." + module, fromlist=["DOCUMENTATION"]).DOCUMENTATION)
        assert "goldenimage.avd.azure" in docs["extends_documentation_fragment"], module
        own = _documented_requirements(docs)
        clashes = {name: bound for name, bound in own.items() if name in expected and bound != expected[name]}
        assert not clashes, "%s: requirements differ from requirements.txt: %s" % (module, clashes)


def test_galaxy_metadata():
    galaxy = load("galaxy.yml")
    assert (galaxy["namespace"], galaxy["name"]) == ("goldenimage", "avd")
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    for path in ("simulator", "tests", "extensions", ".venv", "build", ".ci", "Makefile"):
        assert path in galaxy["build_ignore"], path


@pytest.mark.parametrize("name", ["requirements.txt", "bindep.txt"])
def test_execution_environment_copies_match_the_root_files(name):
    # ansible-builder reads these relative to meta/ (create) and to the collection root (introspection)
    assert (REPO / "meta" / name).read_text() == (REPO / name).read_text(), \
        "copy %s to meta/%s (cp %s meta/)" % (name, name, name)


def test_execution_environment_definition():
    definition = load("meta/execution-environment.yml")
    assert definition["version"] == 3
    assert definition["dependencies"]["python"] == "requirements.txt"
    assert definition["dependencies"]["system"] == "bindep.txt"


def test_execution_environment_is_pinned_and_has_azure_azcollection_beside_this_collection():
    definition = load("meta/execution-environment.yml")
    image = definition["images"]["base_image"]["name"]
    assert ("@sha256:" in image or ":" in image.rsplit("/", 1)[-1]) and not image.endswith(":latest"), image
    assert definition["dependencies"]["python_interpreter"]["python_path"] == "/usr/bin/python3.11"
    collections = {entry["name"]: str(entry["version"]) for entry in definition["dependencies"]["galaxy"]["collections"]}
    assert collections == {"azure.azcollection": "3.12.0", "goldenimage.avd": str(load("galaxy.yml")["version"])}


def test_sanity_ignore_files_are_empty():
    for path in sorted((REPO / "tests" / "sanity").glob("ignore-*.txt")):
        assert path.read_text().strip() == "", "%s must stay empty: fix the code instead" % path.name


SECTIONS = {"release_summary", "major_changes", "minor_changes", "breaking_changes", "deprecated_features",
            "removed_features", "security_fixes", "bugfixes", "known_issues", "trivial"}


def check_fragment(fragment):
    data = yaml.safe_load(fragment.read_text())
    assert isinstance(data, dict) and data, "%s: empty changelog fragment" % fragment.name
    assert set(data) <= SECTIONS, "%s: unknown sections: %s" % (fragment.name, set(data) - SECTIONS)
    for section, entries in data.items():
        if section != "release_summary":
            assert isinstance(entries, list) and all(isinstance(entry, str) for entry in entries), \
                (fragment.name, section)


def test_changelog_fragments(tmp_path):
    # after a release the directory may be empty; the unreleased fragments (if any) must be well formed
    for fragment in sorted((REPO / "changelogs" / "fragments").glob("*.y*ml")):
        check_fragment(fragment)
    bad = tmp_path / "bad.yml"
    bad.write_text("new_features:\n  - not a section\n")
    with pytest.raises(AssertionError, match="unknown sections"):
        check_fragment(bad)
