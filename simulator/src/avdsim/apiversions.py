"""The api-versions Azure accepts per resource type, and ARM's answer to any other.

Source of the table: the api-versions of azure-rest-api-specs as generated into the Python SDKs,
read from their request builders (``_params.pop("api-version", "<version>")`` next to the URL
template of each operation): every versioned sub-package of the multi-api releases
azure-mgmt-compute 33.0.0, 33.1.0, 34.0.0, 34.1.0 and 35.0.0 (``azure/mgmt/compute/vYYYY_MM_DD/``,
one per spec folder ``specification/compute/resource-manager/Microsoft.Compute/{ComputeRP,DiskRP,
GalleryRP}/stable/<version>/``), the single-api releases 36.0.0 to 39.0.0 (2026-04-01 ComputeRP,
2026-03-02 DiskRP, 2026-03-03 GalleryRP), azure-mgmt-desktopvirtualization 1.0.0 (2022-09-09),
1.1.0 (2023-09-05) and 2.0.0 (2024-04-03), plus 2021-07-12, the version in the recorded
Desktop Virtualization traffic (../shared/azure-reference/recordings/azure-cli-extensions/
test_desktopvirtualization_hostpool.yaml). Preview versions that no SDK release carries are left
out: the simulator may be stricter than Azure, never more lenient.

Microsoft.Resources (subscriptions, resource groups): the list ARM itself prints in its
``InvalidApiVersionParameter`` answer for resource groups (ansible-collections/azure#1739,
Azure/azure-cli#28038). Microsoft.Network: the stable folders of
specification/network/resource-manager/Microsoft.Network/stable/ from 2020-11-01 (the versions
ARM lists for networkInterfaces in Azure/azure-cli#28496 and AutomatedLab/AutomatedLab#1361 up to
2021-03-01, and the later stable folders).

ARM's answers (status 400):
- a well-formed version that the type does not have: ``NoRegisteredProviderFound`` "No registered
  resource provider found for location '<location>' and API version '<v>' for type '<type>'. The
  supported api-versions are '<a, b>'. The supported locations are '<x, y>'." (Azure/azure-cli#28496,
  Azure/azure-powershell#3543, AutomatedLab/AutomatedLab#1361);
- a version of ARM's own types (Microsoft.Resources) that it does not have, and any malformed
  version (not ``YYYY-MM-DD`` with an optional ``-preview``-like suffix): ``InvalidApiVersionParameter``
  "The api-version '<v>' is invalid. The supported versions are '<a,b>'." (Azure/azure-cli#28038,
  ansible-collections/azure#1739, Azure/azure-sdk-for-python#975); ARM parses the version before it
  looks for a provider, so a malformed one never reaches the provider.
"""

from __future__ import annotations

import re

from .errors import ArmError
from .regions import LOCATIONS as REGIONS

_CRP = ("2015-06-15 2016-03-30 2016-04-30-preview 2017-03-30 2017-12-01 2018-04-01 2018-06-01 "
        "2018-10-01 2019-03-01 2019-07-01 2019-12-01 2020-06-01 2020-12-01 2021-03-01 2021-04-01 "
        "2021-07-01 2021-11-01 2022-03-01 2022-08-01 2022-11-01 2023-03-01 2023-07-01 2023-09-01 "
        "2024-03-01 2024-07-01 2024-11-01 2025-04-01 2025-11-01 2026-03-01 2026-04-01").split()
_DISK_RP = ("2016-04-30-preview 2017-03-30 2018-04-01 2018-06-01 2018-09-30 2019-03-01 2019-07-01 "
            "2019-11-01 2020-05-01 2020-06-30 2020-09-30 2020-12-01 2021-04-01 2021-08-01 "
            "2021-12-01 2022-03-02 2022-07-02 2023-01-02 2023-04-02 2023-10-02 2024-03-02 "
            "2025-01-02 2026-03-02").split()
_GALLERY_RP = ("2018-06-01 2019-03-01 2019-07-01 2019-12-01 2020-09-30 2021-07-01 2021-10-01 "
               "2022-01-03 2022-03-03 2022-08-03 2023-07-03 2024-03-03 2025-03-03 2025-12-03 "
               "2026-03-03").split()
