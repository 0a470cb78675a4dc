"""sysprep refuses a VM tagged as a clone whose OS disk vm_clone did not make for the same source."""

from __future__ import annotations

import pathlib
import sys

import pytest

try:
    from ansible_collections.goldenimage.avd.plugins.module_utils import _sysprep as sysprep
except ImportError:  # running from the repository before `make collection`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "build" / "collections"))
    from ansible_collections.goldenimage.avd.plugins.module_utils import _sysprep as sysprep

SUB = "00000000-0000-0000-0000-000000000001"
VM_ID = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-golden" % SUB
OTHER_ID = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-other" % SUB
VM = {"name": "vm-golden-clone", "tags": {"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID}}


@pytest.mark.parametrize("disk_tags, refused_with", [
    ({"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID}, None),
    ({"goldenimage.role": "clone", "goldenimage.clone-of": VM_ID.upper()}, None),  # ARM ids ignore case
    ({}, "not made by goldenimage.avd.vm_clone"),
    ({"goldenimage.role": "original"}, "copied tags"),
    ({"goldenimage.role": "clone"}, "not made by"),
    ({"goldenimage.role": "clone", "goldenimage.clone-of": OTHER_ID}, "not made by"),
    (None, "could not be found"),
])
def test_os_disk_refusal_reason(disk_tags, refused_with):
    disk = None if disk_tags is None else {"name": "vm-golden-clone-osdisk", "tags": disk_tags}
    reason = sysprep.os_disk_refusal_reason(VM, disk)
    if refused_with is None:
        assert reason is None
    else:
        assert refused_with in reason and "vm-golden-clone" in reason
