"""Microsoft.Compute virtual machines: create (from a gallery image version or an attached
OS disk), VM-owned NICs, power actions, generalize, delete with delete options, instance
view, Run Command (action and ``runCommands`` child resources) and VM extensions."""

from __future__ import annotations

import copy
import re
import uuid

from . import disks as _disks
from . import gallery as _gallery
from . import guest as _guest
from . import network as _network
from .arm import RG, SUB, norm_location, paged, require_rg, validate_tags
from .clock import iso
from .errors import ArmError, invalid_parameter, not_found, operation_not_allowed
from .ids import parse, resource_id
from .routing import route
from .server import Response

VM_TYPE = "Microsoft.Compute/virtualMachines"
VM = RG + "/providers/Microsoft.Compute/virtualMachines/{vmName}"
EXT_TYPE = "Microsoft.Compute/virtualMachines/extensions"
RUNCMD_TYPE = "Microsoft.Compute/virtualMachines/runCommands"

POWER_DISPLAY = {"running": "VM running", "stopped": "VM stopped",
                 "deallocated": "VM deallocated", "starting": "VM starting",
                 "stopping": "VM stopping", "deallocating": "VM deallocating"}
_COMPUTER_NAME = re.compile(r"^[A-Za-z0-9-]{1,15}$")
_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$")


# -- helpers used by other providers -----------------------------------------------------
def vm_id_of(sub, rg, name):
    return resource_id(sub, rg, "Microsoft.Compute", "virtualMachines", name)


def state(sim, vm_id: str) -> dict:
    """Internal state of a VM: power, generalized, busy (operation id), created."""
    return sim.store.internal(vm_id)


def power(sim, vm_id: str) -> str:
    return state(sim, vm_id).get("power", "deallocated")


def os_disk_id(vm: dict) -> str | None:
    return ((vm["properties"].get("storageProfile") or {}).get("osDisk") or {}).get(
        "managedDisk", {}).get("id")


def guest_of(sim, vm: dict) -> dict | None:
    did = os_disk_id(vm)
    return _disks.guest(sim, did) if did else None


def set_power(sim, vm: dict, new: str) -> None:
    st = state(sim, vm["id"])
    old = st.get("power")
    if old == new:
        return
    st["power"] = new
    # Disk state follows the VM: Attached while allocated, Reserved while deallocated.
    for did in attached_disk_ids(vm):
        d = sim.store.get(did)
        if d is not None:
            d["properties"]["diskState"] = "Reserved" if new == "deallocated" else "Attached"
    sim.hooks.emit("vm.power_state_changed", vm_id=vm["id"], vm=vm, old=old, new=new)


def attached_disk_ids(vm: dict) -> list[str]:
    sp = vm["properties"].get("storageProfile") or {}
    out = []
    if os_disk_id(vm):
        out.append(os_disk_id(vm))
    for dd in sp.get("dataDisks") or []:
        mid = (dd.get("managedDisk") or {}).get("id")
        if mid:
            out.append(mid)
    return out


def get_vm(sim, req, name_param="vmName") -> dict:
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    name = req.param(name_param)
    vm = sim.store.get(vm_id_of(sub, rg, name))
    if vm is None:
        raise not_found(VM_TYPE, name, rg)
    return vm


def _busy(sim, vm, action):
    st = state(sim, vm["id"])
    op = sim.ops.get(st["busy"]) if st.get("busy") else None
    if op is not None and op.status == "InProgress":
        async_url, _ = sim.ops.urls(op)
        raise ArmError(409, "OperationNotAllowed" if action == "generalize"
                       else "AnotherOperationInProgress",
                       f"Operation '{action}' is not allowed on VM '{vm['name']}' since another "
                       f"operation is in progress. To retrieve status of the operation use uri: "
                       f"{async_url}")


def _status(code, display, time=None, level="Info"):
    s = {"code": code, "level": level, "displayStatus": display}
    if time:
        s["time"] = time
    return s


def instance_view(sim, vm: dict) -> dict:
    st = state(sim, vm["id"])
    pstate = vm["properties"]["provisioningState"]
    statuses = [_status(f"ProvisioningState/{pstate.lower()}",
                        "Provisioning succeeded" if pstate == "Succeeded" else pstate,
                        st.get("provisioning_time"))]
    if pstate not in ("Creating",) or st.get("power"):
        p = st.get("power", "deallocated")
        statuses.append(_status(f"PowerState/{p}", POWER_DISPLAY[p]))
    if st.get("generalized"):
        statuses.append(_status("OSState/generalized", "VM generalized"))
    g = guest_of(sim, vm) or {}
    # a guest sysprepped with /oobe boots into OOBE: no VM agent reports
    running = st.get("power") == "running" and not g.get("generalized")
    view = {
        "computerName": g.get("computer_name") or vm["properties"].get("osProfile", {}).get(
            "computerName"),
        "osName": g.get("os", {}).get("name", "Windows"),
        "osVersion": g.get("os", {}).get("build", ""),
        "hyperVGeneration": st.get("hyper_v_generation", "V2"),
        "vmAgent": {"vmAgentVersion": "2.7.41491.1102" if running else "Unknown",
                    "statuses": [_status("ProvisioningState/succeeded", "Ready",
                                         iso(sim.now()))] if running else [
                        _status("ProvisioningState/Unavailable", "Not Ready", None, "Warning")],
                    "extensionHandlers": []},
        "disks": [{"name": sim.store.get(d)["name"],
                   "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded",
                                        st.get("provisioning_time"))]}
                  for d in attached_disk_ids(vm) if sim.store.get(d)],
        "extensions": [{"name": e["name"], "type": e["properties"].get("type"),
                        "typeHandlerVersion": e["properties"].get("typeHandlerVersion"),
                        "statuses": [_status(
                            f"ProvisioningState/{e['properties']['provisioningState'].lower()}",
                            "Provisioning " + e["properties"]["provisioningState"].lower())]}
                       for e in sim.store.list(EXT_TYPE, vm["id"].lower() + "/")],
        "statuses": statuses,
    }
    return view


def render(sim, vm: dict, expand_instance_view: bool = False) -> dict:
    body = copy.deepcopy(vm)
    exts = sim.store.list(EXT_TYPE, vm["id"].lower() + "/")
    if exts:
        body["resources"] = [render_extension(e) for e in exts]
    if expand_instance_view:
        body["properties"]["instanceView"] = instance_view(sim, vm)
    return body


def _resolve_image(sim, image_ref: dict, location: str) -> tuple[dict, dict]:
    """(image version, image definition) for imageReference.id (version id, or definition id
    meaning the latest version not excluded from latest)."""
    ref_id = (image_ref or {}).get("id") or (image_ref or {}).get("sharedGalleryImageId")
    if not ref_id:
        if image_ref and image_ref.get("publisher"):
            raise invalid_parameter(
                "Marketplace images are not available in this simulator; use a gallery image "
                "version id in storageProfile.imageReference.id.", "imageReference")
        raise invalid_parameter("Required parameter 'imageReference' is missing (null).",
                                "imageReference")
    p = parse(ref_id)
    if not p or p["type"].lower() not in ("microsoft.compute/galleries/images",
                                          "microsoft.compute/galleries/images/versions"):
        raise invalid_parameter(f"The value of parameter imageReference.id '{ref_id}' is "
                                "invalid.", "imageReference.id")
    if p["type"].lower().endswith("/versions"):
        version = sim.store.get(ref_id)
        definition = sim.store.get(ref_id.rsplit("/versions/", 1)[0])
        if version is None or definition is None:
            raise ArmError(404, "GalleryImageNotFound",
                           f"The gallery image {ref_id} is not available in {location} region. "
                           "Please contact image owner to replicate to this region, or change "
                           "your requested region.")
    else:
        definition = sim.store.get(ref_id)
        if definition is None:
            raise ArmError(404, "GalleryImageNotFound",
                           f"The gallery image {ref_id} is not available in {location} region.")
        version = _gallery.latest_version(sim, definition, location)
        if version is None:
            raise ArmError(404, "GalleryImageNotFound",
                           f"The gallery image {ref_id}/versions/latest is not available in "
                           f"{location} region. Please contact image owner to replicate to "
                           "this region, or change your requested region.")
    if version["properties"]["provisioningState"] != "Succeeded" or not _gallery.available_in(
            sim, version, location):
        raise ArmError(404, "GalleryImageNotFound",
                       f"The gallery image {version['id']} is not available in {location} "
                       "region. Please contact image owner to replicate to this region, or "
                       "change your requested region.")
    return version, definition


