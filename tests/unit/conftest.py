"""Unit tests import the collection as Ansible does, from build/collections (made here when missing)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "goldenimage" / "avd"

if not (LINK.is_symlink() or LINK.exists()):
    LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        LINK.symlink_to(Path("..", "..", "..", ".."), target_is_directory=True)
    except FileExistsError:
        pass
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
