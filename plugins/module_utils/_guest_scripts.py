# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""PowerShell scripts the collection runs inside Windows VMs through Run Command.

Rules every script here follows:
- the first line is ``# goldenimage-op: <op>`` (the simulator recognises the operation by it);
- every value comes in through a ``param()`` block, filled from the Run Command ``parameters``
  list; nothing is ever formatted into the script text, so an account name such as
  ``x'; Remove-Item C:\\ -Recurse; '`` stays a string;
- the result is one line of compact JSON on standard output, the last line the script writes.
"""

from __future__ import annotations

import json

from ._errors import azure_errors
from ._wait import wait_operation

PREFLIGHT = r"""# goldenimage-op: preflight
param()
$ErrorActionPreference = 'Stop'
$bitlocker = 'Off'
try {
    if (@(Get-BitLockerVolume | Where-Object { $_.ProtectionStatus -ne 'Off' }).Count -gt 0) { $bitlocker = 'On' }
} catch { }
$pendingReboot = $false
foreach ($key in 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending',
                 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
    if (Test-Path -LiteralPath $key) { $pendingReboot = $true }
}
if (Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' `
        -Name PendingFileRenameOperations -ErrorAction SilentlyContinue) { $pendingReboot = $true }
$searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
$pendingFound = @($searcher.Search("IsInstalled=0 and IsHidden=0 and Type='Software'").Updates)
$pendingUpdates = @($pendingFound | ForEach-Object { 'KB' + ($_.KBArticleIDs -join ',KB') })
$pendingUpdateIds = @($pendingFound | ForEach-Object {
    [ordered]@{ kb = 'KB' + ($_.KBArticleIDs -join ',KB'); id = $_.Identity.UpdateID } })
$profiles = @(Get-CimInstance -ClassName Win32_UserProfile | Where-Object { -not $_.Special } |
    ForEach-Object { Split-Path -Leaf $_.LocalPath })
$provisioned = @(Get-AppxProvisionedPackage -Online | ForEach-Object { $_.PackageName })
$appxPerUser = @(Get-AppxPackage -AllUsers |
    Where-Object { -not $_.IsFramework -and -not $_.NonRemovable -and $provisioned -notcontains $_.PackageFullName } |
    ForEach-Object { $package = $_.Name; $_.PackageUserInformation |
        Where-Object { $_.InstallState -eq 'Installed' } |
        ForEach-Object { [ordered]@{ user = ($_.UserSecurityId.Username -split '\\')[-1]; package = $package } } })
$status = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\Setup\Status\SysprepStatus' -ErrorAction SilentlyContinue
$count = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\Setup\Status\SysprepStatus' -Name CleanupState `
    -ErrorAction SilentlyContinue
[ordered]@{
    computerName = $env:COMPUTERNAME
    os = (Get-CimInstance -ClassName Win32_OperatingSystem).Caption
    bitlocker = $bitlocker
    pendingReboot = $pendingReboot
    pendingUpdates = $pendingUpdates
    pendingUpdateIds = $pendingUpdateIds
    localAccounts = @(Get-LocalUser | ForEach-Object { $_.Name })
    profiles = $profiles
    appxPerUser = $appxPerUser
    sysprepCount = $null
    sysprepLimit = 8
    generalized = ($status -and $status.GeneralizationState -eq 4 -and $count)
} | ConvertTo-Json -Compress -Depth 4
"""

REMOVE_LOCAL_ACCOUNTS = r"""# goldenimage-op: remove-local-accounts
param(
    [Parameter(Mandatory = $true)][string] $KeepAccounts
)
$ErrorActionPreference = 'Stop'
# KeepAccounts is data (comma-separated names); it is split, compared, never executed.
$keep = @($KeepAccounts.Split(',') | ForEach-Object { $_.Trim().ToLowerInvariant() } | Where-Object { $_ })
$builtin = @('administrator', 'guest', 'defaultaccount', 'wdagutilityaccount')
$removed = @(); $kept = @(); $profilesRemoved = @()
foreach ($user in Get-LocalUser) {
    $name = $user.Name.ToLowerInvariant()
    if ($keep -contains $name -or $builtin -contains $name -or $user.SID.Value -match '-50[0-3]$') {
        $kept += $user.Name
        continue
    }
    $profile = Get-CimInstance -ClassName Win32_UserProfile | Where-Object { $_.SID -eq $user.SID.Value }
    if ($profile) {
        Get-AppxPackage -User $user.SID.Value | Remove-AppxPackage -User $user.SID.Value -ErrorAction SilentlyContinue
        $profile | Remove-CimInstance
        $profilesRemoved += $user.Name
    }
    Remove-LocalUser -SID $user.SID
    $removed += $user.Name
}
[ordered]@{ removed = $removed; kept = $kept; profilesRemoved = $profilesRemoved } | ConvertTo-Json -Compress
"""

INSTALL_UPDATES = r"""# goldenimage-op: install-updates
param(
    [string] $Updates = ''
)
$ErrorActionPreference = 'Stop'
# Updates is data: an optional comma-separated list of KB ids or update GUIDs; empty means every pending update.
$wanted = @($Updates.Split(',') | ForEach-Object { $_.Trim().ToUpperInvariant() } | Where-Object { $_ })
$session = New-Object -ComObject Microsoft.Update.Session
$found = $session.CreateUpdateSearcher().Search("IsInstalled=0 and IsHidden=0 and Type='Software'").Updates
$selected = New-Object -ComObject Microsoft.Update.UpdateColl
$installed = @()
foreach ($update in $found) {
    $kbs = @($update.KBArticleIDs | ForEach-Object { 'KB' + $_ })
    $ids = @($kbs) + @($update.Identity.UpdateID.ToUpperInvariant())
    if ($wanted.Count -eq 0 -or @($ids | Where-Object { $wanted -contains $_ }).Count -gt 0) {
        if (-not $update.EulaAccepted) { $update.AcceptEula() }
        [void]$selected.Add($update)
        $installed += $kbs
    }
}
$reboot = $false
if ($selected.Count -gt 0) {
    $downloader = $session.CreateUpdateDownloader(); $downloader.Updates = $selected; [void]$downloader.Download()
    $installer = $session.CreateUpdateInstaller(); $installer.Updates = $selected
    $reboot = $installer.Install().RebootRequired
}
[ordered]@{ installed = $installed; rebootRequired = $reboot } | ConvertTo-Json -Compress
"""

SYSPREP = r"""# goldenimage-op: sysprep
param()
$ErrorActionPreference = 'Stop'
$panther = Join-Path $env:WINDIR 'System32\Sysprep\Panther'
Remove-Item -LiteralPath (Join-Path $panther 'setupact.log'), (Join-Path $panther 'setuperr.log') `
    -ErrorAction SilentlyContinue
# Detached: Run Command returns at once; sysprep shuts the VM down when it is done.
Start-Process -FilePath (Join-Path $env:WINDIR 'System32\Sysprep\sysprep.exe') `
    -ArgumentList '/generalize', '/oobe', '/shutdown', '/mode:vm', '/quiet' | Out-Null