_DESKTOP = "2021-07-12 2022-09-09 2023-09-05 2024-04-03".split()
_RESOURCES = ("2014-04 2014-02-26 2013-03-01 2014-01-01 2014-04-01 2014-04-01-preview 2015-01-01 "
              "2015-11-01 2016-02-01 2016-06-01 2016-07-01 2016-09-01 2017-03-01 2017-05-01 "
              "2017-05-10 2017-06-01 2017-08-01 2017-12-01 2018-01-01 2018-02-01 2018-05-01 "
              "2018-06-01 2018-07-01 2018-08-01 2018-09-01 2018-11-01 2019-03-01 2019-05-01 "
              "2019-05-10 2019-06-01 2019-07-01 2019-08-01 2019-09-01 2019-10-01 2019-11-01 "
              "2020-01-01 2020-05-01 2020-06-01 2020-07-01 2020-08-01 2020-09-01 2020-10-01 "
              "2021-01-01 2021-04-01 2022-01-01 2022-03-01-preview 2022-05-01 2022-06-01 "
              "2022-09-01 2022-11-01-preview 2022-12-01 2023-03-01-preview 2023-07-01 "
              "2023-07-01-preview 2024-03-01 2024-06-01-preview 2024-07-01 2024-08-01 2024-11-01 "
              "2025-04-01").split()
_NETWORK = ("2020-11-01 2021-01-01 2021-02-01 2021-03-01 2021-05-01 2021-08-01 2022-01-01 "
            "2022-05-01 2022-07-01 2022-09-01 2022-11-01 2023-02-01 2023-04-01 2023-05-01 "
            "2023-06-01 2023-09-01 2023-11-01 2024-01-01 2024-03-01 2024-05-01 2024-07-01 "
            "2024-10-01 2025-01-01 2025-03-01 2025-05-01 2025-07-01 2025-09-01 2026-01-01 "
            "2026-03-01").split()


def _since(versions: list, first: str) -> tuple:
    return tuple(v for v in versions if v[:10] >= first)


# resource type (namespace/type[/child...]) -> the api-versions Azure accepts for it.
SUPPORTED = {
    "Microsoft.Resources/subscriptions": tuple(_RESOURCES),
    "Microsoft.Resources/resourceGroups": tuple(_RESOURCES),
    "Microsoft.Resources/operationresults": tuple(_RESOURCES),
    "Microsoft.Compute/virtualMachines": tuple(_CRP),
    "Microsoft.Compute/virtualMachines/extensions": tuple(_CRP),
    "Microsoft.Compute/virtualMachines/runCommands": _since(_CRP, "2020-06-01"),
    "Microsoft.Compute/images": _since(_CRP, "2016-04-30"),
    "Microsoft.Compute/restorePointCollections": _since(_CRP, "2021-03-01"),
    "Microsoft.Compute/restorePointCollections/restorePoints": _since(_CRP, "2021-03-01"),
    "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints":
        _since(_DISK_RP, "2020-09-30"),
    "Microsoft.Compute/disks": tuple(_DISK_RP),
    "Microsoft.Compute/snapshots": tuple(_DISK_RP),
    "Microsoft.Compute/galleries": tuple(_GALLERY_RP),
    "Microsoft.Compute/galleries/images": tuple(_GALLERY_RP),
    "Microsoft.Compute/galleries/images/versions": tuple(_GALLERY_RP),
    # operation status of any Compute operation: polled with the version of the operation
    "Microsoft.Compute/locations/operations": tuple(sorted(set(_CRP + _DISK_RP + _GALLERY_RP))),
    "Microsoft.Compute/locations/capsOperations": tuple(_GALLERY_RP),
    "Microsoft.Compute/locations/DiskOperations": tuple(_DISK_RP),
    "Microsoft.DesktopVirtualization/hostPools": tuple(_DESKTOP),
    "Microsoft.DesktopVirtualization/hostPools/sessionHosts": tuple(_DESKTOP),
    "Microsoft.DesktopVirtualization/hostPools/userSessions": tuple(_DESKTOP),
    "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions": tuple(_DESKTOP),
    "Microsoft.Network/virtualNetworks": tuple(_NETWORK),
    "Microsoft.Network/virtualNetworks/subnets": tuple(_NETWORK),
    "Microsoft.Network/networkInterfaces": tuple(_NETWORK),
    "Microsoft.Network/networkSecurityGroups": tuple(_NETWORK),
    "Microsoft.Network/networkSecurityGroups/securityRules": tuple(_NETWORK),
    "Microsoft.Network/locations": tuple(_NETWORK),
    "Microsoft.Network/locations/operations": tuple(_NETWORK),
    "Microsoft.Network/locations/operationResults": tuple(_NETWORK),
    "Microsoft.Compute/locations": tuple(_CRP),
    "Microsoft.Compute/locations/vmSizes": tuple(_CRP),
    "Microsoft.DesktopVirtualization/applicationGroups": tuple(_DESKTOP),
    "Microsoft.DesktopVirtualization/workspaces": tuple(_DESKTOP),
    # ARM's own surface (avdsim.arm_basics): providers, generic resource lists, tenants, locations
    "Microsoft.Resources/providers": tuple(_RESOURCES),
    "Microsoft.Resources/resources": tuple(_RESOURCES),
    "Microsoft.Resources/tenants": tuple(_RESOURCES),
    "Microsoft.Resources/locations": tuple(_RESOURCES),
}
_BY_LOWER = {k.lower(): k for k in SUPPORTED}

