"""Regional replication of gallery image versions: per-region state from simulated time,
the aggregated status (``$expand=ReplicationStatus``), target region validation, scheduling,
and which version is the latest available in a region."""

from __future__ import annotations

from ..arm import norm_location
from ..errors import invalid_parameter
from .common import VER_TYPE

REGION_NAMES = {"westeurope": "West Europe", "northeurope": "North Europe",
                "eastus": "East US", "eastus2": "East US 2", "westus": "West US",
                "westus2": "West US 2", "westus3": "West US 3", "centralus": "Central US",
                "uksouth": "UK South", "ukwest": "UK West", "francecentral": "France Central",
                "germanywestcentral": "Germany West Central", "swedencentral": "Sweden Central",
                "switzerlandnorth": "Switzerland North", "norwayeast": "Norway East",
                "southeastasia": "Southeast Asia", "australiaeast": "Australia East",
                "japaneast": "Japan East", "canadacentral": "Canada Central"}


def display_region(name: str) -> str:
    n = norm_location(name)
    return REGION_NAMES.get(n, name)


def version_key(v: dict) -> tuple:
    return tuple(int(x) for x in v["name"].split("."))



def replication(sim, version) -> dict:
    return sim.store.internal(version["id"]).setdefault("replication", {})


def region_status(sim, version: dict, region: str, now: float | None = None) -> dict:
    now = sim.now() if now is None else now
    r = replication(sim, version).get(norm_location(region))
    if r is None:
        return {"region": display_region(region), "state": "Unknown", "details": "",
                "progress": 0}
    if r.get("failed_at") is not None and now >= r["failed_at"]:
        return {"region": display_region(region), "state": "Failed",
                "details": r.get("failure", "Replication failed."),
                "progress": int(r.get("fail_progress", 50))}
    if now >= r["start"] + r["duration"]:
        return {"region": display_region(region), "state": "Completed", "details": "",
                "progress": 100}
    progress = 0 if now <= r["start"] else int((now - r["start"]) / r["duration"] * 100)
    return {"region": display_region(region), "state": "Replicating", "details": "",
            "progress": max(0, min(99, progress))}


def replication_status(sim, version: dict) -> dict:
    summary = [region_status(sim, version, t["name"])
               for t in version["properties"]["publishingProfile"]["targetRegions"]]
    states = {s["state"] for s in summary}
    if "Failed" in states:
        agg = "Failed"
    elif states == {"Completed"}:
        agg = "Completed"
    else:
        agg = "InProgress"
    return {"aggregatedState": agg, "summary": summary}


def available_in(sim, version: dict, location: str) -> bool:
    return region_status(sim, version, location)["state"] == "Completed"


def latest_version(sim, definition: dict, location: str) -> dict | None:
    best = None
    for v in sim.store.list(VER_TYPE, definition["id"].lower() + "/"):
        pp = v["properties"]["publishingProfile"]
        if pp.get("excludeFromLatest"):
            continue
        if v["properties"]["provisioningState"] not in ("Succeeded", "Updating"):
            continue
        if not available_in(sim, v, location):
            continue
        if best is None or version_key(v) > version_key(best):
            best = v
    return best


def target_regions(pp: dict, location: str) -> list[dict]:
    regions = pp.get("targetRegions")
    replica = int(pp.get("replicaCount") or 1)
    sat = pp.get("storageAccountType") or "Standard_LRS"
    if not regions:
        regions = [{"name": location}]
    out = []
    seen = set()
    for r in regions:
        if not r.get("name"):
            raise invalid_parameter("Each target region needs a name.",
                                    "galleryImageVersion.properties.publishingProfile."
                                    "targetRegions")
        n = norm_location(r["name"])
        if n in seen:
            raise invalid_parameter(f"Target region '{r['name']}' is listed more than once.",
                                    "galleryImageVersion.properties.publishingProfile."
                                    "targetRegions")
        seen.add(n)
        count = int(r.get("regionalReplicaCount") or replica)
        if not 1 <= count <= 100:
            raise invalid_parameter("regionalReplicaCount must be between 1 and 100.",
                                    "regionalReplicaCount")
        entry = {"name": display_region(n), "regionalReplicaCount": count,
                 "storageAccountType": r.get("storageAccountType") or sat}
        if r.get("excludeFromLatest") is not None:
            entry["excludeFromLatest"] = bool(r["excludeFromLatest"])
        out.append(entry)
    if norm_location(location) not in seen:
        raise invalid_parameter(f"The source region '{display_region(location)}' must be one "
                                "of the target regions.",
                                "galleryImageVersion.properties.publishingProfile.targetRegions")
    return out


def schedule_replication(sim, version, regions, start, fault):
    rep = replication(sim, version)
    ends = []
    for i, r in enumerate(regions):
        n = norm_location(r["name"])
        if n in rep and rep[n].get("failed_at") is None:
            ends.append(rep[n]["start"] + rep[n]["duration"])
            continue
        dur = sim.duration("replication_per_region") * (1 + 0.1 * (r["regionalReplicaCount"] -
                                                                  1))
        rep[n] = {"start": start, "duration": dur, "failed_at": None}
        ends.append(start + dur)
    for n in list(rep):
        if n not in {norm_location(r["name"]) for r in regions}:
            del rep[n]
    end = max(ends) if ends else start
    if fault is not None:
        last = norm_location(regions[-1]["name"])
        r = rep[last]
        r["failed_at"] = r["start"] + r["duration"] / 2
        r["fail_progress"] = 50
        r["failure"] = fault.get("message") or ("Replication job failed: the operation to copy "
                                                "the image to the target region encountered "
                                                "an internal error.")
        end = r["failed_at"]
    return end


