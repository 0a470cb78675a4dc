"""Role definitions: Azure's built-in roles the simulator knows, and how a permission block
allows an action.

Sources:
- Built-in roles (ids, actions, notActions): https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles
  (General: Owner, Contributor, Reader, User Access Administrator; Compute: Virtual Machine
  Contributor; Desktop Virtualization: Desktop Virtualization Host Pool Contributor).
- Matching: https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions
  ("Understand Azure role definitions"): operation strings are case-insensitive, ``*`` is a
  wildcard that "extends to everything that matches the string you provide" (``*``,
  ``Microsoft.Compute/*``, ``*/read``, ``Microsoft.Authorization/*/Delete``); NotActions are
  subtracted from the Actions of the SAME role (not a deny): another role that grants the action
  still grants it. Effective permissions are the union over the role assignments at the scope
  and above it ("Azure RBAC is an additive model").
"""

from __future__ import annotations

import re
from functools import lru_cache

ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"

_READ_SUPPORT = ["Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*",
                 "Microsoft.Resources/deployments/*",
                 "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"]

# name -> (GUID, description, actions, notActions); all with assignableScopes ["/"].
BUILTIN = {
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
              "Grants full access to manage all resources, including the ability to assign roles "
              "in Azure RBAC.", ["*"], []),
    "Contributor": ("b24988ac-6180-42a0-ab88-20f7382dd24c",
                    "Grants full access to manage all resources, but does not allow you to assign "
                    "roles in Azure RBAC, manage assignments in Azure Blueprints, or share image "
                    "galleries.", ["*"],
                    ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                     "Microsoft.Authorization/elevateAccess/Action",
                     "Microsoft.Blueprint/blueprintAssignments/write",
                     "Microsoft.Blueprint/blueprintAssignments/delete",
                     "Microsoft.Compute/galleries/share/action",
                     "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
                     "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                     "Microsoft.Subscription/cancel/action",
                     "Microsoft.Subscription/enable/action"]),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7",
               "View all resources, but does not allow you to make any changes.", ["*/read"], []),
    "User Access Administrator": (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "Lets you manage user access to Azure resources.",
        ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], []),
    "Virtual Machine Contributor": (
        "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
        "Create and manage virtual machines, manage disks, install and run software, reset "
        "password of the root user of the virtual machine using VM extensions, and manage local "
        "user accounts using VM extensions. This role does not grant you management access to "
        "the virtual network or storage account the virtual machines are connected to.",
        ["Microsoft.Authorization/*/read", "Microsoft.Compute/availabilitySets/*",
         "Microsoft.Compute/locations/*", "Microsoft.Compute/virtualMachines/*",
         "Microsoft.Compute/virtualMachineScaleSets/*", "Microsoft.Compute/cloudServices/*",
         "Microsoft.Compute/disks/write", "Microsoft.Compute/disks/read",
         "Microsoft.Compute/disks/delete", "Microsoft.DevTestLab/schedules/*",
         "Microsoft.Insights/alertRules/*",
         "Microsoft.Network/applicationGateways/backendAddressPools/join/action",
         "Microsoft.Network/loadBalancers/backendAddressPools/join/action",
         "Microsoft.Network/loadBalancers/inboundNatPools/join/action",
         "Microsoft.Network/loadBalancers/inboundNatRules/join/action",
         "Microsoft.Network/loadBalancers/probes/join/action",
         "Microsoft.Network/loadBalancers/read", "Microsoft.Network/locations/*",
         "Microsoft.Network/networkInterfaces/*",
         "Microsoft.Network/networkSecurityGroups/join/action",
         "Microsoft.Network/networkSecurityGroups/read",
         "Microsoft.Network/publicIPAddresses/join/action",
         "Microsoft.Network/publicIPAddresses/read", "Microsoft.Network/virtualNetworks/read",
         "Microsoft.Network/virtualNetworks/subnets/join/action",
         "Microsoft.RecoveryServices/locations/*",
         "Microsoft.RecoveryServices/Vaults/backupFabrics/backupProtectionIntent/write",
         "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/*/read",
         "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/read",
         "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write",
         "Microsoft.RecoveryServices/Vaults/backupPolicies/read",
         "Microsoft.RecoveryServices/Vaults/backupPolicies/write",
         "Microsoft.RecoveryServices/Vaults/read", "Microsoft.RecoveryServices/Vaults/usages/read",
         "Microsoft.RecoveryServices/Vaults/write",
         "Microsoft.ResourceHealth/availabilityStatuses/read",
         "Microsoft.Resources/deployments/*",
         "Microsoft.Resources/subscriptions/resourceGroups/read",
         "Microsoft.SerialConsole/serialPorts/connect/action", "Microsoft.SqlVirtualMachine/*",
         "Microsoft.Storage/storageAccounts/listKeys/action",
         "Microsoft.Storage/storageAccounts/read", "Microsoft.Support/*"], []),
    "Desktop Virtualization Host Pool Contributor": (
        "e307426c-f9b6-4e81-87de-d99efb3c32bc",
        "Contributor of the Desktop Virtualization Host Pool.",
        ["Microsoft.DesktopVirtualization/hostpools/*"] + _READ_SUPPORT, []),
}


def builtin_definitions() -> dict:
    """{guid: role definition body (without the subscription-relative id)}."""
    out = {}
    for name, (guid, description, actions, not_actions) in BUILTIN.items():
        out[guid] = {
            "id": f"/providers/Microsoft.Authorization/roleDefinitions/{guid}",
            "type": ROLE_DEFINITION_TYPE, "name": guid,
            "properties": {"roleName": name, "type": "BuiltInRole", "description": description,
                           "assignableScopes": ["/"],
                           "permissions": [{"actions": list(actions),
                                            "notActions": list(not_actions),
                                            "dataActions": [], "notDataActions": []}],
                           "createdOn": "2015-02-02T21:55:09.8806423Z",
                           "updatedOn": "2024-01-01T00:00:00.0000000Z",
                           "createdBy": None, "updatedBy": None}}
    return out


@lru_cache(maxsize=4096)
def _pattern(operation: str) -> re.Pattern:
    return re.compile("^" + ".*".join(re.escape(p) for p in operation.split("*")) + "$",
                      re.IGNORECASE)


def matches(pattern: str, action: str) -> bool:
    """An Actions/NotActions entry covers ``action`` (case-insensitive, ``*`` = anything)."""
    return bool(_pattern(pattern).match(action))


def block_allows(permission: dict, action: str) -> bool:
    """One permission block (actions minus notActions) allows the control-plane action."""
    return (any(matches(p, action) for p in permission.get("actions") or [])
            and not any(matches(p, action) for p in permission.get("notActions") or []))


def allows(permissions: list, action: str) -> bool:
    """The union of permission blocks allows ``action`` (the additive model)."""
    return any(block_allows(p, action) for p in permissions)


def scope_covers(assignment_scope: str, scope: str) -> bool:
    """An assignment at ``assignment_scope`` applies at ``scope`` (the same scope or below it;
    "/" is the root above every subscription)."""
    a, s = assignment_scope.rstrip("/").lower(), scope.rstrip("/").lower()
    return a == "" or s == a or s.startswith(a + "/")
