"""Azure Compute Gallery: galleries, image definitions and image versions with regional
replication that takes simulated time (``$expand=ReplicationStatus``).

One module per resource; importing this package imports them all, which registers their
routes."""

from __future__ import annotations

from . import galleries, images, versions  # noqa: F401  (their routes, in this order)
from .common import GAL_TYPE, IMG_TYPE, VER_TYPE
from .loading import load_galleries
from .replication import available_in, latest_version, region_status, replication_status

__all__ = ["GAL_TYPE", "IMG_TYPE", "VER_TYPE", "available_in", "latest_version",
           "load_galleries", "region_status", "replication_status"]


def register(sim):
    sim.scenario_section("galleries", load_galleries, 30)
