"""Every module's EXAMPLES are valid YAML tasks that only use options the module documents.

The documentation is read as ansible-doc shows it: the module's own options merged with those of
its ``extends_documentation_fragment`` entries (read from plugins/doc_fragments without importing).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULE_FILES = sorted(path for path in (REPO / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
MODULES = {path.stem for path in MODULE_FILES}
# keywords a task may carry besides the module call
TASK_KEYWORDS = {
    "name", "register", "when", "loop", "loop_control", "with_items", "with_dict", "vars", "tags",
    "check_mode", "diff", "become", "delegate_to", "run_once", "changed_when", "failed_when",
    "ignore_errors", "until", "retries", "delay", "no_log", "environment", "notify", "module_defaults",
    "throttle", "any_errors_fatal", "timeout",
}


def _string_assignments(path, holder=None):
    """``{NAME: text}`` of the string constants assigned at module level (or in class ``holder``)."""
    tree = ast.parse(path.read_text())
    body = tree.body
    if holder is not None:
        body = next(node.body for node in tree.body if isinstance(node, ast.ClassDef) and node.name == holder)
    found = {}
    for node in body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _fragment_options(reference):
    # goldenimage.avd.azure -> plugins/doc_fragments/azure.py, DOCUMENTATION
    # goldenimage.avd.wait.OTHER -> attribute OTHER of that file
    assert reference.startswith("goldenimage.avd."), "fragment %s is not from this collection" % reference
    parts = reference[len("goldenimage.avd."):].split(".")
    name, attribute = parts[0], (parts[1].upper() if len(parts) > 1 else "DOCUMENTATION")
    path = REPO / "plugins" / "doc_fragments" / (name + ".py")
    assert path.exists(), "unknown doc fragment %s" % reference
    text = _string_assignments(path, holder="ModuleDocFragment")[attribute]
    return (yaml.safe_load(text) or {}).get("options") or {}


def documented_options(path):
    strings = _string_assignments(path)
    doc = yaml.safe_load(strings["DOCUMENTATION"])
    options = dict(doc.get("options") or {})
    for reference in doc.get("extends_documentation_fragment") or []:
        for key, value in _fragment_options(reference).items():
            options.setdefault(key, value)
    return options


def _known_names(spec):
    names = {}
    for key, value in spec.items():
        names[key] = value
        for alias in (value or {}).get("aliases") or []:
            names[alias] = value
    return names


def _check_value(where, spec, value, problems):
    """Sub-options of dict/list-of-dict options must exist too; choices must be respected."""
    choices = spec.get("choices")
    if choices and isinstance(value, (str, bool, int)) and not (isinstance(value, str) and "{{" in value):
        if value not in choices:
            problems.append("%s: %r is not one of %s" % (where, value, choices))
    suboptions = spec.get("suboptions")
    if not suboptions:
        return
    items = value if isinstance(value, list) else [value]
    known = _known_names(suboptions)
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, sub in item.items():
            if key not in known:
                problems.append("%s.%s is not a documented sub-option (known: %s)" % (where, key, ", ".join(sorted(known))))
            else:
                _check_value("%s.%s" % (where, key), known[key], sub, problems)


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda path: path.stem)
def test_examples_parse_and_use_documented_options(path):
    strings = _string_assignments(path)
    examples = yaml.safe_load(strings["EXAMPLES"])
    assert isinstance(examples, list) and examples, "EXAMPLES must be a non-empty list of tasks"
    options = _known_names(documented_options(path))
    required = {key for key, value in documented_options(path).items() if (value or {}).get("required")}
    problems = []
    calls = 0
    for index, task in enumerate(examples):
        assert isinstance(task, dict), "example %d is not a task" % index
        label = task.get("name") or "example %d" % index
        for module_name, args in task.items():
            if module_name in TASK_KEYWORDS:
                continue
            if module_name.startswith("goldenimage.avd."):
                short = module_name[len("goldenimage.avd."):]
                assert short in MODULES, "%s: %s is not a module of this collection" % (label, module_name)
                if short != path.stem:
                    continue  # an example may use another module of the collection (its own docs check it)
                calls += 1
                assert isinstance(args, dict), "%s: module arguments must be a mapping" % label
                for key, value in args.items():
                    if key not in options:
                        problems.append("%s: option %s is not documented" % (label, key))
                    else:
                        _check_value("%s: %s" % (label, key), options[key], value, problems)
                missing = required - set(args)
                if missing:
                    problems.append("%s: required option(s) %s missing" % (label, ", ".join(sorted(missing))))
            elif "." not in module_name:
                problems.append("%s: %s is neither a task keyword nor an FQCN module name" % (label, module_name))
    assert calls, "no example calls goldenimage.avd.%s" % path.stem
    assert not problems, "\n".join(problems)


def test_the_checker_sees_undocumented_options(tmp_path):
    bad = tmp_path / "marker_tag.py"
    source = (REPO / "plugins" / "modules" / "marker_tag.py").read_text()
    bad.write_text(source.replace("    marker: pilot\n    version: 1.0.1", "    marker: pilot\n    versoin: 1.0.1", 1))
    with pytest.raises(AssertionError, match="versoin is not documented"):
        test_examples_parse_and_use_documented_options(bad)