# The "supported locations" part of ARM's message: the regions the simulator knows.
LOCATIONS = tuple(REGIONS)

_WELL_FORMED = re.compile(r"^\d{4}-\d{2}-\d{2}(-[A-Za-z0-9]+)?$|^2014-04$")


def resource_type(template: str, params: dict | None = None) -> str | None:
    """The ARM resource type a route template addresses, from the template alone: the
    namespace after the last ``providers`` and its type segments; a literal after a resource
    name is a child type when the table has it (``virtualMachines/runCommands``), otherwise an
    action on the resource (``virtualMachines/{vm}/start`` -> ``virtualMachines``)."""
    segs = template.strip("/").split("/")
    params = {k.lower(): v for k, v in (params or {}).items()}
    segs = [params.get(s[1:-1].lower(), s) if s in ("{namespace}", "{operationKind}") else s
            for s in segs]
    if "providers" not in segs:
        literals = [s for s in segs if not s.startswith("{")]
        kind = literals[-1] if literals else "subscriptions"
        return _BY_LOWER.get(("Microsoft.Resources/" + kind).lower())
    i = len(segs) - 1 - segs[::-1].index("providers")
    if i + 2 >= len(segs) or segs[i + 2] in ("register", "unregister"):
        return "Microsoft.Resources/providers"  # the provider list, one provider, (un)register
    rtype = segs[i + 1]
    for seg in segs[i + 2:]:
        if seg.startswith("{"):
            continue
        candidate = f"{rtype}/{seg}"
        if candidate.lower() in _BY_LOWER:
            rtype = _BY_LOWER[candidate.lower()]
        elif rtype.count("/") == 0:
            rtype = candidate  # the namespace's first type
    return _BY_LOWER.get(rtype.lower())


def check(rtype: str | None, version: str, location: str) -> None:
    """Raise ARM's 400 when ``version`` is malformed or not one of ``rtype``'s."""
    supported = SUPPORTED.get(rtype) if rtype else None
    if not _WELL_FORMED.match(version) or (
            supported is not None and version not in supported
            and rtype.startswith("Microsoft.Resources/")):
        shown = supported or SUPPORTED["Microsoft.Resources/resourceGroups"]
        raise ArmError(400, "InvalidApiVersionParameter",
                       f"The api-version '{version}' is invalid. The supported versions are "
                       f"'{','.join(sorted(shown, reverse=True))}'.")
    if supported is None or version in supported:
        return
    namespace, _, short = rtype.partition("/")
    raise ArmError(400, "NoRegisteredProviderFound",
                   f"No registered resource provider found for location '{location}' and API "
                   f"version '{version}' for type '{short}'. The supported api-versions are "
                   f"'{', '.join(supported)}'. The supported locations are "
                   f"'{', '.join(LOCATIONS)}'.")
