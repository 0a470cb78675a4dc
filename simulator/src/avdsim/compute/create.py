"""VM create, in phases: request checks, the OS source (gallery image version or an attached
OS disk), security profile, data disks, NICs, the OS disk, the VM body, then either the create
operation (HTTP) or the VM at once (scenario loading)."""

from __future__ import annotations

import copy
import re
import uuid

from .. import disks as _disks
from .. import guest as _guest
from ..arm import norm_location, validate_tags
from ..clock import iso
from ..errors import ArmError, invalid_parameter
from ..ids import resource_id
from ..vmstate import VM_TYPE, set_power, state, vm_id_of
from .data_disks import apply_data_disks, check_attachable, plan_data_disks
from .images import check_os_profile, resolve_image, security_profile
from .nics import create_nics

_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$")


def _check_request(name: str, body: dict) -> tuple[str, dict, dict, str]:
    """(location, tags, properties, vm size) of a create request."""
    if not _VM_NAME.match(name):
        raise ArmError(400, "InvalidResourceName", f"The resource name '{name}' is invalid.")
    location = body.get("location")
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this "
                       "definition.")
    location = norm_location(location)
    props = body.get("properties") or {}
    tags = validate_tags(body.get("tags"))
    size = (props.get("hardwareProfile") or {}).get("vmSize")
    if not size:
        raise invalid_parameter("Required parameter 'hardwareProfile.vmSize' is missing.",
                                "hardwareProfile.vmSize")
    return location, tags, props, size


def _from_image(sim, name, location, sp: dict, osp) -> dict:
    version, definition = resolve_image(sim, sp.get("imageReference"), location)
    dprops = definition["properties"]
    generalized_image = dprops.get("osState") == "Generalized"
    if generalized_image:
        check_os_profile(osp, name)
    elif osp:
        raise invalid_parameter("Parameter 'osProfile' is not allowed.", "osProfile")
    return {"hyper_v": dprops.get("hyperVGeneration", "V1"),
            "features": {f["name"].lower(): f["value"] for f in dprops.get("features") or []},
            "generalized_image": generalized_image, "version": version, "disk": None,
            "guest": _guest.clone(_guest.stored(sim, version["id"])),
            "image_ref": {"id": (sp.get("imageReference") or {}).get("id"),
                          "exactVersion": version["name"]},
            "size": version["properties"]["storageProfile"].get("osDiskImage", {}).get(
                "sizeInGB", 128)}


def _from_disk(sim, location, osd: dict, osp) -> dict:
    did = (osd.get("managedDisk") or {}).get("id")
    disk = sim.store.get(did) if did else None
    if disk is None:
        raise ArmError(404, "NotFound", f"Disk {did} was not found." if did else
                       "Required parameter 'osDisk.managedDisk.id' is missing (null).")
    if osp:
        raise invalid_parameter("Parameter 'osProfile' is not allowed.", "osProfile")
    if not osd.get("osType") and not disk["properties"].get("osType"):
        raise invalid_parameter("Required parameter 'osDisk.osType' is missing (null).",
                                "osDisk.osType")
    check_attachable(disk, location, disk["id"], "osDisk.managedDisk.id")
    dsec = (disk["properties"].get("securityProfile") or {}).get("securityType")
    return {"hyper_v": disk["properties"].get("hyperVGeneration", "V1"),
            "features": {"securitytype": "TrustedLaunch"} if dsec == "TrustedLaunch" else {},
            "generalized_image": False, "version": None, "disk": disk, "guest": None,
            "image_ref": None, "size": disk["properties"].get("diskSizeGB", 128)}


def _os_source(sim, name, location, props: dict) -> dict:
    """Where the OS disk comes from (``osDisk.createOption`` FromImage or Attach)."""
    sp = props.get("storageProfile") or {}
    osd = sp.get("osDisk") or {}
    create_option = (osd.get("createOption") or "FromImage")
    if create_option.lower() == "fromimage":
        return _from_image(sim, name, location, sp, props.get("osProfile"))
    if create_option.lower() == "attach":
        return _from_disk(sim, location, osd, props.get("osProfile"))
    raise invalid_parameter(f"The value '{create_option}' of parameter "
                            "'osDisk.createOption' is not supported; use FromImage or "
                            "Attach.", "osDisk.createOption")


def _security(props: dict, src: dict) -> dict | None:
    security = security_profile(props.get("securityProfile"), src["features"], src["hyper_v"])
    if src["disk"] is not None and security is None and props.get("securityProfile"):
        security = copy.deepcopy(props["securityProfile"])
    return security


