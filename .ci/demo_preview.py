"""Preview for `make demo` until the lifecycle demo lands (issue 8).

Starts the simulator with the demo scenario, lists its VMs and host pools through the collection's
own authentication layer and the real Azure SDK clients (the simulator's metadata URL, token
endpoint and private CA, as every module uses them), and stops the simulator.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "build" / "collections"))

# pylint: disable=wrong-import-position
from avdsim.testing import SimServer  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.desktopvirtualization import DesktopVirtualizationMgmtClient  # noqa: E402

from ansible_collections.goldenimage.avd.plugins.module_utils._auth import (  # noqa: E402
    build_credential,
    resolve_settings,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._module import to_wire  # noqa: E402

RESOURCE_GROUP = "rg-avd-demo"


def main():
    with SimServer(scenario="demo") as sim:
        print("== avdsim started at %s (time scale %s)" % (sim.arm_endpoint, sim.info.get("time_scale")))
        os.environ.update(sim.env)
        settings = resolve_settings({})
        print("== signed in as %s from %s, cloud %s" % (settings.client_id, settings.source, settings.cloud.name))
        credential = build_credential(settings)
        kwargs = dict(base_url=settings.cloud.resource_manager, credential_scopes=settings.cloud.credential_scopes)
        compute = ComputeManagementClient(credential, settings.subscription_id, **kwargs)
        desktop = DesktopVirtualizationMgmtClient(credential, settings.subscription_id, **kwargs)
        print("== VMs in %s:" % RESOURCE_GROUP)
        for vm in sorted((to_wire(vm) for vm in compute.virtual_machines.list(RESOURCE_GROUP)), key=lambda v: v["name"]):
            role = (vm.get("tags") or {}).get("goldenimage.role", "-")
            size = vm["properties"]["hardwareProfile"]["vmSize"]
            print("   %-16s %-18s role=%s" % (vm["name"], size, role))
        print("== host pools in %s:" % RESOURCE_GROUP)
        for pool in desktop.host_pools.list_by_resource_group(RESOURCE_GROUP):
            wire = to_wire(pool)
            hosts = [to_wire(host)["name"].split("/")[-1]
                     for host in desktop.session_hosts.list(RESOURCE_GROUP, wire["name"])]
            print("   %-16s %s, %s, %d session hosts: %s" % (
                wire["name"], wire["properties"]["hostPoolType"], wire["properties"]["loadBalancerType"],
                len(hosts), ", ".join(sorted(hosts))))
    print("== avdsim stopped. The full lifecycle demo arrives with issue 8.")


if __name__ == "__main__":
    main()
