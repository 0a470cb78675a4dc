"""Microsoft.Compute disks, snapshots, restore point collections, restore points and disk
restore points. The guest model of an OS disk lives with the disk (internal state) and is
deep-copied by every copy (snapshot, Copy, Restore, FromImage, capture).

One module per resource; importing this package imports them all, which registers their
routes."""

from __future__ import annotations

from . import managed, snapshots, restore_points  # noqa: F401  (their routes, in this order)
from .common import (DISK_TYPE, DRP_TYPE, RP_TYPE, RPC_TYPE, SKU_TIER, SNAP_TYPE,
                     new_disk_body)

__all__ = ["DISK_TYPE", "DRP_TYPE", "RP_TYPE", "RPC_TYPE", "SKU_TIER", "SNAP_TYPE",
           "new_disk_body"]