[ordered]@{ started = $true } | ConvertTo-Json -Compress
"""

READ_SYSPREP_LOGS = r"""# goldenimage-op: read-sysprep-logs
param(
    [int] $Lines = 40
)
$ErrorActionPreference = 'Stop'
$panther = Join-Path $env:WINDIR 'System32\Sysprep\Panther'
$out = [ordered]@{}
foreach ($name in 'setupact', 'setuperr') {
    $path = Join-Path $panther ($name + '.log')
    if (Test-Path -LiteralPath $path) { $out[$name] = @(Get-Content -LiteralPath $path -Tail $Lines) }
    else { $out[$name] = @() }
}
$out | ConvertTo-Json -Compress
"""

GUEST_INFO = r"""# goldenimage-op: guest-info
param()
$ErrorActionPreference = 'Stop'
[ordered]@{
    computer_name = $env:COMPUTERNAME
    local_accounts = @(Get-LocalUser | ForEach-Object { [ordered]@{ name = $_.Name } })
    installed_content = @(Get-HotFix | ForEach-Object { $_.HotFixID })
} | ConvertTo-Json -Compress -Depth 4
"""

SCRIPTS = {
    "preflight": PREFLIGHT,
    "remove-local-accounts": REMOVE_LOCAL_ACCOUNTS,
    "install-updates": INSTALL_UPDATES,
    "sysprep": SYSPREP,
    "read-sysprep-logs": READ_SYSPREP_LOGS,
    "guest-info": GUEST_INFO,
}


def op_of(script):
    """The ``<op>`` of a script's first line ``# goldenimage-op: <op>``."""
    first = script.split("\n", 1)[0].strip()
    prefix = "# goldenimage-op:"
    if not first.startswith(prefix):
        raise ValueError("Guest script does not start with %r" % prefix)
    return first[len(prefix):].strip()


def run_command_input(op, **parameters):
    """The ``RunCommandInput`` body for ``op``; values travel only as parameters (strings)."""
    script = SCRIPTS[op]
    params = []
    for name, value in parameters.items():
        if isinstance(value, (list, tuple)):
            # The guest scripts take lists as comma-separated data.
            value = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        params.append({"name": name, "value": str(value)})
    return {"commandId": "RunPowerShellScript", "script": script.splitlines(), "parameters": params}


def parse_output(result):
    """``(stdout_json_or_None, stdout, stderr)`` from a wire-format ``RunCommandResult``.

    The scripts print one JSON document; when other lines precede it, the last line that parses wins.
    """
    stdout = stderr = ""
    for status in (result or {}).get("value") or []:
        code = (status.get("code") or "").lower()
        if "stdout" in code:
            stdout = status.get("message") or ""
        elif "stderr" in code:
            stderr = status.get("message") or ""
    data = None
    try:
        return json.loads(stdout), stdout, stderr
    except ValueError:
        pass
    for line in reversed([line.strip() for line in stdout.splitlines() if line.strip()]):
        try:
            data = json.loads(line)
            break
        except ValueError:
            continue
    return data, stdout, stderr


def run_guest_op(compute, to_wire, resource_group, vm_name, op, deadline, **parameters):
    """Run guest script ``op`` in a VM through the Run Command action, bounded by ``deadline``.

    Returns ``(report, stdout, stderr)``. Raises the typed error of the Azure failure, or
    ``TimeoutError`` when the deadline passes first.
    """
    body = run_command_input(op, **parameters)
    operation = "run the guest script '%s' in VM '%s'" % (op, vm_name)
    with azure_errors(operation):
        poller = compute.virtual_machines.begin_run_command(resource_group, vm_name, body)
    return parse_output(to_wire(wait_operation(poller, deadline, operation)))