def _check_password(pw: str | None):
    if not pw:
        raise invalid_parameter("Required parameter 'adminPassword' is missing (null).",
                                "adminPassword")
    classes = sum(bool(re.search(r, pw)) for r in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if not 12 <= len(pw) <= 123 or classes < 3:
        raise invalid_parameter(
            "The supplied password must be between 12-123 characters long and must satisfy at "
            "least 3 of password complexity requirements from the following: 1) Contains an "
            "uppercase character 2) Contains a lowercase character 3) Contains a numeric digit "
            "4) Contains a special character 5) Control characters are not allowed",
            "adminPassword")


def _security_profile(requested: dict | None, features: dict, hyper_v: str) -> dict | None:
    sec = (features.get("securitytype") or "").lower()
    want = ((requested or {}).get("securityType") or "")
    if want and want.lower() == "trustedlaunch":
        if hyper_v != "V2" or sec not in ("trustedlaunch", "trustedlaunchsupported",
                                          "trustedlaunchandconfidentialvmsupported"):
            raise invalid_parameter(
                "The provided gallery image only supports Standard security type. Please "
                "change the security type to Standard.", "securityProfile.securityType")
    if want and want.lower() == "standard" and sec == "trustedlaunch":
        raise invalid_parameter("The provided gallery image only supports TrustedLaunch "
                                "security type.", "securityProfile.securityType")
    if (want.lower() == "trustedlaunch") or (not want and sec in (
            "trustedlaunch", "trustedlaunchsupported", "trustedlaunchandconfidentialvmsupported")):
        uefi = (requested or {}).get("uefiSettings") or {}
        return {"uefiSettings": {"secureBootEnabled": uefi.get("secureBootEnabled", True),
                                 "vTpmEnabled": uefi.get("vTpmEnabled", True)},
                "securityType": "TrustedLaunch"}
    return copy.deepcopy(requested) if requested else None


def _nics(sim, req, vm_id, vm_name, location, net: dict, tags) -> dict:
    out = {}
    configs = net.get("networkInterfaceConfigurations") or []
    refs = net.get("networkInterfaces") or []
    if not configs and not refs:
        raise invalid_parameter("Required parameter 'networkProfile' is missing (null).",
                                "networkProfile")
    if configs and not net.get("networkApiVersion"):
        raise invalid_parameter("networkProfile.networkApiVersion is required when "
                                "networkInterfaceConfigurations are used.",
                                "networkProfile.networkApiVersion")
    nic_refs = []
    for r in refs:
        nic = sim.store.get(r.get("id", ""))
        if nic is None:
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {r.get('id')} referenced by resource {vm_id} was not found.")
        owner = nic["properties"].get("virtualMachine")
        if owner and owner["id"].lower() != vm_id.lower() and sim.store.exists(owner["id"]):
            raise ArmError(400, "NicInUse", f"Network Interface {nic['id']} is used by existing "
                           f"resource {owner['id']}.")
        nic_refs.append({"id": nic["id"], "properties": {
            "primary": (r.get("properties") or {}).get("primary", len(nic_refs) == 0),
            "deleteOption": (r.get("properties") or {}).get("deleteOption", "Detach")}})
    planned = []
    for i, c in enumerate(configs):
        props = c.get("properties") or {}
        ipcs = props.get("ipConfigurations") or []
        if not c.get("name") or not ipcs:
            raise invalid_parameter("networkInterfaceConfigurations need a name and "
                                    "ipConfigurations.", "networkProfile."
                                    "networkInterfaceConfigurations")
        subnet_id = ((ipcs[0].get("properties") or {}).get("subnet") or {}).get("id")
        if _network.find_subnet(sim, subnet_id) is None:
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {subnet_id} referenced by resource {vm_id} was not found. "
                           "Please make sure that the referenced resource exists, and that both "
                           "resources are in the same region.")
        if (ipcs[0].get("properties") or {}).get("publicIPAddressConfiguration"):
            raise invalid_parameter("Public IP addresses are not supported by this simulator's "
                                    "network model.", "publicIPAddressConfiguration")
        nic_name = c["name"]  # the VM-owned NIC takes its configuration's name
        nic_id = resource_id(req.subscription_id, req.param("resourceGroupName"),
                             "Microsoft.Network", "networkInterfaces", nic_name)
        if sim.store.exists(nic_id):
            raise ArmError(409, "Conflict", f"Network interface {nic_id} already exists.")
        planned.append((nic_id, subnet_id, ipcs[0].get("name", "ipconfig1"),
                        props.get("enableAcceleratedNetworking", False)))
        nic_refs.append({"id": nic_id, "properties": {
            "primary": props.get("primary", i == 0 and not refs),
            "deleteOption": props.get("deleteOption", "Detach")}})
    for nic_id, subnet_id, ipc_name, accel in planned:
        _network.create_nic(sim, nic_id, location, subnet_id, vm_id, None, ipc_name, accel)
    for r in refs:
        sim.store.get(r["id"])["properties"]["virtualMachine"] = {"id": vm_id}
    out["networkInterfaces"] = nic_refs
    return out


