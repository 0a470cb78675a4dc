# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Deploy named session hosts from a gallery image version and register them with a host pool.

Per host, as Azure Virtual Desktop does it: a VM from the image version (VM-owned NIC and OS disk
that go with the VM, Trusted Launch when the image definition supports it), then the join
extension (Entra ID ``AADLoginForWindows`` or AD ``JsonADDomainExtension``), then the PowerShell
DSC extension that installs the AVD agent and registers the VM with the registration token in
its *protected* settings. Every phase runs for all hosts at once (start every operation, then
wait for them together); the registration wait reads the pool's session-host list once per poll.

The registration token: when the pool holds a valid token with at least an hour left, it is
reused; otherwise one is minted with a short expiry computed from the ARM clock and deleted again
once the hosts registered (or failed). Its value is registered with ``no_log_values`` by the
caller (``on_secret``) and never appears in a result, tag or message.
"""

from __future__ import annotations

import datetime
import functools
import time

from ._errors import AzureModuleError, PreconditionError, TimeoutError, azure_errors, ignore_not_found  # pylint: disable=redefined-builtin
from ._hostpool import (TAG_ROLLOUT, add_instance_views, format_time, get_pool, list_session_hosts, list_vms,
                        vm_image)
from ._ids import parse_resource_id
from ._validate import check_admin_password, check_admin_username, check_computer_name, check_tags
from ._module import to_wire
from ._rollout import normalize_id, short_name
from ._vm import power_state
from ._wait import Deadline, start_operation, wait_for, wait_operation

AGENT_CONFIGURATION_URL = ("https://wvdportalstorageblob.blob.core.windows.net/galleryartifacts/"
                           "Configuration_1.0.02790.438.zip")
DSC_EXTENSION = "Microsoft.PowerShell.DSC"
AAD_EXTENSION = "AADLoginForWindows"
AD_EXTENSION = "JsonADDomainExtension"
INTUNE_MDM_ID = "0000000a-0000-0000-c000-000000000000"
# Azure accepts registration tokens that live between one hour and 30 days.
TOKEN_LIFETIME = datetime.timedelta(hours=2)
TOKEN_MIN_LEFT = datetime.timedelta(hours=1)


class DeployContext:
    def __init__(self, compute, desktop, resource_group, host_pool, server_now, on_secret,
                 sleep=time.sleep, clock=time.monotonic, log=None):
        self.compute = compute
        self.desktop = desktop
        self.resource_group = resource_group
        self.host_pool = host_pool
        self.server_now = server_now
        self.on_secret = on_secret
        self.sleep = sleep
        self.clock = clock
        self.log = log or (lambda message: None)


# --------------------------------------------------------------------------- input checks

def check_names(names):
    """Session host names: Windows computer names (1-15 characters), each once."""
    seen = set()
    for name in names:
        check_computer_name(name, option="names")
        if name.lower() in seen:
            raise ValueError("Option 'names': %r is listed twice" % name)
        seen.add(name.lower())


def check_password(password, option="admin_password"):
    """Required when a VM is created, then with Azure's rules (``_validate.check_admin_password``)."""
    if not password:
        raise ValueError("%s is required to create new session host VMs" % option)
    check_admin_password(password, option)


def check_options(params):
    """Everything ``session_host_deploy`` can judge before reading Azure; returns the user tags as written."""
    check_names(params["names"])
    check_join(params["join"])
    check_image_version_id(params["image_version_id"])
    check_admin_username(params["admin_username"])
    if params["admin_password"]:
        check_admin_password(params["admin_password"])
    return check_tags(params["tags"], added=1 if params["rollout_id"] else 0)


def check_join(join):
    kind = join.get("type")
    if kind == "ad":
        missing = [key for key in ("domain", "user", "password") if not join.get(key)]
        if missing:
            raise ValueError("join.type=ad needs join.%s" % ", join.".join(missing))
    elif join.get("domain") or join.get("password"):
        raise ValueError("join.domain, join.user and join.password apply only to join.type=ad")


def check_image_version_id(value):
    parts = parse_resource_id(value)
    if (parts["type"] or "").lower() != "galleries/images/versions":
        raise ValueError("image_version_id must be a gallery image version id "
                         "(.../galleries/<gallery>/images/<image>/versions/<x.y.z>), got %r" % value)
    return parts


