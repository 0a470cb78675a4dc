# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""The Azure RBAC actions each job of the collection needs, and the pre-flight check against the
caller's effective permissions (Permissions API), so a job missing one fails before it writes.

Matching follows "Understand Azure role definitions"
(https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions): operation
strings are case-insensitive, ``*`` matches anything, NotActions subtract from the Actions of the
same role only, and the roles of a principal add up.
"""

from __future__ import annotations

import re

try:
    from azure.core.rest import HttpRequest
except ImportError:  # the module layer reports the missing library through missing_required_lib
    HttpRequest = None

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import azure_errors

PERMISSIONS_API_VERSION = "2022-04-01"

_OPERATIONS = ("Microsoft.Compute/locations/capsOperations/read",
               "Microsoft.Compute/locations/diskOperations/read",
               "Microsoft.Compute/locations/operations/read")
_NIC = ("Microsoft.Network/networkInterfaces/delete", "Microsoft.Network/networkInterfaces/join/action",
        "Microsoft.Network/networkInterfaces/read", "Microsoft.Network/networkInterfaces/write")
_SUBNET = ("Microsoft.Network/virtualNetworks/subnets/join/action",)

# job -> place -> actions. Places: "resource_group" (the job's VMs, or its host pools and their
# VMs), "gallery_resource_group" (the gallery), "subnet" (the subnet new NICs join).
JOB_ACTIONS = {
    # roles/golden_image (playbooks/build_image.yml): back up, update, clone, sysprep and capture
    # the original VM; prune versions; set the build's markers.
    "build_image": {
        "resource_group": _OPERATIONS + _NIC + (
            "Microsoft.Compute/disks/delete", "Microsoft.Compute/disks/read",
            "Microsoft.Compute/disks/write",
            "Microsoft.Compute/restorePointCollections/read",
            "Microsoft.Compute/restorePointCollections/restorePoints/delete",
            "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints/read",
            "Microsoft.Compute/restorePointCollections/restorePoints/read",
            "Microsoft.Compute/restorePointCollections/restorePoints/write",
            "Microsoft.Compute/restorePointCollections/write",
            "Microsoft.Compute/snapshots/delete", "Microsoft.Compute/snapshots/read",
            "Microsoft.Compute/snapshots/write",
            "Microsoft.Compute/virtualMachines/deallocate/action",
            "Microsoft.Compute/virtualMachines/delete",
            "Microsoft.Compute/virtualMachines/generalize/action",
            "Microsoft.Compute/virtualMachines/powerOff/action",
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/restart/action",
            "Microsoft.Compute/virtualMachines/runCommand/action",
            "Microsoft.Compute/virtualMachines/start/action",
            "Microsoft.Compute/virtualMachines/write",
            "Microsoft.DesktopVirtualization/hostpools/read"),
        "gallery_resource_group": (
            "Microsoft.Compute/galleries/images/read",
            "Microsoft.Compute/galleries/images/versions/delete",
            "Microsoft.Compute/galleries/images/versions/read",
            "Microsoft.Compute/galleries/images/versions/write",
            "Microsoft.Compute/galleries/images/write", "Microsoft.Compute/galleries/read"),
        "subnet": _SUBNET,
    },
    # roles/image_marker (playbooks/promote.yml, rollback.yml): move a marker between versions.
    "marker": {
        "resource_group": ("Microsoft.DesktopVirtualization/hostpools/read",),
        "gallery_resource_group": (
            "Microsoft.Compute/galleries/images/read",
            "Microsoft.Compute/galleries/images/versions/read",
            "Microsoft.Compute/galleries/images/versions/write",
            "Microsoft.Compute/galleries/images/write"),
    },
    # roles/session_host_rollout (playbooks/rollout.yml): deploy new session hosts from the
    # marked version, drain and retire the old ones.
    "rollout": {
        "resource_group": _OPERATIONS + _NIC + (
            "Microsoft.Compute/virtualMachines/deallocate/action",
            "Microsoft.Compute/virtualMachines/delete",
            "Microsoft.Compute/virtualMachines/extensions/read",
            "Microsoft.Compute/virtualMachines/extensions/write",
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/start/action",
            "Microsoft.Compute/virtualMachines/write",
            "Microsoft.DesktopVirtualization/hostpools/listRegistrationTokens/action",
            "Microsoft.DesktopVirtualization/hostpools/read",
            "Microsoft.DesktopVirtualization/hostpools/retrieveRegistrationToken/action",
            "Microsoft.DesktopVirtualization/hostpools/sessionhosts/delete",
            "Microsoft.DesktopVirtualization/hostpools/sessionhosts/read",
            "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/delete",
            "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/sendMessage/action",
            "Microsoft.DesktopVirtualization/hostpools/sessionhosts/write",
            "Microsoft.DesktopVirtualization/hostpools/usersessions/read",
            "Microsoft.DesktopVirtualization/hostpools/write"),
        "gallery_resource_group": ("Microsoft.Compute/galleries/images/read",
                                   "Microsoft.Compute/galleries/images/versions/read"),
        "subnet": _SUBNET,
    },
}
JOBS = tuple(sorted(JOB_ACTIONS))
PLACES = ("resource_group", "gallery_resource_group", "subnet")


def all_actions():
    """Every action of every job: the shipped custom role holds exactly these."""
    return sorted({a for places in JOB_ACTIONS.values() for acts in places.values() for a in acts},
                  key=str.lower)


def _matches(pattern, action):
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, action, re.IGNORECASE) is not None


def allowed(blocks, action):
    """The permission blocks (``{actions, notActions}`` per role) allow ``action``."""
    return any(any(_matches(p, action) for p in block.get("actions") or [])
               and not any(_matches(p, action) for p in block.get("notActions") or [])
               for block in blocks)


def missing_actions(job, blocks_by_place):
    """[(place, action)] the job needs that its places' permission blocks do not allow (places
    without blocks, such as an unknown subnet, are not checked)."""
    out = []
    for place, actions in sorted(JOB_ACTIONS[job].items()):
        if place in blocks_by_place:
            out.extend((place, a) for a in actions if not allowed(blocks_by_place[place], a))
    return out


def scopes_for(job, subscription_id, params):
    """{place: ARM scope} of the job's places that the options name. ``resource_group`` is
    required; the gallery's resource group and the subnet are checked when they are known."""
    out = {}
    for place in sorted(JOB_ACTIONS[job]):
        value = params.get(place)
        if not value:
            if place == "resource_group":
                raise ValueError("Option 'resource_group' is required for job '%s'." % job)
            continue
        if place == "subnet":
            if "/virtualnetworks/" not in value.lower() or "/subnets/" not in value.lower():
                raise ValueError("Option 'subnet_id' must be a subnet id (.../providers/Microsoft.Network/"
                                 "virtualNetworks/<vnet>/subnets/<subnet>), got %r." % value)
            out[place] = "/" + value.strip("/")
        else:
            out[place] = "/subscriptions/%s/resourceGroups/%s" % (subscription_id, value)
    return out