def create_vm(sim, req, body: dict, *, direct: bool = False, power_state: str = "running"):
    """Validate and create a VM. ``direct`` (scenario loading) skips the operation and makes
    the VM exist at once in ``power_state``."""
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    name = req.param("vmName")
    if not _VM_NAME.match(name):
        raise ArmError(400, "InvalidResourceName", f"The resource name '{name}' is invalid.")
    vm_id = vm_id_of(sub, rg, name)
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
    sp = props.get("storageProfile") or {}
    osd = sp.get("osDisk") or {}
    create_option = (osd.get("createOption") or "FromImage")
    osp = props.get("osProfile")
    net = props.get("networkProfile") or {}
    new_guest = None
    hyper_v = "V2"
    features = {}
    image_ref_out = None
    disk_to_attach = None
    generalized_image = False
    if create_option.lower() == "fromimage":
        version, definition = _resolve_image(sim, sp.get("imageReference"), location)
        dprops = definition["properties"]
        hyper_v = dprops.get("hyperVGeneration", "V1")
        features = {f["name"].lower(): f["value"] for f in dprops.get("features") or []}
        generalized_image = dprops.get("osState") == "Generalized"
        if generalized_image:
            if not osp or not osp.get("adminUsername"):
                raise invalid_parameter("Required parameter 'osProfile' is missing (null).",
                                        "osProfile")
            _check_password(osp.get("adminPassword"))
            cn = osp.get("computerName") or name
            if not _COMPUTER_NAME.match(cn) or cn.isdigit():
                raise invalid_parameter(
                    f"Windows computer name cannot be more than 15 characters long, be entirely "
                    f"numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + "
                    f"_ [ ] {{ }} \\ | ; : . ' \" , < > / ?. (computerName '{cn}')",
                    "osProfile.computerName")
        elif osp:
            raise invalid_parameter("Parameter 'osProfile' is not allowed.", "osProfile")
        new_guest = _guest.clone(_gallery.version_guest(sim, version))
        image_ref_out = {"id": (sp.get("imageReference") or {}).get("id"),
                         "exactVersion": version["name"]}
        src_size = version["properties"]["storageProfile"].get("osDiskImage", {}).get(
            "sizeInGB", 128)
    elif create_option.lower() == "attach":
        did = (osd.get("managedDisk") or {}).get("id")
        disk_to_attach = sim.store.get(did) if did else None
        if disk_to_attach is None:
            raise ArmError(404, "NotFound", f"Disk {did} was not found." if did else
                           "Required parameter 'osDisk.managedDisk.id' is missing (null).")
        if osp:
            raise invalid_parameter("Parameter 'osProfile' is not allowed.", "osProfile")
        if not osd.get("osType") and not disk_to_attach["properties"].get("osType"):
            raise invalid_parameter("Required parameter 'osDisk.osType' is missing (null).",
                                    "osDisk.osType")
        if disk_to_attach.get("managedBy"):
            raise ArmError(409, "OperationNotAllowed",
                           f"Disk {disk_to_attach['name']} is already attached to VM "
                           f"{disk_to_attach['managedBy']}.")
        if norm_location(disk_to_attach["location"]) != location:
            raise invalid_parameter(f"Disk {disk_to_attach['id']} is in location "
                                    f"{disk_to_attach['location']}, the VM in {location}.",
                                    "osDisk.managedDisk.id")
        hyper_v = disk_to_attach["properties"].get("hyperVGeneration", "V1")
        dsec = (disk_to_attach["properties"].get("securityProfile") or {}).get("securityType")
        features = {"securitytype": "TrustedLaunch"} if dsec == "TrustedLaunch" else {}
        src_size = disk_to_attach["properties"].get("diskSizeGB", 128)
    else:
        raise invalid_parameter(f"The value '{create_option}' of parameter "
                                "'osDisk.createOption' is not supported; use FromImage or "
                                "Attach.", "osDisk.createOption")
    security = _security_profile(props.get("securityProfile"), features, hyper_v)
    if disk_to_attach is not None and security is None and props.get("securityProfile"):
        security = copy.deepcopy(props["securityProfile"])
    data_plan = _plan_data_disks(sim, req, vm_id, name, location, sp.get("dataDisks"), [])
    # network (validated before anything is created)
    netp = _nics(sim, req, vm_id, name, location, net, tags)
    # OS disk
    if disk_to_attach is None:
        disk_name = osd.get("name") or f"{name}_OsDisk_1_{uuid.uuid4().hex}"
        did = resource_id(sub, rg, "Microsoft.Compute", "disks", disk_name)
        if sim.store.exists(did):
            raise ArmError(409, "Conflict", f"Disk {disk_name} already exists in resource group "
                           f"{rg.upper()}. Only CreateOption.Attach is supported.")
        disk = _disks.new_disk_body(
            sim, did, location, {}, (osd.get("managedDisk") or {}).get("storageAccountType",
                                                                       "Premium_LRS"),
            osd.get("diskSizeGB") or src_size,
            {"createOption": "FromImage",
             "galleryImageReference": {"id": version["id"]}},
            os_type="Windows", hyper_v=hyper_v,
            security_type="TrustedLaunch" if (security or {}).get("securityType") ==
            "TrustedLaunch" else None)
        disk["managedBy"] = vm_id
        disk["properties"]["diskState"] = "Attached"
        sim.store.put(did, disk)
        _disks.set_guest(sim, did, new_guest)
        osdisk_out = {"osType": "Windows", "name": disk_name, "createOption": "FromImage",
                      "caching": osd.get("caching", "ReadWrite"),
                      "managedDisk": {"storageAccountType": disk["sku"]["name"], "id": did},
                      "deleteOption": osd.get("deleteOption", "Detach"),
                      "diskSizeGB": disk["properties"]["diskSizeGB"]}
    else:
        disk = disk_to_attach
        disk["managedBy"] = vm_id
        disk["properties"]["diskState"] = "Attached"
        osdisk_out = {"osType": disk["properties"].get("osType") or osd.get("osType"),
                      "name": disk["name"], "createOption": "Attach",
                      "caching": osd.get("caching", "ReadWrite"),
                      "managedDisk": {"storageAccountType": disk["sku"]["name"],
                                      "id": disk["id"]},
                      "deleteOption": osd.get("deleteOption", "Detach"),
                      "diskSizeGB": disk["properties"].get("diskSizeGB")}
    now = sim.now()
    storage = {"osDisk": osdisk_out,
               "dataDisks": _apply_data_disks(sim, vm_id, location, data_plan, True),
               "diskControllerType": "SCSI"}
    if image_ref_out:
        storage["imageReference"] = image_ref_out
    vm_props = {"hardwareProfile": {"vmSize": size},
                "provisioningState": "Succeeded" if direct else "Creating",
                "vmId": str(uuid.uuid4()), "storageProfile": storage,
                "networkProfile": dict(netp), "timeCreated": iso(now)}
    if net.get("networkApiVersion"):
        vm_props["networkProfile"]["networkApiVersion"] = net["networkApiVersion"]
    if net.get("networkInterfaceConfigurations"):
        cfgs = copy.deepcopy(net["networkInterfaceConfigurations"])
        vm_props["networkProfile"]["networkInterfaceConfigurations"] = cfgs
    if osp:
        vm_props["osProfile"] = {
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
    if security:
        vm_props["securityProfile"] = security
    if props.get("diagnosticsProfile"):
        vm_props["diagnosticsProfile"] = copy.deepcopy(props["diagnosticsProfile"])
    if props.get("licenseType"):
        vm_props["licenseType"] = props["licenseType"]
    vm = {"id": vm_id, "name": name, "type": VM_TYPE, "location": location,
          "etag": '"1"', "properties": vm_props}
    if tags:
        vm["tags"] = tags
    if body.get("zones"):
        vm["zones"] = list(body["zones"])
    if body.get("identity"):
        vm["identity"] = {"type": body["identity"].get("type", "None")}
    sim.store.put(vm_id, vm)
    st = state(sim, vm_id)
    st["hyper_v_generation"] = hyper_v
    st["generalized"] = False
    g = _disks.guest(sim, os_disk_id(vm))
    if direct:
        st["provisioning_time"] = iso(now)
        if g is not None:
            _guest.specialize(g, vm_props.get("osProfile", {}).get("computerName", name),
                              (osp or {}).get("adminUsername"))
        st["power"] = None
        set_power(sim, vm, power_state)
        sim.hooks.emit("vm.created", vm_id=vm_id, vm=vm)
        return vm, None
    st["power"] = None

    # A generalized image whose guest was never sysprepped cannot finish OOBE: Azure waits for
    # the guest's provisioning signal and gives up (20 minutes for Windows).
    never_sysprepped = (create_option.lower() == "fromimage" and generalized_image and
                        g is not None and not g.get("generalized"))

    def complete():
        if never_sysprepped:
            raise ArmError(409, "OSProvisioningTimedOut",
                           f"OS Provisioning for VM '{name}' did not finish in the allotted "
                           "time. The VM may still finish provisioning successfully. Please "
                           "check provisioning state later. Also, make sure the image has been "
                           "properly prepared (generalized).")
        vm["properties"]["provisioningState"] = "Succeeded"
        st["provisioning_time"] = iso(sim.now())
        st["busy"] = None
        if g is not None:
            _guest.specialize(g, vm_props.get("osProfile", {}).get("computerName", name),
                              (osp or {}).get("adminUsername"))
        set_power(sim, vm, "running")
        sim.hooks.emit("vm.created", vm_id=vm_id, vm=vm)
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed"
        st["provisioning_time"] = iso(sim.now())
        st["busy"] = None
        set_power(sim, vm, "running")

    op = sim.ops.start(req, 1200.0 if never_sysprepped else sim.duration("vm_create"), complete,
                       fail, location=location, resource_id=vm_id)
    st["busy"] = op.id
    set_power(sim, vm, "starting")
    sim.hooks.emit("resource.written", resource_id=vm_id, resource=vm, request_body=body)
    return vm, op


# -- data disks ------------------------------------------------------------------------------
def _plan_data_disks(sim, req, vm_id, vm_name, location, requested, current):
    """Validate ``storageProfile.dataDisks`` against the current attachments. Returns
    (entries, to_attach, to_create, to_detach); nothing is changed yet."""
    cur_by_id = {((d.get("managedDisk") or {}).get("id") or "").lower(): d for d in current}
    luns = set()
    entries, to_attach, to_create = [], [], []
    for dd in requested or []:
        if "lun" not in dd:
            raise invalid_parameter("Required parameter 'dataDisks.lun' is missing (null).",
                                    "dataDisks.lun")
        lun = int(dd["lun"])
        if lun in luns or not 0 <= lun <= 63:
            raise invalid_parameter(f"Data disk LUN {lun} is invalid or used twice.",
                                    "dataDisks.lun")
        luns.add(lun)
        opt = (dd.get("createOption") or "Attach").lower()
        mid = ((dd.get("managedDisk") or {}).get("id") or "")
        if mid.lower() in cur_by_id:
            entry = copy.deepcopy(cur_by_id[mid.lower()])
            if dd.get("deleteOption"):
                entry["deleteOption"] = dd["deleteOption"]
            entries.append(entry)
            continue
        if opt == "attach":
            disk = sim.store.get(mid) if mid else None
            if disk is None:
                raise ArmError(404, "NotFound", f"Disk {mid} was not found." if mid else
                               "Required parameter 'dataDisks.managedDisk.id' is missing.")
            if disk.get("managedBy"):
                raise ArmError(409, "OperationNotAllowed", f"Disk {disk['name']} is already "
                               f"attached to VM {disk['managedBy']}.")
            if norm_location(disk["location"]) != location:
                raise invalid_parameter(f"Disk {mid} is in location {disk['location']}, the VM "
                                        f"in {location}.", "dataDisks.managedDisk.id")
            to_attach.append(disk)
            entries.append({"lun": lun, "name": disk["name"], "createOption": "Attach",
                            "caching": dd.get("caching", "None"),
                            "managedDisk": {"storageAccountType": disk["sku"]["name"],
                                            "id": disk["id"]},
                            "deleteOption": dd.get("deleteOption", "Detach"),
                            "diskSizeGB": disk["properties"].get("diskSizeGB"),
                            "toBeDetached": False})
        elif opt == "empty":
            size = dd.get("diskSizeGB")
            if not size:
                raise invalid_parameter("Required parameter 'dataDisks.diskSizeGB' is missing.",
                                        "dataDisks.diskSizeGB")
            name = dd.get("name") or f"{vm_name}_disk{lun + 2}_{uuid.uuid4().hex}"
            did = resource_id(req.subscription_id, req.param("resourceGroupName"),
                              "Microsoft.Compute", "disks", name)
            if sim.store.exists(did):
                raise ArmError(409, "Conflict", f"Disk {name} already exists.")
            sku = (dd.get("managedDisk") or {}).get("storageAccountType", "Premium_LRS")
            to_create.append((did, sku, int(size)))
            entries.append({"lun": lun, "name": name, "createOption": "Empty",
                            "caching": dd.get("caching", "None"),
                            "managedDisk": {"storageAccountType": sku, "id": did},
                            "deleteOption": dd.get("deleteOption", "Detach"),
                            "diskSizeGB": int(size), "toBeDetached": False})
        else:
            raise invalid_parameter(f"Data disk createOption '{dd.get('createOption')}' is not "
                                    "supported (Attach, Empty).", "dataDisks.createOption")
    kept = {((e.get("managedDisk") or {}).get("id") or "").lower() for e in entries}
    to_detach = [d for k, d in cur_by_id.items() if k not in kept]
    return entries, to_attach, to_create, to_detach


def _apply_data_disks(sim, vm_id, location, plan, allocated):
    entries, to_attach, to_create, to_detach = plan
    state_name = "Attached" if allocated else "Reserved"
    for did, sku, size in to_create:
        disk = _disks.new_disk_body(sim, did, location, {}, sku, size, {"createOption": "Empty"})
        disk["managedBy"] = vm_id
        disk["properties"]["diskState"] = state_name
        sim.store.put(did, disk)
    for disk in to_attach:
        disk["managedBy"] = vm_id
        disk["properties"]["diskState"] = state_name
    for entry in to_detach:
        d = sim.store.get((entry.get("managedDisk") or {}).get("id") or "")
        if d is not None:
            d.pop("managedBy", None)
            d["properties"]["diskState"] = "Unattached"
    return entries


# -- OS disk swap (added for vm_backup state=restored) ----------------------------------------
# Azure lets the OS disk of a deallocated VM be replaced by another managed disk of the same OS
# type in the same region through PUT/PATCH of storageProfile.osDisk.managedDisk.id ("Change the
# OS disk used by an Azure VM"); the old disk stays, detached.
def _os_disk_swap_target(sim, vm: dict, osd: dict):
    new_id = (osd.get("managedDisk") or {}).get("id")
    if not new_id or new_id.lower() == os_disk_id(vm).lower():
        return None
    if power(sim, vm["id"]) != "deallocated":
        raise ArmError(409, "OperationNotAllowed", f"The OS disk of VM '{vm['name']}' can be swapped "
                       "only while the VM is stopped (deallocated).")
    disk = sim.store.get(new_id)
    if disk is None:
        raise ArmError(404, "NotFound", f"Disk {new_id} was not found.")
    if disk.get("managedBy"):
        raise ArmError(409, "OperationNotAllowed", f"Disk {disk['name']} is already attached to VM "
                       f"{disk['managedBy']}.")
    if norm_location(disk["location"]) != vm["location"]:
        raise invalid_parameter(f"Disk {new_id} is in location {disk['location']}, the VM in "
                                f"{vm['location']}.", "osDisk.managedDisk.id")
    cur_os = vm["properties"]["storageProfile"]["osDisk"].get("osType")
    if (disk["properties"].get("osType") or cur_os) != cur_os:
        raise invalid_parameter(f"Disk {new_id} has OS type {disk['properties'].get('osType')}, the "
                                f"VM's OS disk {cur_os}.", "osDisk.managedDisk.id")
    return disk


def _swap_os_disk(sim, vm: dict, disk: dict) -> None:
    osd = vm["properties"]["storageProfile"]["osDisk"]
    old = sim.store.get(osd.get("managedDisk", {}).get("id") or "")
    if old is not None:
        old.pop("managedBy", None)
        old["properties"]["diskState"] = "Unattached"
    osd["name"] = disk["name"]
    osd["managedDisk"] = {"storageAccountType": disk["sku"]["name"], "id": disk["id"]}
    osd["diskSizeGB"] = disk["properties"].get("diskSizeGB")
    disk["managedBy"] = vm["id"]
    disk["properties"]["diskState"] = "Reserved"


def _update_vm(sim, req, vm: dict, body: dict, patch: bool):
    props = body.get("properties") or {}
    sp = props.get("storageProfile") or {}
    cur = vm["properties"]
    if not patch:
        if body.get("location") and norm_location(body["location"]) != vm["location"]:
            raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'location' is "
                           "not allowed.", target="location")
    if sp.get("imageReference") and cur["storageProfile"].get("imageReference") and \
            (sp["imageReference"].get("id") or "").lower() != (
            cur["storageProfile"]["imageReference"].get("id") or "").lower():
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'imageReference' is "
                       "not allowed.", target="imageReference")
    osd = sp.get("osDisk") or {}
    swap_to = _os_disk_swap_target(sim, vm, osd)
    data_plan = None
    if "dataDisks" in sp:
        data_plan = _plan_data_disks(sim, req, vm["id"], vm["name"], vm["location"],
                                     sp.get("dataDisks"), cur["storageProfile"].get("dataDisks")
                                     or [])
    if (props.get("osProfile") or {}).get("adminPassword"):
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'adminPassword' is "
                       "not allowed.", target="adminPassword")
    if "tags" in body or not patch:
        tags = validate_tags(body.get("tags"))
        if tags:
            vm["tags"] = tags
        else:
            vm.pop("tags", None)
    if swap_to is not None:
        _swap_os_disk(sim, vm, swap_to)
    if data_plan is not None:
        cur["storageProfile"]["dataDisks"] = _apply_data_disks(
            sim, vm["id"], vm["location"], data_plan, power(sim, vm["id"]) != "deallocated")
    if osd.get("deleteOption"):
        cur["storageProfile"]["osDisk"]["deleteOption"] = osd["deleteOption"]
    size = (props.get("hardwareProfile") or {}).get("vmSize")
    if size and size != cur["hardwareProfile"]["vmSize"]:
        # Azure resizes within the current hardware cluster (a running VM restarts); every
        # size is assumed available here.
        cur["hardwareProfile"]["vmSize"] = size
    for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
        for ref in cur["networkProfile"]["networkInterfaces"]:
            if ref["id"].lower() == (nic.get("id") or "").lower() and \
                    (nic.get("properties") or {}).get("deleteOption"):
                ref["properties"]["deleteOption"] = nic["properties"]["deleteOption"]
    st = state(sim, vm["id"])
    vm["properties"]["provisioningState"] = "Updating"
    vm["etag"] = '"%d"' % (int(vm.get("etag", '"1"').strip('"')) + 1)

    def complete():
        vm["properties"]["provisioningState"] = "Succeeded"
        st["provisioning_time"] = iso(sim.now())
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, sim.duration("vm_update"), complete, fail, location=vm["location"],
                       resource_id=vm["id"])
    sim.hooks.emit("resource.written", resource_id=vm["id"], resource=vm, request_body=body)
    return Response(200, render(sim, vm), sim.ops.headers(op, location=False))