# --------------------------------------------------------------------------- bodies

def security_profile(image_definition, security_type):
    """Trusted Launch as the image definition asks: required, supported (default on) or not."""
    features = {f.get("name", "").lower(): str(f.get("value", "")) for f in
                ((image_definition.get("properties") or {}).get("features") or [])}
    declared = features.get("securitytype", "")
    generation = ((image_definition.get("properties") or {}).get("hyperVGeneration") or "").upper()
    required = declared.lower() in ("trustedlaunch", "trustedlaunchandconfidentialvmsupported") \
        and "supported" not in declared.lower()
    supported = declared.lower().startswith("trustedlaunch") and generation != "V1"
    if security_type == "auto":
        security_type = "TrustedLaunch" if supported else "Standard"
    if security_type == "Standard" and required:
        raise ValueError("security_type=Standard: image definition %s requires Trusted Launch"
                         % image_definition.get("name"))
    if security_type == "TrustedLaunch" and not supported:
        raise ValueError("security_type=TrustedLaunch: image definition %s does not support Trusted Launch "
                         "(securityType %r, generation %s)" % (image_definition.get("name"), declared, generation))
    if security_type == "TrustedLaunch":
        return {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    return None


def vm_body(name, location, params, image_version_id, security, tags):
    body = {
        "location": location,
        "tags": tags,
        "properties": {
            "hardwareProfile": {"vmSize": params["vm_size"]},
            "storageProfile": {
                "imageReference": {"id": image_version_id},
                "osDisk": {"name": "%s-osdisk" % name, "createOption": "FromImage", "deleteOption": "Delete",
                           "caching": "ReadWrite",
                           "managedDisk": {"storageAccountType": params["os_disk_type"]}},
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": params["admin_username"],
                "adminPassword": params["admin_password"],
                "windowsConfiguration": {"provisionVMAgent": True, "enableAutomaticUpdates": False},
            },
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [{
                    "name": "%s-nic" % name,
                    "properties": {
                        "primary": True,
                        "deleteOption": "Delete",
                        "ipConfigurations": [{"name": "ipconfig1",
                                              "properties": {"subnet": {"id": params["subnet_id"]}}}],
                    },
                }],
            },
            "licenseType": params["license_type"],
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
        },
    }
    if security:
        body["properties"]["securityProfile"] = security
    if params["join"]["type"] == "entra":
        # AADLoginForWindows needs the VM's system-assigned identity
        body["identity"] = {"type": "SystemAssigned"}
    return body


def join_extension(location, join):
    if join["type"] == "entra":
        settings = {"mdmId": INTUNE_MDM_ID} if join.get("intune") else {}
        return AAD_EXTENSION, {"location": location, "properties": {
            "publisher": "Microsoft.Azure.ActiveDirectory", "type": "AADLoginForWindows",
            "typeHandlerVersion": "2.0", "autoUpgradeMinorVersion": True, "settings": settings}}
    user = join["user"] if "@" in join["user"] or "\\" in join["user"] else "%s@%s" % (join["user"], join["domain"])
    settings = {"Name": join["domain"], "User": user, "Restart": "true", "Options": "3"}
    if join.get("ou_path"):
        settings["OUPath"] = join["ou_path"]
    return AD_EXTENSION, {"location": location, "properties": {
        "publisher": "Microsoft.Compute", "type": "JsonADDomainExtension", "typeHandlerVersion": "1.3",
        "autoUpgradeMinorVersion": True, "settings": settings,
        "protectedSettings": {"Password": join["password"]}}}


def dsc_extension(location, host_pool, token, join, configuration_url, force_update_tag=None):
    body = {"location": location, "properties": {
        "publisher": "Microsoft.Powershell", "type": "DSC", "typeHandlerVersion": "2.73",
        "autoUpgradeMinorVersion": True,
        "settings": {
            "modulesUrl": configuration_url,
            "configurationFunction": "Configuration.ps1\\AddSessionHost",
            "properties": {"hostPoolName": host_pool, "aadJoin": join["type"] == "entra",
                           "UseAgentDownloadEndpoint": True,
                           "mdmId": INTUNE_MDM_ID if join["type"] == "entra" and join.get("intune") else ""},
        },
        # the token is a secret: protected settings are encrypted and never returned by Azure
        "protectedSettings": {"properties": {"registrationInfoToken": token}},
    }}
    if force_update_tag:
        body["properties"]["forceUpdateTag"] = force_update_tag
    return body


