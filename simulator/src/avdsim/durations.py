"""Default durations of simulated operations, in SIMULATED seconds.

This is the one table; a scenario overrides entries under ``durations:``. Values are
typical of what Azure shows for a Windows VM with a 128 GiB Premium SSD OS disk in a
quiet region (create ~3 min, power operations ~1 min, sysprep ~10 min, gallery
replication ~12 min per region). Providers read them with ``sim.duration(name)``.
"""

DEFAULTS = {
    # virtual machines
    "vm_create": 180.0,          # PUT from an image or an attached OS disk, until Succeeded
    "vm_update": 30.0,           # PUT/PATCH of an existing VM (tags, size ...)
    "vm_start": 60.0,
    "vm_power_off": 60.0,        # powerOff: guest stopped, VM still allocated (billed)
    "vm_deallocate": 60.0,       # from running; 20 s from stopped
    "vm_deallocate_stopped": 20.0,
    "vm_restart": 90.0,
    "vm_delete": 60.0,
    "vm_extension": 90.0,        # VM extension install/update
    "vm_extension_delete": 30.0,
    "run_command": 45.0,         # POST runCommand round trip for an ordinary script
    "run_command_detached": 20.0,  # a script that launches a detached process (sysprep)
    "sysprep": 600.0,            # sysprep /generalize /oobe /shutdown /mode:vm until shutdown
    "nic_create": 5.0,
    # Microsoft.Network PUT/DELETE (virtual networks, subnets, NSGs, NICs): Updating/Deleting
    # until Succeeded/gone, polled through Azure-AsyncOperation
    "network_put": 10.0,
    "network_delete": 10.0,
    # disks and snapshots
    "disk_empty": 10.0,
    "disk_copy": 120.0,          # Copy from a disk or snapshot, Restore from a restore point
    "disk_from_image": 120.0,    # FromImage (gallery image version)
    "disk_update": 10.0,
    "disk_delete": 30.0,
    "snapshot": 60.0,
    "snapshot_delete": 30.0,
    "restore_point_collection": 5.0,
    "restore_point": 120.0,
    "restore_point_delete": 60.0,
    # galleries
    "gallery": 30.0,
    "gallery_image": 30.0,
    "gallery_version_capture": 180.0,   # capture of the source before regional replication
    "replication_per_region": 720.0,    # per target region (regions replicate in parallel)
    "gallery_update": 20.0,
    "gallery_delete": 60.0,
    "gallery_version_delete": 120.0,
    # resource groups
    "resource_group_delete": 60.0,
    # resource provider (un)registration: Registering -> Registered, Unregistering -> Unregistered
    "provider_registration": 120.0,
}

# How often the service asks pollers to come back (simulated seconds).
DEFAULT_POLL_INTERVAL_S = 15.0

# How long a client that polls by itself (re-reads the same resource, nothing written to it in
# between) waits between two reads against Azure: the collection's default ``poll_interval`` and
# Compute's polling hint. The simulator keeps that wait for the client (``avdsim.pacing``).
DEFAULT_CLIENT_POLL_INTERVAL_S = 15.0

# Default --time-scale: the simulator asks clients to come back 600 times sooner than Azure
# would (a 15 s Retry-After is 25 ms of real time); the clock then moves to the simulated time
# the client was asked to come back at. It does not change how much simulated time passes.
DEFAULT_TIME_SCALE = 600.0