def _new_os_disk(sim, sub, rg, name, vm_id, location, osd: dict, src: dict, security) -> dict:
    """Create the OS disk from the image version; its ``storageProfile.osDisk`` entry."""
    disk_name = osd.get("name") or f"{name}_OsDisk_1_{uuid.uuid4().hex}"
    did = resource_id(sub, rg, "Microsoft.Compute", "disks", disk_name)
    if sim.store.exists(did):
        raise ArmError(409, "Conflict", f"Disk {disk_name} already exists in resource group "
                       f"{rg.upper()}. Only CreateOption.Attach is supported.")
    disk = _disks.new_disk_body(
        sim, did, location, {}, (osd.get("managedDisk") or {}).get("storageAccountType",
                                                                   "Premium_LRS"),
        osd.get("diskSizeGB") or src["size"],
        {"createOption": "FromImage",
         "galleryImageReference": {"id": src["version"]["id"]}},
        os_type="Windows", hyper_v=src["hyper_v"],
        security_type="TrustedLaunch" if (security or {}).get("securityType") ==
        "TrustedLaunch" else None)
    disk["managedBy"] = vm_id
    disk["properties"]["diskState"] = "Attached"
    sim.store.put(did, disk)
    _guest.store(sim, did, src["guest"])
    return {"osType": "Windows", "name": disk_name, "createOption": "FromImage",
            "caching": osd.get("caching", "ReadWrite"),
            "managedDisk": {"storageAccountType": disk["sku"]["name"], "id": did},
            "deleteOption": osd.get("deleteOption", "Detach"),
            "diskSizeGB": disk["properties"]["diskSizeGB"]}


def _attach_os_disk(vm_id, osd: dict, disk: dict) -> dict:
    disk["managedBy"] = vm_id
    disk["properties"]["diskState"] = "Attached"
    return {"osType": disk["properties"].get("osType") or osd.get("osType"),
            "name": disk["name"], "createOption": "Attach",
            "caching": osd.get("caching", "ReadWrite"),
            "managedDisk": {"storageAccountType": disk["sku"]["name"], "id": disk["id"]},
            "deleteOption": osd.get("deleteOption", "Detach"),
            "diskSizeGB": disk["properties"].get("diskSizeGB")}


def _os_profile_out(osp: dict, name: str) -> dict:
    return {
        "computerName": osp.get("computerName") or name,
        "adminUsername": osp["adminUsername"],
        "windowsConfiguration": {
            "provisionVMAgent": True, "enableAutomaticUpdates": True,
            "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault",
                              "enableHotpatching": False},
            **{k: v for k, v in (osp.get("windowsConfiguration") or {}).items()
               if k in ("provisionVMAgent", "enableAutomaticUpdates", "timeZone")}},
        "secrets": [], "allowExtensionOperations": True,
        "requireGuestProvisionSignal": True}


def _network_profile(net: dict, nic_part: dict) -> dict:
    out = dict(nic_part)
    if net.get("networkApiVersion"):
        out["networkApiVersion"] = net["networkApiVersion"]
    if net.get("networkInterfaceConfigurations"):
        out["networkInterfaceConfigurations"] = copy.deepcopy(
            net["networkInterfaceConfigurations"])
    return out


def _vm_properties(name, props, size, storage, network, security, direct, now) -> dict:
    vm_props = {"hardwareProfile": {"vmSize": size},
                "provisioningState": "Succeeded" if direct else "Creating",
                "vmId": str(uuid.uuid4()), "storageProfile": storage,
                "networkProfile": network, "timeCreated": iso(now)}
    if props.get("osProfile"):
        vm_props["osProfile"] = _os_profile_out(props["osProfile"], name)
    if security:
        vm_props["securityProfile"] = security
    if props.get("diagnosticsProfile"):
        vm_props["diagnosticsProfile"] = copy.deepcopy(props["diagnosticsProfile"])
    if props.get("licenseType"):
        vm_props["licenseType"] = props["licenseType"]
    return vm_props


def _vm_body(vm_id, name, location, body, tags, vm_props) -> dict:
    vm = {"id": vm_id, "name": name, "type": VM_TYPE, "location": location,
          "etag": '"1"', "properties": vm_props}
    if tags:
        vm["tags"] = tags
    if body.get("zones"):
        vm["zones"] = list(body["zones"])
    if body.get("identity"):
        vm["identity"] = {"type": body["identity"].get("type", "None")}
    return vm