def send_request(client, request):
    """Send ``request`` through an SDK client's own pipeline (its credential, retries, TLS): the
    client's ``send_request``, or, on the multi-api clients of azure-mgmt-compute before 36 (the
    release azure.azcollection pins), that of the ARM pipeline client they hold."""
    send = getattr(client, "send_request", None)
    if send is not None:
        return send(request)
    pipeline = getattr(client, "_client")
    request.url = pipeline.format_url(request.url)  # the path against the client's endpoint
    return pipeline.send_request(request)


def read_permissions(client, scope):
    """The caller's permission blocks at ``scope`` (Permissions_ListForResourceGroup /
    Permissions_ListForResource, api-version 2022-04-01), every page."""
    blocks = []
    url = "%s/providers/Microsoft.Authorization/permissions?api-version=%s" % (scope, PERMISSIONS_API_VERSION)
    with azure_errors("read the caller's permissions at %s" % scope):
        for _page in range(100):
            response = send_request(client, HttpRequest("GET", url))
            response.raise_for_status()
            body = response.json()
            blocks.extend(body.get("value") or [])
            url = body.get("nextLink")
            if not url:
                break
    return blocks


def check(client, job, scopes):
    """Read the permissions at each place of the job and compare; (missing, blocks by place)."""
    cache = {}
    blocks_by_place = {}
    for place, scope in scopes.items():
        if scope.lower() not in cache:
            cache[scope.lower()] = read_permissions(client, scope)
        blocks_by_place[place] = cache[scope.lower()]
    missing = [{"action": action, "scope": scopes[place]} for place, action in missing_actions(job, blocks_by_place)]
    return missing


def failure_message(job, missing):
    by_scope = {}
    for item in missing:
        by_scope.setdefault(item["scope"], []).append(item["action"])
    parts = ["%s at scope %s" % (", ".join(actions), scope) for scope, actions in by_scope.items()]
    return ("The Azure credential lacks permissions that job '%s' needs, so nothing was changed: missing %s. "
            "Assign a role that grants them (the collection's custom role is meta/goldenimage-avd-operator-role.json, "
            "see README 'Azure RBAC')." % (job, "; ".join(parts)))
