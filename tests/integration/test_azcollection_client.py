"""azure.azcollection 3.12.0 as a third-party client of the simulator, beside goldenimage.avd.

Runs in ``.venv-azcollection`` (``make integration``): azure.azcollection 3.12.0, unpacked from the
``ansible`` 12.3.0 package into ``build/collections``, with its own pinned requirements. One playbook
runs four of its info modules (each imports every SDK azure.azcollection
supports: seconds per module) and this collection's ``image_version_info`` in one play, with the
credential and TLS CA every test uses (``sim.env``: ``AZURE_*``, ``AZURE_CLOUD_ENVIRONMENT`` = the
simulator's metadata URL, ``REQUESTS_CA_BUNDLE``).

What works and what fails (also in simulator/README.md):

- goldenimage.avd in the same play, virtualenv and environment works.
- every azure.azcollection 3.12.0 module fails before sending a request: its cloud lookup for a
  metadata URL calls ``azure.cli.core.cloud.get_cloud_from_metadata_endpoint``, which azure-cli-core
  (2.75.0, its pin) does not have (the function was msrestazure's), and its error handler then reads
  ``exception.message``, which Python 3 exceptions do not have: the module dies with
  "'AttributeError' object has no attribute 'message'". A cloud by name can only be one of the
  built-in public clouds, so azure.azcollection 3.12.0 cannot reach any other ARM endpoint. This is
  the client's own bug and is not worked around in the simulator; the simulator sees no request.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version

from helpers import COLLECTIONS, run_playbook

AZCOLLECTION = COLLECTIONS / "ansible_collections" / "azure" / "azcollection"
RG = "rg-avd-demo"
GALLERY = {"resource_group": RG, "gallery_name": "gal_avd_demo"}
AZCOLLECTION_INFO = {
    "azure_rm_resourcegroup_info": {"name": RG},
    "azure_rm_virtualmachine_info": {"resource_group": RG, "name": "vm-golden-w11"},
    "azure_rm_galleryimageversion_info": dict(GALLERY, gallery_image_name="win11-avd", name="1.0.0"),
    "azure_rm_virtualnetwork_info": {"resource_group": RG, "name": "vnet-avd"},
}
CLOUD_LOOKUP_BUG = "'AttributeError' object has no attribute 'message'"


def _pins():
    lines = (AZCOLLECTION / "requirements.txt").read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line)


def test_this_virtualenv_has_azure_azcollection_3_12_0_and_its_pins():
    manifest = json.loads((AZCOLLECTION / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["version"] == "3.12.0"
    pins = _pins()
    for dist in ("azure-core", "azure-identity", "azure-mgmt-compute", "azure-mgmt-core"):
        assert version(dist) == pins[dist], "%s: %s runs %s, azure.azcollection pins %s (run in %s)" % (
            dist, sys.executable, version(dist), pins[dist], ".venv-azcollection")


def test_azcollection_info_modules_beside_goldenimage(sim):
    before = sim.metrics()
    tasks = [{"name": name, "azure.azcollection.%s" % name: args, "ignore_errors": True}
             for name, args in AZCOLLECTION_INFO.items()]
    tasks.append({"name": "image_version_info", "goldenimage.avd.image_version_info": {
        "resource_group": RG, "gallery": GALLERY["gallery_name"], "image": "win11-avd"}})
    run = run_playbook(sim, [{"name": "both collections", "hosts": "localhost", "gather_facts": False,
                              "tasks": tasks}])
    assert run.rc == 0, run.stdout[-3000:]
    for name in AZCOLLECTION_INFO:
        result = run.task(name)
        assert result["failed"] is True and CLOUD_LOOKUP_BUG in result["msg"], (name, result)
    ours = run.task("image_version_info")
    assert not ours.get("failed"), ours.get("msg")
    assert [entry["name"] for entry in ours["versions"]] == ["1.0.0"]
    after = sim.metrics()
    # only goldenimage.avd reached the simulator: one token, and no request for what the
    # azure.azcollection modules would have read (VMs, virtual networks, disks)
    assert after["tokens_issued"] - before["tokens_issued"] == 1
    new_operations = {operation for operation, count in after["requests"]["by_operation"].items()
                      if count != before["requests"]["by_operation"].get(operation, 0)}
    unexpected = [op for op in new_operations
                  if any(word in op.lower() for word in ("virtualmachines", "virtualnetworks", "disks"))]
    assert new_operations and not unexpected, new_operations