def _specialize(g, vm: dict) -> None:
    """First boot: the guest takes the VM's computer name and admin account."""
    if g is not None:
        vm_props = vm["properties"]
        _guest.specialize(g, vm_props.get("osProfile", {}).get("computerName", vm["name"]),
                          vm_props.get("osProfile", {}).get("adminUsername"))


def _exists_now(sim, vm: dict, g, power_state: str, now: float) -> None:
    """Scenario loading: the VM exists at once in ``power_state``."""
    st = state(sim, vm["id"])
    st["provisioning_time"] = iso(now)
    _specialize(g, vm)
    st["power"] = None
    set_power(sim, vm, power_state)
    sim.hooks.emit("vm.created", vm_id=vm["id"], vm=vm)


def _start_create(sim, req, vm: dict, body: dict, g, never_sysprepped: bool):
    """The create operation: Succeeded (the guest specialized, the VM running) at its end."""
    st = state(sim, vm["id"])
    st["power"] = None

    def complete():
        if never_sysprepped:
            raise ArmError(409, "OSProvisioningTimedOut",
                           f"OS Provisioning for VM '{vm['name']}' did not finish in the "
                           "allotted time. The VM may still finish provisioning successfully. "
                           "Please check provisioning state later. Also, make sure the image "
                           "has been properly prepared (generalized).")
        vm["properties"]["provisioningState"] = "Succeeded"
        st["provisioning_time"] = iso(sim.now())
        st["busy"] = None
        _specialize(g, vm)
        set_power(sim, vm, "running")
        sim.hooks.emit("vm.created", vm_id=vm["id"], vm=vm)
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed"
        st["provisioning_time"] = iso(sim.now())
        st["busy"] = None
        set_power(sim, vm, "running")

    op = sim.ops.start(req, 1200.0 if never_sysprepped else sim.duration("vm_create"), complete,
                       fail, location=vm["location"], resource_id=vm["id"])
    st["busy"] = op.id
    set_power(sim, vm, "starting")
    sim.hooks.emit("resource.written", resource_id=vm["id"], resource=vm, request_body=body)
    return op


def _storage_profile(sim, sub, rg, name, vm_id, location, props, src, security) -> tuple:
    """Validate the data disks and the NICs, then create or attach the OS disk, NICs and data
    disks; returns (storageProfile, networkProfile)."""
    sp = props.get("storageProfile") or {}
    osd = sp.get("osDisk") or {}
    net = props.get("networkProfile") or {}
    data_plan = plan_data_disks(sim, sub, rg, name, location, sp.get("dataDisks"), [])
    # network (validated before anything is created)
    network = _network_profile(net, create_nics(sim, sub, rg, vm_id, location, net))
    if src["disk"] is None:
        osdisk_out = _new_os_disk(sim, sub, rg, name, vm_id, location, osd, src, security)
    else:
        osdisk_out = _attach_os_disk(vm_id, osd, src["disk"])
    storage = {"osDisk": osdisk_out,
               "dataDisks": apply_data_disks(sim, vm_id, location, data_plan, True),
               "diskControllerType": "SCSI"}
    if src["image_ref"]:
        storage["imageReference"] = src["image_ref"]
    return storage, network


def create_vm(sim, sub, rg, name, body: dict, *, req=None, power_state: str = "running"):
    """Validate and create VM ``name`` in resource group ``rg``. With ``req`` (the PUT request)
    it starts the create operation; without (scenario loading) the VM exists at once in
    ``power_state``. Returns (vm, operation or None)."""
    direct = req is None
    location, tags, props, size = _check_request(name, body)
    vm_id = vm_id_of(sub, rg, name)
    src = _os_source(sim, name, location, props)
    security = _security(props, src)
    storage, network = _storage_profile(sim, sub, rg, name, vm_id, location, props, src,
                                        security)
    now = sim.now()
    vm_props = _vm_properties(name, props, size, storage, network, security, direct, now)
    vm = _vm_body(vm_id, name, location, body, tags, vm_props)
    sim.store.put(vm_id, vm)
    st = state(sim, vm_id)
    st["hyper_v_generation"] = src["hyper_v"]
    st["generalized"] = False
    g = _guest.stored(sim, storage["osDisk"]["managedDisk"]["id"])
    if direct:
        _exists_now(sim, vm, g, power_state, now)
        return vm, None
    # A generalized image whose guest was never sysprepped cannot finish OOBE: Azure waits for
    # the guest's provisioning signal and gives up (20 minutes for Windows).
    never_sysprepped = src["generalized_image"] and g is not None and not g.get("generalized")
    return vm, _start_create(sim, req, vm, body, g, never_sysprepped)
