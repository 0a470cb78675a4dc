#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: session_host_deploy
short_description: Deploy named Azure Virtual Desktop session hosts from a gallery image version
version_added: 0.1.0
description:
  - Creates one VM per name from O(image_version_id) (VM-owned NIC in O(subnet_id) and OS disk,
    both deleted with the VM; no public IP; Trusted Launch when the image definition supports or
    requires it), joins it (Entra ID or Active Directory), installs the Azure Virtual Desktop agent
    through the PowerShell DSC extension with a registration token in its protected settings, and
    waits until every host is registered with O(host_pool) and C(Available).
  - All hosts are deployed side by side - every operation of a phase is started before the module
    waits for them - and the registration wait reads the session-host list once per poll.
  - The registration token is a valid token of the pool with at least an hour left, or a new one
    that expires two hours later on the Azure Resource Manager clock and is deleted again when the
    hosts are registered. It is never returned, logged or written into a tag.
  - Hosts whose VM already exists from the same image version are not recreated; a VM that is not
    registered yet is joined and registered again. A VM with the same name from another image fails the task
    before anything changes.
  - An existing VM that is stopped or deallocated (a scaling plan or an operator stopped a host of an
    interrupted rollout) is started again before it is joined and registered, or waited for.
  - A host that fails is reported with the reason and deleted or kept as O(on_failure) says; the task
    then fails after the other hosts finished.
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  resource_group:
    description: Resource group of the host pool and of the new VMs.
    type: str
    required: true
  host_pool:
    description: Name of the (pooled) host pool the hosts register with.
    type: str
    required: true
  image_version_id:
    description: Id of the gallery image version to deploy (C(.../galleries/<g>/images/<i>/versions/<x.y.z>)).
    type: str
    required: true
  names:
    description:
      - VM names, also the Windows computer names - 1-15 letters, digits and hyphens, starting with a letter or
        digit, not only digits. Each name at most once.
      - An empty list deploys nothing and reads nothing from Azure; the options are still checked.
    type: list
    elements: str
    required: true
  vm_size:
    description: VM size.
    type: str
    default: Standard_D4s_v5
  subnet_id:
    description: Subnet for the VMs' network interfaces. Required when a VM has to be created.
    type: str
  location:
    description: Region of the VMs; default is the region of an existing VM of the list, else the host pool's.
    type: str
  admin_username:
    description:
      - Local administrator of the new VMs, with Azure's rules for Windows - 1-20 characters, not ending with
        C(.), none of the characters C("/\\[]:;|=,+*?<>@), and not a name Azure disallows (C(administrator),
        C(admin), C(user), C(user1), C(test), C(guest), C(root), ...).
      - Checked before anything is read or written.
    type: str
    default: avdadmin
  admin_password:
    description:
      - Password of the local administrator; required when a VM has to be created.
      - 12-123 characters with 3 of lower case, upper case, digit and special character, no control characters,
        not one of the passwords Azure disallows. Checked before anything is written; the error never shows it.
    type: str
  os_disk_type:
    description: Storage type of the OS disk.
    type: str
    default: Premium_LRS
    choices: [Premium_LRS, StandardSSD_LRS, Standard_LRS, Premium_ZRS, StandardSSD_ZRS]
  license_type:
    description: C(Windows_Client) for Windows 10/11 multi-session (AVD use rights).
    type: str
    default: Windows_Client
  security_type:
    description:
      - V(auto) uses Trusted Launch when the image definition supports it.
      - V(TrustedLaunch) fails when the image does not support it; V(Standard) fails when the image requires it.
    type: str
    default: auto
    choices: [auto, TrustedLaunch, Standard]
  join:
    description: How the hosts join a directory.
    type: dict
    default: {type: entra}
    suboptions:
      type:
        description: V(entra) (Microsoft Entra ID, extension AADLoginForWindows) or V(ad) (JsonADDomainExtension).
        type: str
        choices: [entra, ad]
        default: entra
      intune:
        description: Enroll Entra-joined hosts in Intune.
        type: bool
        default: false
      domain:
        description: Active Directory domain (V(ad)).
        type: str
      ou_path:
        description: Organizational unit for the computer accounts (V(ad)).
        type: str
      user:
        description: Account allowed to join computers (V(ad)), C(user@domain) or C(DOMAIN\\user).
        type: str
      password:
        description: Password of O(join.user).
        type: str
  agent_configuration_url:
    description: URL of the AVD DSC configuration package (C(Configuration.ps1\\AddSessionHost)) the agent is installed from.
    type: str
    default: https://wvdportalstorageblob.blob.core.windows.net/galleryartifacts/Configuration_1.0.02790.438.zip
  rollout_id:
    description: Value of the tag C(goldenimage.rollout) on the new VMs (set by the C(session_host_rollout) role).
    type: str
  on_failure:
    description: What happens to a host that fails - V(delete) its VM (and session-host entry), or V(keep) it for inspection.
    type: str
    choices: [delete, keep]
    default: delete
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.attributes
  - goldenimage.avd.wait
  - goldenimage.avd.tags
