"""The code-shape gate (tools/code_shape.py) finds what is over its limits and honours reasons."""

import importlib.util
import pathlib

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "code_shape", pathlib.Path(__file__).resolve().parents[2] / "tools" / "code_shape.py")
code_shape = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(code_shape)

LIMITS = {"lines": 5, "complexity": 3, "file": 40}
SHORT = "def short(a):\n    return a\n"
LONG = "def long(a):\n" + "    a += 1\n" * 6 + "    return a\n"
BRANCHY = ("def branchy(a):\n    if a == 1:\n        return 1\n    if a == 2:\n        return 2\n"
           "    if a == 3:\n        return 3\n    return 0\n")


@pytest.mark.parametrize("source, violations, excused", [
    (SHORT, [], []),
    (LONG, ["f.py:1 long: 8 lines"], []),
    (BRANCHY, ["f.py:1 branchy: 8 lines, complexity 4"], []),
    ("# shape: a table of cases reads best in one place\n" + LONG, [],
     ["f.py:2 long: 8 lines (shape: a table of cases reads best in one place)"]),
    ("# shape: decorated\n@staticmethod\n" + LONG, [], ["f.py:3 long: 8 lines (shape: decorated)"]),
    ("# shape:\n" + LONG, ["f.py:2 long: 8 lines"], []),  # a mark without a reason excuses nothing
    ("value_above = compute_something()\n" + LONG, ["f.py:2 long: 8 lines"], []),  # code above is no reason
    ("class K:\n    def m(self):\n" + "        x = 1\n" * 6, ["f.py:2 m: 7 lines"], []),
    ("def outer():\n    def inner():\n" + "        x = 1\n" * 6 + "    return inner\n",
     ["f.py:1 outer: 9 lines", "f.py:2 inner: 7 lines"], []),
    (SHORT * 21, ["f.py: 42 lines (at most 40)"], []),
])
def test_check_source(source, violations, excused):
    assert code_shape.check_source("f.py", source, LIMITS) == (violations, excused)


def test_main_fails_on_a_violation_and_on_an_empty_tree(tmp_path, capsys):
    (tmp_path / "ok.py").write_text(SHORT)
    assert code_shape.main(["--max-lines", "5", str(tmp_path)]) == 0
    (tmp_path / "long.py").write_text(LONG)
    assert code_shape.main(["--max-lines", "5", str(tmp_path)]) == 1
    assert "OVER: " in capsys.readouterr().out
    assert code_shape.main([str(tmp_path / "nothing-here")]) == 1
