"""The code-shape gate: no function longer than 60 lines or more complex than 20 (cyclomatic,
as radon counts it), and no Python file longer than 600 lines, under the given folders.

A function may exceed a limit when the line right above its ``def`` (or above its first
decorator) is a comment ``# shape: <reason>``; the reason is printed with the report.

Usage: python tools/code_shape.py [--max-lines 60] [--max-complexity 20] [--max-file 600] DIR...
Exit status 1 when anything is over a limit without a reason."""

from __future__ import annotations

import argparse
import pathlib
import sys

from radon.complexity import cc_visit
from radon.visitors import Class

SHAPE_MARK = "# shape:"


def _functions(blocks, seen=None):
    """Every function and method, closures included, of radon's blocks, each once (radon lists
    a method both on its own and in its class)."""
    seen = set() if seen is None else seen
    for block in blocks:
        if isinstance(block, Class):
            yield from _functions(block.methods, seen)
            continue
        if (block.lineno, block.name) in seen:
            continue
        seen.add((block.lineno, block.name))
        yield block
        yield from _functions(block.closures, seen)


def _reason(lines, block):
    """The ``# shape:`` reason written above the function (or its decorators), or None."""
    index = block.lineno - 2  # the line above `def` (0-based)
    while index >= 0 and lines[index].lstrip().startswith("@"):
        index -= 1
    above = lines[index].strip() if index >= 0 else ""
    if not above.startswith(SHAPE_MARK):
        return None
    return above[len(SHAPE_MARK):].strip() or None


def check_source(path, source, limits):
    """(violations, excused) for one file: lists of report lines."""
    lines = source.splitlines()
    violations, excused = [], []
    if len(lines) > limits["file"]:
        violations.append(f"{path}: {len(lines)} lines (at most {limits['file']})")
    for block in _functions(cc_visit(source)):
        length = block.endline - block.lineno + 1
        over = []
        if length > limits["lines"]:
            over.append(f"{length} lines")
        if block.complexity > limits["complexity"]:
            over.append(f"complexity {block.complexity}")
        if not over:
            continue
        where = f"{path}:{block.lineno} {block.name}: {', '.join(over)}"
        reason = _reason(lines, block)
        if reason:
            excused.append(f"{where} (shape: {reason})")
        else:
            violations.append(where)
    return violations, excused


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=60)
    parser.add_argument("--max-complexity", type=int, default=20)
    parser.add_argument("--max-file", type=int, default=600)
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args(argv)
    limits = {"lines": args.max_lines, "complexity": args.max_complexity, "file": args.max_file}
    violations, excused, files = [], [], 0
    for folder in args.dirs:
        for path in sorted(pathlib.Path(folder).rglob("*.py")):
            files += 1
            found, ok = check_source(str(path), path.read_text(encoding="utf-8"), limits)
            violations += found
            excused += ok
    for line in excused:
        print("excused:", line)
    for line in violations:
        print("OVER:", line)
    print(f"== code shape: {files} files, {len(violations)} over the limits, {len(excused)} excused")
    return 1 if violations or not files else 0


if __name__ == "__main__":
    sys.exit(main())