# --------------------------------------------------------------------------- registration token

class RegistrationToken:
    """Reuse a valid token of the pool, or mint a short one and delete it afterwards."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.minted = False
        self.value = None
        self.expires = None

    def acquire(self):
        ctx = self.ctx
        for item in to_wire(ctx.desktop.host_pools.list_registration_tokens(ctx.resource_group,
                                                                            ctx.host_pool)).get("value") or []:
            expires = _parse(item.get("expirationTime"))
            if item.get("token") and expires and expires - ctx.server_now() >= TOKEN_MIN_LEFT:
                ctx.on_secret(item["token"])
                self.value, self.expires = item["token"], expires
                return self
        expires = ctx.server_now() + TOKEN_LIFETIME
        ctx.desktop.host_pools.update(ctx.resource_group, ctx.host_pool, host_pool={"properties": {
            "registrationInfo": {"expirationTime": format_time(expires), "registrationTokenOperation": "Update"}}})
        self.minted = True
        info = to_wire(ctx.desktop.host_pools.retrieve_registration_token(ctx.resource_group, ctx.host_pool))
        if not info.get("token"):
            raise PreconditionError("host pool %s returned no registration token after minting one" % ctx.host_pool)
        ctx.on_secret(info["token"])
        self.value, self.expires = info["token"], _parse(info.get("expirationTime")) or expires
        return self

    def release(self):
        if not self.minted:
            return False
        ctx = self.ctx
        ctx.desktop.host_pools.update(ctx.resource_group, ctx.host_pool, host_pool={"properties": {
            "registrationInfo": {"registrationTokenOperation": "Delete"}}})
        self.minted = False
        return True


def _parse(value):
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


# --------------------------------------------------------------------------- the deployment

STOPPED = ("stopped", "deallocated")
# A VM that an earlier run, killed mid-operation, left being created or updated, or between power states: Azure
# refuses extensions until it is running ("Cannot modify extensions in the VM when the VM is not running",
# OperationNotAllowed, measured against the simulator's crash test), so it is waited for first.
UNSETTLED_PROVISIONING = ("creating", "updating")
TRANSITIONAL_POWER = ("starting", "stopping", "deallocating")


def unsettled(vm):
    """Whether ``vm`` (a wire dict with its instance view) is still being created or updated, or changing power."""
    provisioning = (((vm or {}).get("properties") or {}).get("provisioningState") or "").lower()
    return provisioning in UNSETTLED_PROVISIONING or power_state(vm, default=None) in TRANSITIONAL_POWER


def _new_report(name):
    return {"name": name, "vm_id": None, "action": None, "registered": False, "status": None,
            "session_host_name": None, "failed": False, "reason": None, "cleaned_up": False, "started": False}


def _wait_all(pollers, deadline, reports, phase):
    """Wait for LROs already running side by side; record failures per host. An entry is
    ``(name, poller)``, or ``(name, poller, start)`` for an operation safe to start again after a
    transient failure (``wait_operation``)."""
    for entry in pollers:
        name, poller, start = entry[0], entry[1], (entry[2] if len(entry) > 2 else None)
        try:
            result = wait_operation(poller, deadline, "%s %s" % (phase, name), restart=start)
        except TimeoutError:
            reports[name].update(failed=True, reason="%s did not finish before the timeout" % phase)
            continue
        except AzureModuleError as error:
            reports[name].update(failed=True, reason="%s failed: %s" % (phase, error.message))
            continue
        if phase == "create VM" and result is not None:
            reports[name]["vm_id"] = to_wire(result).get("id")


def plan_hosts(ctx, names, image_version_id):
    """What exists already: ``{name: {"vm": wire or None, "session_host": wire or None}}``."""
    wanted = {name.lower() for name in names}
    vms = {(vm.get("name") or "").lower(): vm for vm in list_vms(ctx.compute, ctx.resource_group)
           if (vm.get("name") or "").lower() in wanted}
    add_instance_views(ctx.compute, list(vms.values()))  # power state: a stopped host is started
    hosts = {short_name(sh.get("name")): sh for sh in list_session_hosts(ctx.desktop, ctx.resource_group,
                                                                         ctx.host_pool)}
    out = {}
    for name in names:
        vm = vms.get(name.lower())
        if vm is not None:
            image = vm_image(vm)
            if normalize_id(image["image_version_id"]) != normalize_id(image_version_id):
                raise PreconditionError(
                    "VM %s exists in %s but runs %s, not %s; it is left unchanged. Choose another name or remove "
                    "the VM first" % (name, ctx.resource_group, image["image_version_id"] or "another image",
                                      image_version_id))
        out[name] = {"vm": vm, "session_host": hosts.get(name.lower())}
    return out


def _available(session_host):
    props = (session_host or {}).get("properties") or {}
    return (props.get("status") or "").lower() == "available"


def deploy(ctx, params, names, check_mode, timeout, poll_interval):
    """Create, join and register ``names``; returns ``(changed, result)``; raises with ``partial``."""
    image_version_id = params["image_version_id"]
    parts = check_image_version_id(image_version_id)
    state = plan_hosts(ctx, names, image_version_id)
    work = _work(names, state)
    reports = _initial_reports(names, state, work)
    changed = bool(work["create"] or work["register"] or work["start"])
    if work["create"]:
        check_password(params["admin_password"])
        if not params["subnet_id"]:
            raise ValueError("subnet_id is required to create %s" % ", ".join(work["create"]))
    if check_mode or not changed and all(_available(state[n]["session_host"]) for n in names):
        return changed, _result(reports)

    deadline = Deadline(timeout, clock=ctx.clock)
    started = ctx.server_now()
    setup = _setup(ctx, params, parts, state)
    token = RegistrationToken(ctx)
    try:
        _run_phases(ctx, params, names, state, work, reports, setup, token, deadline, poll_interval)
    finally:
        token_deleted = _release_token(ctx, token)
    return changed, _outcome(ctx, params, names, reports, token_deleted, started, deadline)


def _work(names, state):
    """Which hosts need a VM, a registration, or a start."""
    return {
        "create": [n for n in names if state[n]["vm"] is None],
        "register": [n for n in names if state[n]["session_host"] is None],
        # a VM of an earlier run that a scaling plan or an operator stopped serves nobody until started
        "start": [n for n in names if state[n]["vm"] is not None and power_state(state[n]["vm"], default=None) in STOPPED],
        "settle": [n for n in names if state[n]["vm"] is not None and unsettled(state[n]["vm"])],
    }


def _initial_reports(names, state, work):
    """One report per host saying what it has and what this run does to it."""
    reports = {name: _new_report(name) for name in names}
    for name in names:
        vm = state[name]["vm"]
        sh = state[name]["session_host"]
        reports[name]["vm_id"] = (vm or {}).get("id")
        if sh is not None:
            reports[name].update(registered=True, status=(sh.get("properties") or {}).get("status"),
                                 session_host_name=(sh.get("name") or "").rsplit("/", 1)[-1])
        reports[name]["started"] = name in work["start"]
        if vm is None:
            reports[name]["action"] = "create"
        elif sh is None:
            reports[name]["action"] = "register"
        else:
            reports[name]["action"] = "none"
    return reports


def _setup(ctx, params, parts, state):
    """The pool check, location, security profile and tags every new VM gets."""
    pool = get_pool(ctx.desktop, ctx.resource_group, ctx.host_pool)
    if (((pool.get("properties") or {}).get("hostPoolType")) or "").lower() == "personal":
        raise PreconditionError("host pool %s is a Personal pool; session_host_deploy adds hosts to pooled host "
                                "pools only" % ctx.host_pool)
    definition = to_wire(ctx.compute.gallery_images.get(parts["resource_group"], parts["names"][0],
                                                        parts["names"][1]))
    tags = dict(params["tags"] or {})
    if params["rollout_id"]:
        tags[TAG_ROLLOUT] = params["rollout_id"]
    return {"location": params["location"] or _default_location(state, pool),
            "security": security_profile(definition, params["security_type"]),
            "tags": tags}


def _run_phases(ctx, params, names, state, work, reports, setup, token, deadline, poll_interval):
    """Every phase for all hosts at once; a host that fails a phase skips the later ones."""
    location = setup["location"]
    # 1. VMs, all at once
    pollers = []
    for name in work["create"]:
        body = vm_body(name, location, params, params["image_version_id"], setup["security"], setup["tags"])
        start = functools.partial(ctx.compute.virtual_machines.begin_create_or_update, ctx.resource_group, name, body)
        pollers.append((name, start_operation(start, "create VM '%s'" % name), start))
    ctx.log("session_host_deploy: creating %d VMs" % len(pollers))
    _wait_all(pollers, deadline, reports, "create VM")
    # 1b. start stopped VMs (extensions and the agent need a running VM), all at once; first wait for the VMs a
    # killed run left mid-creation: one that settles stopped is started too
    to_start = list(work["start"]) + _settle(ctx, work["settle"], deadline, poll_interval)
    starts = [(name, functools.partial(ctx.compute.virtual_machines.begin_start, ctx.resource_group, name))
              for name in to_start]
    pollers = [(name, start_operation(start, "start VM '%s'" % name), start) for name, start in starts]
    if pollers:
        ctx.log("session_host_deploy: starting %d stopped VMs" % len(pollers))
    _wait_all(pollers, deadline, reports, "start VM")
    pending = [n for n in work["register"] if not reports[n]["failed"]]
    existing_ext = {n: _extensions(ctx, n) for n in pending if state[n]["vm"] is not None}
    pending = _join(ctx, params, pending, existing_ext, reports, location, deadline)
    if pending:
        _install_agent(ctx, params, pending, existing_ext, reports, location, token, deadline)
    # 4. wait until every host is registered and Available: one session-host list per poll
    waiting = [n for n in names if not reports[n]["failed"]]
    _wait_registered(ctx, waiting, reports, deadline, poll_interval)


def _settle(ctx, names, deadline, poll_interval):
    """Wait (one VM list per poll) until ``names`` are created and between no power states; those now stopped."""
    if not names:
        return []
    wanted = {name.lower() for name in names}

    def settled():
        vms = [vm for vm in list_vms(ctx.compute, ctx.resource_group) if (vm.get("name") or "").lower() in wanted]
        add_instance_views(ctx.compute, vms)
        return None if any(unsettled(vm) for vm in vms) else (vms or [{}])

    ctx.log("session_host_deploy: waiting for %d VMs an earlier run left mid-operation" % len(names))
    vms = wait_for(settled, deadline, poll_interval, "VMs %s to finish their creation" % ", ".join(sorted(names)))
    return [vm["name"] for vm in vms if vm and power_state(vm, default=None) in STOPPED]


def _join(ctx, params, pending, existing_ext, reports, location, deadline):
    """2. The join extension (before the agent: it registers only on a joined machine); the hosts still going."""
    pollers = []
    for name in pending:
        ext_name, ext_body = join_extension(location, params["join"])
        if _ext_succeeded(existing_ext.get(name), ext_name):
            continue
        pollers.append((name, ctx.compute.virtual_machine_extensions.begin_create_or_update(
            ctx.resource_group, name, ext_name, ext_body)))
    _wait_all(pollers, deadline, reports, "join (%s)" % params["join"]["type"])
    return [n for n in pending if not reports[n]["failed"]]


def _install_agent(ctx, params, pending, existing_ext, reports, location, token, deadline):
    """3. The AVD agent with a fresh registration token."""
    token.acquire()
    stamp = format_time(ctx.server_now())
    pollers = []
    for name in pending:
        rerun = DSC_EXTENSION in (existing_ext.get(name) or {})
        body = dsc_extension(location, ctx.host_pool, token.value, params["join"],
                             params["agent_configuration_url"], force_update_tag=stamp if rerun else None)
        pollers.append((name, ctx.compute.virtual_machine_extensions.begin_create_or_update(
            ctx.resource_group, name, DSC_EXTENSION, body)))
    _wait_all(pollers, deadline, reports, "AVD agent (DSC) registration")


def _release_token(ctx, token):
    """Delete the token this run minted; whether it did (a failure to delete is only logged)."""
    try:
        with azure_errors("delete the registration token"):
            return token.release()
    except AzureModuleError:  # best effort: the token expires by itself, the hosts' result matters more
        ctx.log("session_host_deploy: could not delete the registration token it minted")
        return None


def _outcome(ctx, params, names, reports, token_deleted, started, deadline):
    """The result, or a PreconditionError (with the partial result) when some hosts failed."""
    failed = [n for n in names if reports[n]["failed"]]
    result = _result(reports)
    result["registration_token_deleted"] = bool(token_deleted)
    result["duration_s"] = int((ctx.server_now() - started).total_seconds())
    if not failed:
        return result
    if params["on_failure"] == "delete":
        _clean_up(ctx, failed, reports, deadline)
    result = _result(reports)
    raise PreconditionError(
        "%d of %d session hosts failed: %s" % (len(failed), len(names), "; ".join(
            "%s: %s" % (n, reports[n]["reason"]) for n in failed)),
        partial=dict(result, changed=True),
        hint="Failed hosts were %s; the others are registered. Fix the cause and run again." % (
            "deleted" if params["on_failure"] == "delete" else "left for inspection"))


def _default_location(state, pool):
    for item in state.values():
        if item["vm"] is not None and item["vm"].get("location"):
            return item["vm"]["location"]
    return pool.get("location")


def _extensions(ctx, name):
    """``{extension name: wire dict}`` of a VM (one list call)."""
    listed = to_wire(ctx.compute.virtual_machine_extensions.list(ctx.resource_group, name))
    items = listed.get("value") or [] if isinstance(listed, dict) else listed or []
    return {item.get("name"): item for item in items}


def _ext_succeeded(extensions, name):
    ext = (extensions or {}).get(name)
    return bool(ext) and (ext.get("properties") or {}).get("provisioningState") == "Succeeded"


def _wait_registered(ctx, names, reports, deadline, poll_interval):
    remaining = set(names)
    while remaining:
        hosts = {short_name(sh.get("name")): sh for sh in list_session_hosts(ctx.desktop, ctx.resource_group,
                                                                             ctx.host_pool)}
        for name in list(remaining):
            sh = hosts.get(name.lower())
            if sh is None:
                continue
            reports[name].update(registered=True, status=(sh.get("properties") or {}).get("status"),
                                 session_host_name=(sh.get("name") or "").rsplit("/", 1)[-1])
            if _available(sh):
                remaining.discard(name)
        ctx.log("session_host_deploy: %d of %d hosts registered and Available" % (
            len(names) - len(remaining), len(names)))
        if not remaining:
            return
        if deadline.expired():
            for name in remaining:
                reports[name].update(failed=True, reason=(
                    "registered but %s, not Available, when the timeout passed" % reports[name]["status"]
                    if reports[name]["registered"] else "not registered with the host pool before the timeout"))
            return
        ctx.sleep(min(poll_interval, max(deadline.remaining(), 0.0)))


def _clean_up(ctx, failed, reports, deadline):
    """Delete the failed hosts' session-host entries and VMs (OS disk and NIC go with the VM)."""
    pollers = []
    for name in failed:
        if reports[name]["session_host_name"]:
            with ignore_not_found():
                ctx.desktop.session_hosts.delete(ctx.resource_group, ctx.host_pool, reports[name]["session_host_name"],
                                                 force=False)
        start = functools.partial(ctx.compute.virtual_machines.begin_delete, ctx.resource_group, name)
        with ignore_not_found() as outcome:
            pollers.append((name, start_operation(start, "delete VM '%s'" % name), start))
        if not outcome.found:
            reports[name]["cleaned_up"] = True
    cleanup_deadline = Deadline(max(deadline.remaining(), 600.0), clock=ctx.clock)
    for name, poller, start in pollers:
        try:
            wait_operation(poller, cleanup_deadline, "delete VM '%s'" % name, restart=start)
            reports[name]["cleaned_up"] = True
        except AzureModuleError:  # best effort: the host is reported as not cleaned up, the run goes on
            reports[name]["cleaned_up"] = False


def _result(reports):
    rows = [reports[name] for name in sorted(reports)]
    return {
        "session_hosts": rows,
        "created": [r["name"] for r in rows if r["action"] == "create" and not r["failed"]],
        "registered": [r["name"] for r in rows if r["registered"] and not r["failed"]],
        "failed_hosts": [r["name"] for r in rows if r["failed"]],
    }