def _preconditions(req, existing):
    """If-Match / If-None-Match against the VM's etag (412 PreconditionFailed)."""
    if_match = req.headers.get("If-Match")
    if_none = req.headers.get("If-None-Match")
    if if_match and (existing is None or (if_match != "*" and if_match != existing.get("etag"))):
        raise ArmError(412, "PreconditionFailed", "The specified precondition 'If-Match' "
                       f"'{if_match}' does not match the current etag.")
    if if_none == "*" and existing is not None:
        raise ArmError(412, "PreconditionFailed", "The resource already exists "
                       "(If-None-Match: *).")


@route("PUT", VM, policy="PutVM")
def put_vm(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    body = req.json()
    existing = sim.store.get(vm_id_of(sub, rg, req.param("vmName")))
    _preconditions(req, existing)
    if existing is not None:
        _busy(sim, existing, "update")
        return _update_vm(sim, req, existing, body, patch=False)
    vm, op = create_vm(sim, req, body)
    return Response(201, render(sim, vm), sim.ops.headers(op, location=False))


@route("PATCH", VM, policy="UpdateVM")
def patch_vm(sim, req):
    vm = get_vm(sim, req)
    _preconditions(req, vm)
    _busy(sim, vm, "update")
    return _update_vm(sim, req, vm, req.json(), patch=True)


@route("GET", VM, policy="LowCostGet")
def get_vm_route(sim, req):
    vm = get_vm(sim, req)
    expand = (req.query.get("$expand") or "").lower()
    return render(sim, vm, expand_instance_view=(expand == "instanceview"))


@route("GET", VM + "/instanceView", policy="LowCostGet")
def get_instance_view(sim, req):
    return instance_view(sim, get_vm(sim, req))


def _list(sim, req, prefix):
    vms = sim.store.list(VM_TYPE, prefix)
    expand = (req.query.get("$expand") or "").lower() == "instanceview" or \
        (req.query.get("statusOnly") or "").lower() == "true"
    return paged(sim, req, [render(sim, v, expand) for v in vms])


@route("GET", RG + "/providers/Microsoft.Compute/virtualMachines", policy="HighCostGet")
def list_vms(sim, req):
    require_rg(sim, req.subscription_id, req.param("resourceGroupName"))
    return _list(sim, req, f"/subscriptions/{req.subscription_id}/resourceGroups/"
                           f"{req.param('resourceGroupName')}/")


@route("GET", SUB + "/providers/Microsoft.Compute/virtualMachines", policy="HighCostGet")
def list_all_vms(sim, req):
    return _list(sim, req, f"/subscriptions/{req.subscription_id}/")


# -- power actions ---------------------------------------------------------------------------
def _power_action(sim, req, action, allowed_from, transit, final, duration_name,
                  on_done=None):
    vm = get_vm(sim, req)
    st = state(sim, vm["id"])
    _busy(sim, vm, action)
    cur = power(sim, vm["id"])
    if st.get("generalized") and action in ("start", "restart"):
        raise operation_not_allowed(f"Operation '{action}' is not allowed on VM '{vm['name']}' "
                                    "since the VM is generalized.")
    if cur not in allowed_from:
        raise operation_not_allowed(f"Operation '{action}' is not allowed on VM '{vm['name']}' "
                                    f"since the VM is {cur}.")
    duration = sim.duration(duration_name)
    if action == "deallocate" and cur == "stopped":
        duration = sim.duration("vm_deallocate_stopped")
    noop = cur == final and action != "restart"
    vm["properties"]["provisioningState"] = "Updating"
    if not noop:
        set_power(sim, vm, transit)

    def complete():
        vm["properties"]["provisioningState"] = "Succeeded"
        st["provisioning_time"] = iso(sim.now())
        st["busy"] = None
        set_power(sim, vm, final)
        if on_done:
            on_done(vm)
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed"
        st["busy"] = None
        set_power(sim, vm, cur)

    op = sim.ops.start(req, duration if not noop else 1.0, complete, fail,
                       location=vm["location"], resource_id=vm["id"])
    st["busy"] = op.id
    return Response(202, None, sim.ops.headers(op))


def _booted(sim):
    def done(vm):
        g = guest_of(sim, vm)
        if g is not None:
            _guest.boot(g)
    return done


@route("POST", VM + "/start", policy="UpdateVM")
def start_vm(sim, req):
    return _power_action(sim, req, "start", ("running", "stopped", "deallocated"), "starting",
                         "running", "vm_start", _booted(sim))


@route("POST", VM + "/powerOff", policy="UpdateVM")
def power_off_vm(sim, req):
    return _power_action(sim, req, "powerOff", ("running", "stopped", "deallocated"),
                         "stopping", "stopped", "vm_power_off")


@route("POST", VM + "/deallocate", policy="UpdateVM")
def deallocate_vm(sim, req):
    return _power_action(sim, req, "deallocate", ("running", "stopped", "deallocated"),
                         "deallocating", "deallocated", "vm_deallocate")


@route("POST", VM + "/restart", policy="UpdateVM")
def restart_vm(sim, req):
    return _power_action(sim, req, "restart", ("running",), "starting", "running",
                         "vm_restart", _booted(sim))


@route("POST", VM + "/generalize", policy="UpdateVM")
def generalize_vm(sim, req):
    vm = get_vm(sim, req)
    _busy(sim, vm, "generalize")
    cur = power(sim, vm["id"])
    if cur not in ("stopped", "deallocated"):
        raise operation_not_allowed(
            f"Operation 'generalize' is not allowed on VM '{vm['name']}' since the VM is {cur}. "
            "Please stop (deallocate) the VM and try again.")
    st = state(sim, vm["id"])
    if not st.get("generalized"):
        st["generalized"] = True
        sim.hooks.emit("vm.generalized", vm_id=vm["id"], vm=vm)
    return Response(200, None)


# -- delete ----------------------------------------------------------------------------------
def delete_vm_now(sim, vm: dict) -> None:
    """Remove a VM, honouring the delete options of its OS disk, data disks and NICs."""
    sp = vm["properties"]["storageProfile"]
    disks_to_handle = [(sp["osDisk"].get("managedDisk", {}).get("id"),
                        sp["osDisk"].get("deleteOption", "Detach"))]
    for dd in sp.get("dataDisks") or []:
        disks_to_handle.append(((dd.get("managedDisk") or {}).get("id"),
                                dd.get("deleteOption", "Detach")))
    for child in list(sim.store.children(vm["id"])):
        sim.store.delete(child["id"])
        if child["type"] == EXT_TYPE:
            sim.hooks.emit("vm.extension.deleted", vm_id=vm["id"], extension=child)
    sim.store.delete(vm["id"])
    for did, opt in disks_to_handle:
        d = sim.store.get(did) if did else None
        if d is None:
            continue
        if opt == "Delete":
            sim.store.delete(did)
            sim.hooks.emit("resource.deleted", resource_id=did, resource=d)
        else:
            d.pop("managedBy", None)
            d["properties"]["diskState"] = "Unattached"
    for ref in vm["properties"]["networkProfile"].get("networkInterfaces") or []:
        nic = sim.store.get(ref["id"])
        if nic is None:
            continue
        if (ref.get("properties") or {}).get("deleteOption") == "Delete":
            sim.store.delete(ref["id"])
            sim.hooks.emit("resource.deleted", resource_id=ref["id"], resource=nic)
        else:
            nic["properties"].pop("virtualMachine", None)
    sim.hooks.emit("vm.deleted", vm_id=vm["id"], vm=vm)
    sim.hooks.emit("resource.deleted", resource_id=vm["id"], resource=vm)


@route("DELETE", VM, policy="DeleteVM")
def delete_vm(sim, req):
    sub, rg = req.subscription_id, req.param("resourceGroupName")
    require_rg(sim, sub, rg)
    vm = sim.store.get(vm_id_of(sub, rg, req.param("vmName")))
    if vm is None:
        return Response(204, None)
    st = state(sim, vm["id"])
    if vm["properties"]["provisioningState"] == "Deleting":
        op = sim.ops.get(st["busy"])
        return Response(202, None, sim.ops.headers(op))
    prev = vm["properties"]["provisioningState"]
    vm["properties"]["provisioningState"] = "Deleting"
    prev_power = power(sim, vm["id"])
    sim.hooks.emit("vm.deleting", vm_id=vm["id"], vm=vm)
    if prev_power != "deallocated":
        set_power(sim, vm, "deallocating")

    def complete():
        delete_vm_now(sim, vm)
        return None

    def fail(error):
        vm["properties"]["provisioningState"] = "Failed" if prev != "Failed" else prev
        st["busy"] = None
        set_power(sim, vm, prev_power)

    op = sim.ops.start(req, sim.duration("vm_delete"), complete, fail, location=vm["location"],
                       resource_id=vm["id"])
    st["busy"] = op.id
    return Response(202, None, sim.ops.headers(op))


# -- run command -----------------------------------------------------------------------------
def _require_running(sim, vm):
    if power(sim, vm["id"]) != "running" or vm["properties"]["provisioningState"] in (
            "Creating", "Deleting"):
        raise ArmError(409, "Conflict", "The operation requires the VM to be running (or set to "
                       "run).")


class _AgentNotReady(Exception):
    def __init__(self, vm_name):
        super().__init__(vm_name)
        self.error = ArmError(409, "VMAgentStatusCommunicationError",
                              f"VM '{vm_name}' has not reported status for VM agent or "
                              "extensions. Verify that the OS is up and healthy, the VM has a "
                              "running VM agent, and that it can establish outbound connections "
                              "to Azure storage.")


def _execute(sim, req, vm, script, parameters):
    """Run a script in the guest. Returns (OpResult, duration_s)."""
    g = guest_of(sim, vm)
    op_name = _guest.parse_op(script)
    if g is None:
        return _guest.OpResult(), sim.duration("run_command")
    if g.get("generalized"):
        # The guest sits in OOBE after sysprep: the VM agent never reports, the command never
        # runs and Compute gives up.
        raise _AgentNotReady(vm["name"])
    res = _guest.run_op(g, op_name, parameters)
    if res.detached == "sysprep":
        fault = getattr(req, "lro_fault", None)
        # an lro_fail fault on a sysprep run command fails sysprep itself, not the command
        if fault is not None:
            req.lro_fault = None
        _start_sysprep(sim, vm, g, fault)
        return res, sim.duration("run_command_detached")
    return res, sim.duration("run_command")


def _start_sysprep(sim, vm, g, fault):
    vm_id = vm["id"]
    sim.hooks.emit("guest.sysprep_started", vm_id=vm_id, vm=vm, guest=g)

    def finish():
        cur = sim.store.get(vm_id)
        forced = None
        if fault is not None:
            forced = fault.get("message") or f"injected failure ({fault.get('code') or 'fault'})"
        if cur is None or power(sim, vm_id) != "running":
            g["sysprep_running"] = False
            return
        ok = _guest.finish_sysprep(g, sim.now(), forced)
        sim.hooks.emit("guest.sysprep_finished", vm_id=vm_id, vm=cur, guest=g, succeeded=ok)
        if ok:
            # sysprep /shutdown: the guest shuts down; Azure shows the VM stopped (allocated)
            set_power(sim, cur, "stopped")

    sim.schedule(sim.duration("sysprep"), finish)
    sim.pacer.expect(vm_id, sim.now() + sim.duration("sysprep"))  # the guest shuts down by itself


def _run_result(res) -> dict:
    return {"value": [
        {"code": "ComponentStatus/StdOut/succeeded", "level": "Info",
         "displayStatus": "Provisioning succeeded", "message": _guest.tail_bytes(res.stdout)},
        {"code": "ComponentStatus/StdErr/succeeded", "level": "Info",
         "displayStatus": "Provisioning succeeded", "message": _guest.tail_bytes(res.stderr)},
    ]}


@route("POST", VM + "/runCommand", policy="UpdateVM")
def run_command(sim, req):
    vm = get_vm(sim, req)
    body = req.json()
    if not body.get("commandId"):
        raise invalid_parameter("Required parameter 'commandId' is missing (null).", "commandId")
    script = body.get("script") or []
    if not isinstance(script, list):
        raise invalid_parameter("'script' must be an array of lines.", "script")
    _require_running(sim, vm)
    st = state(sim, vm["id"])
    if st.get("run_command_busy"):
        op = sim.ops.get(st["run_command_busy"])
        if op is not None and op.status == "InProgress":
            raise ArmError(409, "Conflict", "Run command extension execution is in progress. "
                           "Please wait for completion before invoking a run command.")
    # The guest effect happens when the script runs; the result is returned at completion.
    try:
        res, duration = _execute(sim, req, vm, script, body.get("parameters"))
        result, agent_error = _run_result(res), None
    except _AgentNotReady as exc:
        duration, result, agent_error = sim.duration("run_command"), None, exc.error

    def complete():
        st["run_command_busy"] = None
        if agent_error is not None:
            raise agent_error
        return result

    def fail(error):
        st["run_command_busy"] = None

    op = sim.ops.start(req, duration, complete, fail, location=vm["location"],
                       resource_id=vm["id"])
    st["run_command_busy"] = op.id
    return Response(202, None, sim.ops.headers(op))


def _runcmd_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "virtualMachines", req.param("vmName"), "runCommands",
                       req.param("runCommandName"))