"""

EXAMPLES = r"""
- name: Two new Entra-joined session hosts from version 1.0.1
  goldenimage.avd.session_host_deploy:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
    image_version_id: "/subscriptions/{{ sub }}/resourceGroups/rg-avd-demo/providers/Microsoft.Compute/galleries/gal_avd_demo/images/win11-avd/versions/1.0.1"
    names: [avd-demo-3, avd-demo-4]
    subnet_id: "/subscriptions/{{ sub }}/resourceGroups/rg-avd-demo/providers/Microsoft.Network/virtualNetworks/vnet-avd/subnets/snet-hosts"
    admin_password: "{{ vault_avd_admin_password }}"

- name: Domain-joined hosts, kept for inspection when they fail
  goldenimage.avd.session_host_deploy:
    resource_group: rg-avd-prod
    host_pool: hp-prod
    image_version_id: "{{ image_version_id }}"
    names: [avd-prod-12]
    subnet_id: "{{ subnet_id }}"
    admin_password: "{{ vault_avd_admin_password }}"
    join:
      type: ad
      domain: corp.example.com
      ou_path: OU=AVD,DC=corp,DC=example,DC=com
      user: svc-join@corp.example.com
      password: "{{ vault_join_password }}"
    on_failure: keep
"""

RETURN = r"""
session_hosts:
  description: One entry per name.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "VM name.", type: str}
    vm_id: {description: "VM id.", type: str}
    action: {description: "C(create) (new VM), C(register) (VM existed, not registered) or C(none).", type: str}
    registered: {description: "Whether the host is a session host of the pool.", type: bool}
    started: {description: "Whether its existing VM was stopped or deallocated and is started (again) by this task.", type: bool}
    status: {description: "Session host status at the end.", type: str}
    session_host_name: {description: "Session host name as the API takes it.", type: str}
    failed: {description: "Whether the host failed.", type: bool}
    reason: {description: "Why it failed.", type: str}
    cleaned_up: {description: "Whether the failed host was deleted (O(on_failure=delete)).", type: bool}
created:
  description: Names of the VMs created.
  returned: always
  type: list
  elements: str
registered:
  description: Names registered with the pool.
  returned: always
  type: list
  elements: str
failed_hosts:
  description: Names that failed.
  returned: always
  type: list
  elements: str
duration_s:
  description: Seconds (ARM clock) the deployment took, from the first request until every host was Available.
  returned: when hosts were deployed or registered
  type: int
registration_token_deleted:
  description: Whether the module minted a registration token and deleted it again.
  returned: when hosts were registered
  type: bool
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._deploy import DeployContext, check_options, deploy
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, host_pool_options, wait_options
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import check_poll_interval


def run(azure):
    params = azure.params
    params["tags"] = check_options(params)
    if params["timeout"] <= 0:
        raise ValueError("timeout must be > 0 seconds")
    check_poll_interval(params["poll_interval"])
    if not params["names"]:
        # nothing to deploy: the options are checked, Azure is not read (the rollout role checks its options so)
        azure.exit(False, session_hosts=[], created=[], registered=[], failed_hosts=[])
        return
    ctx = DeployContext(azure.compute, azure.desktop, params["resource_group"], params["host_pool"],
                        server_now=azure.server_now, on_secret=azure.module.no_log_values.add, log=azure.module.log)
    changed, result = deploy(ctx, params, params["names"], azure.check_mode, params["timeout"], params["poll_interval"])
    before = {row["name"]: {"vm": row["action"] != "create", "registered": row["action"] == "none"}
              for row in result["session_hosts"]}
    after = {row["name"]: {"vm": True, "registered": True} for row in result["session_hosts"]}
    azure.exit(changed, diff=azure.make_diff(before, after), **result)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **host_pool_options(),
            image_version_id=dict(type="str", required=True),
            names=dict(type="list", elements="str", required=True),
            vm_size=dict(type="str", default="Standard_D4s_v5"),
            subnet_id=dict(type="str"),
            location=dict(type="str"),
            admin_username=dict(type="str", default="avdadmin"),
            admin_password=dict(type="str", no_log=True),
            os_disk_type=dict(type="str", default="Premium_LRS",
                              choices=["Premium_LRS", "StandardSSD_LRS", "Standard_LRS", "Premium_ZRS",
                                       "StandardSSD_ZRS"]),
            license_type=dict(type="str", default="Windows_Client"),
            security_type=dict(type="str", default="auto", choices=["auto", "TrustedLaunch", "Standard"]),
            join=dict(type="dict", default={"type": "entra"}, options=dict(
                type=dict(type="str", choices=["entra", "ad"], default="entra"),
                intune=dict(type="bool", default=False),
                domain=dict(type="str"),
                ou_path=dict(type="str"),
                user=dict(type="str"),
                password=dict(type="str", no_log=True),
            )),
            agent_configuration_url=dict(
                type="str",
                default="https://wvdportalstorageblob.blob.core.windows.net/galleryartifacts/"
                        "Configuration_1.0.02790.438.zip"),
            rollout_id=dict(type="str"),
            on_failure=dict(type="str", choices=["delete", "keep"], default="delete"),
            **wait_options(timeout=1800, poll_interval=15),
            tags=dict(type="dict"),
            purge_tags=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
