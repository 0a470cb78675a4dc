"""Shared helpers of the Desktop Virtualization simulator tests (real SDK clients only)."""

import datetime as dt
import time

RG = "rg-avd-demo"
POOL = "hp-demo-pooled"
GALLERY = "gal_avd_demo"
IMAGE = "win11-avd"
DEMO_HOSTS = ("avd-demo-0", "avd-demo-1", "avd-demo-2")
DOMAIN = "contoso.com"


def subnet_id(sub):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-avd"
            "/subnets/snet-hosts" % (sub, RG))


def version_id(sub, version="1.0.0"):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s"
            "/versions/%s" % (sub, RG, GALLERY, IMAGE, version))


def sim_now(sim):
    return dt.datetime.fromisoformat(sim.clock()["sim_now"].replace("Z", "+00:00"))


def iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def vm_body(sub, name):
    return {
        "location": "westeurope",
        "tags": {"goldenimage.rollout": "test"},
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {
                "imageReference": {"id": version_id(sub)},
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete",
                           "managedDisk": {"storageAccountType": "Premium_LRS"}},
            },
            "osProfile": {"computerName": name, "adminUsername": "avdadmin",
                          "adminPassword": "Sim-Adm1n-Passw0rd!"},
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [{
                    "name": name + "-nic",
                    "properties": {"primary": True, "deleteOption": "Delete",
                                   "ipConfigurations": [{"name": "ipconfig1", "properties": {
                                       "subnet": {"id": subnet_id(sub)}}}]},
                }],
            },
        },
    }


def ad_join_extension():
    return {"location": "westeurope", "properties": {
        "publisher": "Microsoft.Compute", "type": "JsonADDomainExtension", "typeHandlerVersion": "1.3",
        "autoUpgradeMinorVersion": True,
        "settings": {"Name": DOMAIN, "User": "joiner@" + DOMAIN, "Restart": "true", "Options": "3"},
        "protectedSettings": {"Password": "J0in-Secret-Passw0rd"}}}


def dsc_extension(host_pool, token, in_settings=False):
    settings = {
        "modulesUrl": "https://wvdportalstorageblob.blob.core.windows.net/galleryartifacts/"
                      "Configuration_1.0.02790.438.zip",
        "configurationFunction": "Configuration.ps1\\AddSessionHost",
        "properties": {"hostPoolName": host_pool, "aadJoin": False},
    }
    body = {"location": "westeurope", "properties": {
        "publisher": "Microsoft.Powershell", "type": "DSC", "typeHandlerVersion": "2.73",
        "autoUpgradeMinorVersion": True, "settings": settings,
        "protectedSettings": {"properties": {"registrationInfoToken": token}}}}
    if in_settings:
        settings["properties"]["registrationInfoToken"] = token
        body["properties"]["protectedSettings"] = {}
    return body


def mint_token(sim, desktop, host_pool=POOL, hours=4):
    expires = sim_now(sim) + dt.timedelta(hours=hours)
    desktop.host_pools.update(RG, host_pool, {"properties": {"registrationInfo": {
        "expirationTime": iso(expires), "registrationTokenOperation": "Update"}}})
    return desktop.host_pools.retrieve_registration_token(RG, host_pool).token


def sessions_by_host(desktop, host_pool=POOL):
    counts = {}
    for session in desktop.user_sessions.list_by_host_pool(RG, host_pool):
        host = session.name.split("/")[1]
        counts[host] = counts.get(host, 0) + 1
    return counts


def wait_until(predicate, timeout=30.0, interval=0.05, describe="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, describe))
        time.sleep(interval)