def render_runcmd(sim, rc: dict, expand: bool) -> dict:
    body = copy.deepcopy(rc)
    body["properties"].pop("protectedParameters", None)
    if not expand:
        body["properties"].pop("instanceView", None)
    return body


@route("PUT", VM + "/runCommands/{runCommandName}")
def put_run_command(sim, req):
    vm = get_vm(sim, req)
    body = req.json()
    props = body.get("properties") or {}
    source = props.get("source") or {}
    if not (source.get("script") or source.get("scriptUri") or source.get("commandId")):
        raise invalid_parameter("One of 'source.script', 'source.scriptUri' or "
                                "'source.commandId' is required.", "source")
    _require_running(sim, vm)
    rid = _runcmd_id(req)
    existed = sim.store.exists(rid)
    script_lines = (source.get("script") or "").splitlines()
    start = sim.now()
    rc = {"id": rid, "name": req.param("runCommandName"), "type": RUNCMD_TYPE,
          "location": vm["location"],
          "properties": {"source": copy.deepcopy(source),
                         "parameters": copy.deepcopy(props.get("parameters") or []),
                         "asyncExecution": bool(props.get("asyncExecution", False)),
                         "timeoutInSeconds": int(props.get("timeoutInSeconds", 0) or 0),
                         "treatFailureAsDeploymentFailure": bool(
                             props.get("treatFailureAsDeploymentFailure", False)),
                         "provisioningState": "Updating" if existed else "Creating",
                         "instanceView": {"executionState": "Running",
                                          "executionMessage": "", "exitCode": 0,
                                          "output": "", "error": "",
                                          "startTime": iso(start), "statuses": []}}}
    if props.get("runAsUser"):
        rc["properties"]["runAsUser"] = props["runAsUser"]
    tags = validate_tags(body.get("tags"))
    if tags:
        rc["tags"] = tags
    sim.store.put(rid, rc)
    sim.store.internal(rid)["protectedParameters"] = props.get("protectedParameters") or []
    sim.hooks.emit("resource.written", resource_id=rid, resource=rc, request_body=body)
    try:
        res, duration = _execute(sim, req, vm, script_lines,
                                 (props.get("parameters") or []) +
                                 (props.get("protectedParameters") or []))
        agent_error = None
    except _AgentNotReady as exc:
        res, duration, agent_error = _guest.OpResult(), sim.duration("run_command"), exc.error

    def complete():
        if agent_error is not None:
            rc["properties"]["instanceView"].update({"executionState": "Failed",
                                                     "executionMessage": agent_error.message,
                                                     "exitCode": -1})
            rc["properties"]["provisioningState"] = "Failed"
            raise agent_error
        iv = rc["properties"]["instanceView"]
        iv.update({"executionState": "Succeeded" if res.exit_code == 0 else "Failed",
                   "executionMessage": "Execution completed" if res.exit_code == 0 else
                   "Execution failed", "exitCode": res.exit_code,
                   "output": _guest.tail_bytes(res.stdout),
                   "error": _guest.tail_bytes(res.stderr), "endTime": iso(sim.now())})
        if res.exit_code != 0 and rc["properties"]["treatFailureAsDeploymentFailure"]:
            rc["properties"]["provisioningState"] = "Failed"
            raise ArmError(400, "VMExtensionProvisioningError",
                           f"Run command {rc['name']} failed with exit code {res.exit_code}.")
        rc["properties"]["provisioningState"] = "Succeeded"
        return None

    def fail(error):
        rc["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, duration, complete, fail, location=vm["location"], resource_id=rid)
    return Response(200 if existed else 201, render_runcmd(sim, rc, False),
                    sim.ops.headers(op, location=False))


@route("PATCH", VM + "/runCommands/{runCommandName}")
def patch_run_command(sim, req):
    """Update a run command: changed source/parameters run it again; tags replace."""
    vm = get_vm(sim, req)
    rid = _runcmd_id(req)
    rc = sim.store.get(rid)
    if rc is None:
        raise not_found(RUNCMD_TYPE, f"{req.param('vmName')}/{req.param('runCommandName')}",
                        req.param("resourceGroupName"))
    patch = req.json()
    props = patch.get("properties") or {}
    if "tags" in patch:
        tags = validate_tags(patch.get("tags"))
        if tags:
            rc["tags"] = tags
        else:
            rc.pop("tags", None)
    if not (props.get("source") or "parameters" in props or "protectedParameters" in props):
        rc["properties"]["provisioningState"] = "Updating"

        def complete():
            rc["properties"]["provisioningState"] = "Succeeded"
            return None

        op = sim.ops.start(req, 5.0, complete, None, location=vm["location"], resource_id=rid)
        sim.hooks.emit("resource.written", resource_id=rid, resource=rc, request_body=patch)
        return Response(200, render_runcmd(sim, rc, False), sim.ops.headers(op, location=False))
    merged = {"location": rc["location"], "tags": rc.get("tags"), "properties": {
        "source": props.get("source") or rc["properties"]["source"],
        "parameters": props.get("parameters", rc["properties"]["parameters"]),
        "protectedParameters": props.get("protectedParameters",
                                         sim.store.internal(rid).get("protectedParameters")),
        "asyncExecution": props.get("asyncExecution", rc["properties"]["asyncExecution"]),
        "treatFailureAsDeploymentFailure": props.get(
            "treatFailureAsDeploymentFailure",
            rc["properties"]["treatFailureAsDeploymentFailure"])}}
    req._json = merged  # the PUT path validates and runs it  # pylint: disable=protected-access
    resp = put_run_command(sim, req)
    resp.status = 200
    return resp


@route("GET", VM + "/runCommands/{runCommandName}")
def get_run_command(sim, req):
    get_vm(sim, req)
    rc = sim.store.get(_runcmd_id(req))
    if rc is None:
        raise not_found(RUNCMD_TYPE, f"{req.param('vmName')}/{req.param('runCommandName')}",
                        req.param("resourceGroupName"))
    return render_runcmd(sim, rc, (req.query.get("$expand") or "").lower() == "instanceview")


@route("GET", VM + "/runCommands")
def list_run_commands(sim, req):
    vm = get_vm(sim, req)
    expand = (req.query.get("$expand") or "").lower() == "instanceview"
    return paged(sim, req, [render_runcmd(sim, r, expand)
                            for r in sim.store.list(RUNCMD_TYPE, vm["id"].lower() + "/")])


@route("DELETE", VM + "/runCommands/{runCommandName}")
def delete_run_command(sim, req):
    vm = get_vm(sim, req)
    rid = _runcmd_id(req)
    if not sim.store.exists(rid):
        return Response(204, None)

    def complete():
        sim.store.delete(rid)
        return None

    op = sim.ops.start(req, 10.0, complete, None, location=vm["location"], resource_id=rid)
    return Response(202, None, sim.ops.headers(op))


# -- extensions ------------------------------------------------------------------------------
def _ext_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "virtualMachines", req.param("vmName"), "extensions",
                       req.param("vmExtensionName"))


