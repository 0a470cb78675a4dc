"""Response bodies checked against Microsoft's OpenAPI definitions (a missing
../shared/azure-reference fails them, see spec_validation)."""

from compute_helpers import GALLERY, IMAGE, LOCATION, RG, raw
from spec_validation import validate


def _get(sim, compute, path, api):
    r = raw(compute, "GET", f"{sim.arm_endpoint}/subscriptions/{sim.subscription_id}/"
            f"resourceGroups/{RG}/providers/Microsoft.Compute/{path}"
            f"{'&' if '?' in path else '?'}api-version={api}")
    assert r.status_code == 200, r.text()
    return r.json()


def test_list_and_child_shapes(demo_sim, compute):
    validate("compute", "VirtualMachineInstanceView",
             _get(demo_sim, compute, "virtualMachines/avd-demo-0/instanceView", "2026-04-01"))
    validate("compute", "VirtualMachineExtensionsListResult",
             _get(demo_sim, compute, "virtualMachines/avd-demo-0/extensions", "2026-04-01"))
    validate("compute", "VirtualMachineListResult",
             _get(demo_sim, compute, "virtualMachines", "2026-04-01"))
    validate("disk", "DiskList", _get(demo_sim, compute, "disks", "2026-03-02"))
    validate("gallery", "GalleryList", _get(demo_sim, compute, "galleries", "2026-03-03"))
    validate("gallery", "GalleryImageList",
             _get(demo_sim, compute, f"galleries/{GALLERY}/images", "2026-03-03"))
    validate("gallery", "GalleryImageVersionList",
             _get(demo_sim, compute, f"galleries/{GALLERY}/images/{IMAGE}/versions",
                  "2026-03-03"))


def test_restore_point_collection_and_disk_restore_point_shapes(demo_sim, compute):
    vm = compute.virtual_machines.get(RG, "avd-demo-0")
    compute.restore_point_collections.create_or_update(RG, "rpc-shape", {
        "location": LOCATION, "properties": {"source": {"id": vm.id}}})
    rp = compute.restore_points.begin_create(RG, "rpc-shape", "rp1", {}).result()
    validate("compute", "RestorePointCollection",
             _get(demo_sim, compute, "restorePointCollections/rpc-shape?$expand=restorePoints",
                  "2026-04-01"))
    drp = rp.source_metadata.storage_profile.os_disk.disk_restore_point.id
    name = drp.rsplit("/", 1)[-1]
    validate("disk", "DiskRestorePoint",
             _get(demo_sim, compute, f"restorePointCollections/rpc-shape/restorePoints/rp1/"
                  f"diskRestorePoints/{name}", "2026-03-02"))
    validate("disk", "DiskRestorePointList",
             _get(demo_sim, compute, "restorePointCollections/rpc-shape/restorePoints/rp1/"
                  "diskRestorePoints", "2026-03-02"))
