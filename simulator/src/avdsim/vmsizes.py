"""VM sizes of ``GET /subscriptions/{id}/providers/Microsoft.Compute/locations/{l}/vmSizes``
(VirtualMachineSizes_List, ComputeRP ``VirtualMachineSize``: name, numberOfCores,
osDiskSizeInMB, resourceDiskSizeInMB, memoryInMB, maxDataDiskCount).

The sizes the scenarios and tests use plus the common Azure Virtual Desktop sizes, with the
figures of Microsoft's size pages (https://learn.microsoft.com/azure/virtual-machines/sizes/
general-purpose/dsv5-series, .../dasv5-series, .../ddsv5-series, .../dsv3-series,
.../memory-optimized/esv5-series, .../general-purpose/bv1-series,
.../gpu-accelerated/nvadsa10v5-series). The v5 sizes without a ``d`` have no local temp disk
(resourceDiskSizeInMB 0); osDiskSizeInMB is the 1023 GiB maximum ARM reports for every size."""

OS_DISK_MB = 1047552

# name: (cores, memory MiB, resource disk MiB, max data disks)
SIZES = {
    "Standard_B2ms": (2, 8192, 16384, 4),
    "Standard_B4ms": (4, 16384, 32768, 8),
    "Standard_D2s_v3": (2, 8192, 16384, 4),
    "Standard_D4s_v3": (4, 16384, 32768, 8),
    "Standard_D8s_v3": (8, 32768, 65536, 16),
    "Standard_D2s_v5": (2, 8192, 0, 4),
    "Standard_D4s_v5": (4, 16384, 0, 8),
    "Standard_D8s_v5": (8, 32768, 0, 16),
    "Standard_D16s_v5": (16, 65536, 0, 32),
    "Standard_D2as_v5": (2, 8192, 0, 4),
    "Standard_D4as_v5": (4, 16384, 0, 8),
    "Standard_D8as_v5": (8, 32768, 0, 16),
    "Standard_D16as_v5": (16, 65536, 0, 32),
    "Standard_D4ds_v5": (4, 16384, 153600, 8),
    "Standard_D8ds_v5": (8, 32768, 307200, 16),
    "Standard_E4s_v5": (4, 32768, 0, 8),
    "Standard_E8s_v5": (8, 65536, 0, 16),
    "Standard_E16s_v5": (16, 131072, 0, 32),
    "Standard_NV6ads_A10_v5": (6, 56320, 184320, 4),
    "Standard_NV12ads_A10_v5": (12, 112640, 368640, 8),
}


def vm_sizes() -> list[dict]:
    return [{"name": name, "numberOfCores": cores, "osDiskSizeInMB": OS_DISK_MB,
             "resourceDiskSizeInMB": disk, "memoryInMB": mem, "maxDataDiskCount": data}
            for name, (cores, mem, disk, data) in SIZES.items()]