def render_extension(ext: dict) -> dict:
    body = copy.deepcopy(ext)
    body["properties"].pop("protectedSettings", None)
    body["properties"].pop("protectedSettingsFromKeyVault", None)
    return body


@route("PUT", VM + "/extensions/{vmExtensionName}")
def put_extension(sim, req):
    return _write_extension(sim, req, req.json())


@route("PATCH", VM + "/extensions/{vmExtensionName}")
def patch_extension(sim, req):
    """Update: what is sent replaces, the rest stays; the extension runs again (as Azure
    re-applies an extension on update)."""
    get_vm(sim, req)
    ext = sim.store.get(_ext_id(req))
    if ext is None:
        raise not_found(EXT_TYPE, f"{req.param('vmName')}/{req.param('vmExtensionName')}",
                        req.param("resourceGroupName"))
    patch = req.json()
    cur = ext["properties"]
    props = {k: copy.deepcopy(cur[k]) for k in ("publisher", "type", "typeHandlerVersion",
                                                 "autoUpgradeMinorVersion", "settings")
             if k in cur}
    props["protectedSettings"] = copy.deepcopy(
        sim.store.internal(ext["id"]).get("protectedSettings") or {})
    props.update(copy.deepcopy(patch.get("properties") or {}))
    body = {"location": ext["location"], "properties": props,
            "tags": patch["tags"] if "tags" in patch else ext.get("tags")}
    resp = _write_extension(sim, req, body, request_body=patch)
    resp.status = 200
    return resp


