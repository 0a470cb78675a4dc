"""azure.azcollection beside goldenimage.avd: its copy from the ``ansible`` package and its requirements.

    python tools/azcollection.py extract WHEEL COLLECTIONS_DIR VERSION
        unpack ansible_collections/azure/azcollection from the ``ansible`` community package's wheel
        (Ansible Galaxy is not needed) into COLLECTIONS_DIR and check that it is VERSION
    python tools/azcollection.py without AZCOLLECTION_REQUIREMENTS REQUIREMENTS... [--unpin NAME...]
        print REQUIREMENTS minus every distribution AZCOLLECTION_REQUIREMENTS names, so that a
        virtualenv gets azure.azcollection's pins and not another pin of the same distribution;
        requirements of the distributions after --unpin go in without a version (their version
        is the one azure.azcollection's own requirements allow)
    python tools/azcollection.py ee-requirements DEFINITION OUTPUT REQUIREMENTS...
        write into OUTPUT, as one set to resolve, the ansible-core and ansible-runner the execution
        environment DEFINITION installs and every requirement line of REQUIREMENTS (the builder's
        _build/requirements.txt and azure.azcollection's requirements.txt)

Used by the Makefile (``venv-azcollection`` and ``ee``).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

PREFIX = "ansible_collections/azure/azcollection/"


def extract(wheel, collections_dir, version):
    target = Path(collections_dir) / PREFIX
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(PREFIX) and not name.endswith("/")]
        if not members:
            sys.exit("%s holds no %s" % (wheel, PREFIX))
        for name in members:
            destination = staging / name[len(PREFIX):]
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(name))
    found = json.loads((staging / "MANIFEST.json").read_text())["collection_info"]["version"]
    if found != version:
        shutil.rmtree(staging)
        sys.exit("%s bundles azure.azcollection %s, not %s" % (wheel, found, version))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    print("azure.azcollection %s in %s" % (found, target))


def _lines(path):
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def _name(line):
    # PEP 503 normalised distribution name of a requirement line
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", line).group(0)).lower()


def without(azcollection_requirements, *arguments):
    requirements, unpin = arguments, ()
    if "--unpin" in arguments:
        split = arguments.index("--unpin")
        requirements, unpin = arguments[:split], {_name(name) for name in arguments[split + 1:]}
    pinned = {_name(line) for line in _lines(azcollection_requirements)}
    for path in requirements:
        for line in _lines(path):
            if _name(line) in unpin:
                print(_name(line))
            elif _name(line) not in pinned:
                print(line)


def ee_requirements(definition, output, *requirements):
    import yaml  # pylint: disable=import-outside-toplevel

    dependencies = yaml.safe_load(Path(definition).read_text())["dependencies"]
    lines = [dependencies[key]["package_pip"] for key in ("ansible_core", "ansible_runner") if key in dependencies]
    lines += [line for path in requirements for line in _lines(path)]
    Path(output).write_text("\n".join(lines) + "\n")


def main(argv):
    commands = {"extract": (extract, 3), "without": (without, None), "ee-requirements": (ee_requirements, None)}
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    function, count = commands[argv[0]]
    if (count is not None and len(argv) - 1 != count) or len(argv) < 3:
        sys.exit(__doc__)
    function(*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
