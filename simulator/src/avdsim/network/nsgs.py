"""Network security groups: PUT (long-running), GET, list, DELETE (long-running).

Shape of networkSecurityGroup.json 2024-05-01 (example NetworkSecurityGroupCreate.json):
``securityRules`` as sent, plus the six ``defaultSecurityRules`` every NSG carries.
An NSG associated with a NIC or a subnet cannot be deleted (400
InUseNetworkSecurityGroupCannotBeDeleted; body as in pulumi/pulumi-azure-native#3051 and
DataBiosphere/terra-workspace-manager#502). Rule priorities lie in 100-4096
(https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview
#security-rules) and no two rules of one direction share one."""

from __future__ import annotations

import uuid

from ..arm import RG, get_in_rg, list_routes, set_tags
from ..errors import ArmError
from ..routing import route
from . import common as c

NSG = RG + "/providers/Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}"

# name, description, sourceAddressPrefix, destinationAddressPrefix, access, priority, direction
_DEFAULTS = (
    ("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "VirtualNetwork",
     "VirtualNetwork", "Allow", 65000, "Inbound"),
    ("AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer",
     "AzureLoadBalancer", "*", "Allow", 65001, "Inbound"),
    ("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
    ("AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET",
     "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Outbound"),
    ("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*",
     "Internet", "Allow", 65001, "Outbound"),
    ("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
)
_PROTOCOLS = ("Tcp", "Udp", "Icmp", "Esp", "*", "Ah")


def default_rules(nsg_id: str) -> list[dict]:
    return [{"name": n, "id": f"{nsg_id}/defaultSecurityRules/{n}",
             "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
             "properties": {"provisioningState": "Succeeded", "description": d,
                            "protocol": "*", "sourcePortRange": "*",
                            "destinationPortRange": "*", "sourceAddressPrefix": src,
                            "destinationAddressPrefix": dst, "access": acc,
                            "priority": prio, "direction": direction}}
            for n, d, src, dst, acc, prio, direction in _DEFAULTS]


def _one_of(rule_name: str, prop: str, value, allowed) -> None:
    if value not in allowed:
        raise ArmError(400, "SecurityRuleParameterContainsUnsupportedValue",
                       f"Security rule parameter {prop} for rule with Id {rule_name} cannot "
                       f"specify '{value}'; allowed: {', '.join(map(str, allowed))}.",
                       target=prop)


def _rule(nsg_id: str, rule: dict) -> dict:
    name = (rule or {}).get("name")
    if not name:
        raise c.bad_request("Every security rule needs a name.", "properties.securityRules")
    c.check_name(name)
    rid = f"{nsg_id}/securityRules/{name}"
    props = c.props_of(rule)
    _one_of(rid, "protocol", props.get("protocol"), _PROTOCOLS)
    _one_of(rid, "access", props.get("access"), ("Allow", "Deny"))
    _one_of(rid, "direction", props.get("direction"), ("Inbound", "Outbound"))
    prio = props.get("priority")
    if not isinstance(prio, int) or isinstance(prio, bool) or not 100 <= prio <= 4096:
        raise ArmError(400, "SecurityRuleInvalidPriority",
                       f"Security rule has invalid Priority. Value provided: {prio} Allowed "
                       "range 100-4096.", target=rid)
    out = {k: v for k, v in props.items() if k != "provisioningState"}
    out.setdefault("sourcePortRange", "*")
    out.setdefault("destinationPortRange", "*")
    out.setdefault("sourceAddressPrefix", "*")
    out.setdefault("destinationAddressPrefix", "*")
    out["provisioningState"] = "Succeeded"
    return {"name": name, "id": rid, "type": "Microsoft.Network/networkSecurityGroups/"
            "securityRules", "etag": c.etag(), "properties": out}


def _check_conflicts(rules: list[dict]) -> None:
    seen = {}
    for r in rules:
        key = (r["properties"]["priority"], r["properties"]["direction"])
        if key in seen:
            raise ArmError(400, "SecurityRuleConflict",
                           f"Security rule {r['name']} conflicts with rule {seen[key]}. Rules "
                           "cannot have the same Priority and Direction. To learn more, see "
                           "aka.ms/nsgrules.")
        seen[key] = r["name"]


@route("PUT", NSG)
def put_nsg(sim, req):
    name = req.param("networkSecurityGroupName")
    c.check_name(name)
    nid, old = c.existing_in_rg(sim, req, "networkSecurityGroups", "networkSecurityGroupName")
    body = req.json()
    location = c.location_of(req, body, old)
    props = c.props_of(body)
    rules = [_rule(nid, r) for r in props.get("securityRules") or []]
    _check_conflicts(rules)
    nsg = {"id": nid, "name": name, "type": c.NSG_TYPE, "location": location, "etag": c.etag(),
           "properties": {"flushConnection": bool(props.get("flushConnection", False)),
                          "securityRules": rules, "defaultSecurityRules": default_rules(nid),
                          "resourceGuid": (old or {}).get("properties", {}).get(
                              "resourceGuid") or str(uuid.uuid4()),
                          "provisioningState": "Succeeded"}}
    set_tags(nsg, body, replace=True)
    sim.store.put(nid, nsg)
    return c.start_put(sim, req, nsg, location, old is None, lambda: c.nsg_view(sim, nsg))


@route("GET", NSG)
def get_nsg(sim, req):
    nsg = get_in_rg(sim, req, c.rid(req, "networkSecurityGroups", "networkSecurityGroupName"),
                    c.NSG_TYPE, "networkSecurityGroupName")
    return c.nsg_view(sim, nsg)


list_routes("Microsoft.Network/networkSecurityGroups", c.NSG_TYPE, view=c.nsg_view)


@route("DELETE", NSG)
def delete_nsg(sim, req):
    nid, nsg = c.existing_in_rg(sim, req, "networkSecurityGroups", "networkSecurityGroupName")
    if nsg is None:
        return 204, None
    nics, subnets = c.nsg_users(sim, nid)
    if nics or subnets:
        raise ArmError(400, "InUseNetworkSecurityGroupCannotBeDeleted",
                       f"Network security group {nsg['id']} cannot be deleted because it is in "
                       f"use by the following resources: {', '.join(nics + subnets)}. In order "
                       "to delete the Network security group, remove the association with the "
                       "resource(s). To learn how to do this, see aka.ms/deletensg.")

    def remove():
        if sim.store.get(nid) is not None:
            sim.store.delete(nid)
            sim.hooks.emit("resource.deleted", resource_id=nid, resource=nsg)

    return c.start_delete(sim, req, nsg, nsg["location"], remove)