def _write_extension(sim, req, body, request_body=None):
    vm = get_vm(sim, req)
    props = body.get("properties") or {}
    for key in ("publisher", "type", "typeHandlerVersion"):
        if not props.get(key):
            raise invalid_parameter(f"Required parameter '{key}' is missing (null).", key)
    if power(sim, vm["id"]) != "running" or vm["properties"]["provisioningState"] in (
            "Creating", "Deleting"):
        raise operation_not_allowed("Cannot modify extensions in the VM when the VM is not "
                                    "running.")
    rid = _ext_id(req)
    existing = sim.store.get(rid)
    if existing and existing["properties"]["publisher"].lower() != props["publisher"].lower():
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'publisher' is not "
                       "allowed.", target="publisher")
    tags = validate_tags(body.get("tags"))
    ext = {"id": rid, "name": req.param("vmExtensionName"), "type": EXT_TYPE,
           "location": vm["location"],
           "properties": {"autoUpgradeMinorVersion": bool(props.get("autoUpgradeMinorVersion",
                                                                    False)),
                          "provisioningState": "Updating" if existing else "Creating",
                          "publisher": props["publisher"], "type": props["type"],
                          "typeHandlerVersion": props["typeHandlerVersion"],
                          "settings": copy.deepcopy(props.get("settings") or {})}}
    for k in ("enableAutomaticUpgrade", "suppressFailures", "forceUpdateTag"):
        if k in props:
            ext["properties"][k] = props[k]
    if tags:
        ext["tags"] = tags
    protected = copy.deepcopy(props.get("protectedSettings") or {})
    sim.store.put(rid, ext)
    sim.store.internal(rid)["protectedSettings"] = protected
    outcome = {"duration_s": sim.duration("vm_extension"), "error": None}
    sim.hooks.emit("vm.extension.provisioning", vm_id=vm["id"], vm=vm, extension=ext,
                   protected_settings=protected, outcome=outcome)
    sim.hooks.emit("resource.written", resource_id=rid, resource=ext,
                   request_body=request_body if request_body is not None else body)

    def complete():
        if outcome.get("error"):
            ext["properties"]["provisioningState"] = "Failed"
            err = outcome["error"]
            raise ArmError(400, err.get("code", "VMExtensionProvisioningError"),
                           err.get("message", "VM has reported a failure when processing "
                                   "extension."))
        ext["properties"]["provisioningState"] = "Succeeded"
        sim.hooks.emit("vm.extension.created", vm_id=vm["id"], vm=vm, extension=ext,
                       protected_settings=protected)
        return None

    def fail(error):
        ext["properties"]["provisioningState"] = "Failed"

    op = sim.ops.start(req, float(outcome["duration_s"]), complete, fail,
                       location=vm["location"], resource_id=rid)
    return Response(200 if existing else 201, render_extension(ext),
                    sim.ops.headers(op, location=False))


@route("GET", VM + "/extensions/{vmExtensionName}")
def get_extension(sim, req):
    get_vm(sim, req)
    ext = sim.store.get(_ext_id(req))
    if ext is None:
        raise not_found(EXT_TYPE, f"{req.param('vmName')}/{req.param('vmExtensionName')}",
                        req.param("resourceGroupName"))
    return render_extension(ext)


@route("GET", VM + "/extensions")
def list_extensions(sim, req):
    vm = get_vm(sim, req)
    return {"value": [render_extension(e)
                      for e in sim.store.list(EXT_TYPE, vm["id"].lower() + "/")]}


@route("DELETE", VM + "/extensions/{vmExtensionName}")
def delete_extension(sim, req):
    vm = get_vm(sim, req)
    rid = _ext_id(req)
    ext = sim.store.get(rid)
    if ext is None:
        return Response(204, None)
    ext["properties"]["provisioningState"] = "Deleting"

    def complete():
        sim.store.delete(rid)
        sim.hooks.emit("vm.extension.deleted", vm_id=vm["id"], extension=ext)
        return None

    op = sim.ops.start(req, sim.duration("vm_extension_delete"), complete, None,
                       location=vm["location"], resource_id=rid)
    return Response(202, None, sim.ops.headers(op))


# -- scenario --------------------------------------------------------------------------------
class _ScenarioReq:
    """Just enough of a Request for create_vm when loading a scenario."""

    def __init__(self, sim, rg, name):
        self.subscription_id = sim.subscription_id
        self.api_version = "2026-04-01"
        self.lro_fault = None
        self._p = {"resourcegroupname": rg, "vmname": name}

    def param(self, name):
        return self._p[name.lower()]


def load_vms(sim, vms):
    for v in vms:
        rg = v["resource_group"]
        rgb = require_rg(sim, sim.subscription_id, rg)
        img = v["image"]
        version_id = resource_id(sim.subscription_id, img.get("resource_group", rg),
                                 "Microsoft.Compute", "galleries", img["gallery"], "images",
                                 img["image"], "versions", img["version"])
        subnet = v["subnet"]
        if not subnet.startswith("/"):
            vnet, sn = subnet.split("/")
            subnet = resource_id(sim.subscription_id, rg, "Microsoft.Network", "virtualNetworks",
                                 vnet, "subnets", sn)
        body = {"location": v.get("location", rgb["location"]), "tags": v.get("tags") or {},
                "properties": {
                    "hardwareProfile": {"vmSize": v.get("size", "Standard_D4s_v5")},
                    "storageProfile": {"imageReference": {"id": version_id},
                                       "osDisk": {"createOption": "FromImage",
                                                  "deleteOption": v.get("os_disk_delete_option",
                                                                        "Delete"),
                                                  "managedDisk": {
                                                      "storageAccountType": "Premium_LRS"}}},
                    "osProfile": {"computerName": v.get("computer_name", v["name"][:15]),
                                  "adminUsername": v.get("admin_username", "azureadmin"),
                                  "adminPassword": "Scenario-Passw0rd!"},
                    "networkProfile": {"networkApiVersion": "2020-11-01",
                                       "networkInterfaceConfigurations": [{
                                           "name": f"{v['name']}-nic", "properties": {
                                               "primary": True, "deleteOption": "Delete",
                                               "ipConfigurations": [{
                                                   "name": "ipconfig1",
                                                   "properties": {"subnet": {"id": subnet}}}]}}]},
                    "licenseType": "Windows_Client"}}
        vm, _ = create_vm(sim, _ScenarioReq(sim, rg, v["name"]), body, direct=True,
                          power_state=v.get("power_state", "running"))
        if v.get("guest"):
            did = os_disk_id(vm)
            _disks.set_guest(sim, did, _guest.make_guest(v["guest"], _disks.guest(sim, did)))
        if v.get("generalized"):
            state(sim, vm["id"])["generalized"] = True


def register(sim):
    sim.scenario_section("virtual_machines", load_vms, 40)
