"""The guest model of a Windows OS disk and the simulated Run Command operations.

A guest model is a plain dict stored with the OS disk (``sim.store.internal(disk_id)
["guest"]``). Copies (snapshot, disk copy, capture, new VM) are deep copies. Run Command
scripts whose first line is ``# goldenimage-op: <op>`` are simulated here; their inputs come
only from ``RunCommandInput.parameters`` and are treated as plain data.
"""

from __future__ import annotations

import copy
import json
import re
import uuid

from .clock import iso

BUILTIN_ACCOUNTS = ["Administrator", "DefaultAccount", "Guest", "WDAGUtilityAccount"]
SYSPREP_LIMIT = 8
OP_LINE = re.compile(r"^\s*#\s*goldenimage-op:\s*([A-Za-z0-9_.-]+)\s*$")


# -- storage: the model lives in the internal state of its disk, snapshot, disk restore point
# or image version --------------------------------------------------------------------------
def stored(sim, rid: str | None) -> dict | None:
    """The guest model stored with resource ``rid`` (None for no id or no model)."""
    if not rid:
        return None
    return sim.store.internal(rid).get("guest")


def store(sim, rid: str, g: dict | None) -> None:
    sim.store.internal(rid)["guest"] = g


def default_guest() -> dict:
    return {
        "os": {"name": "Windows 11 Enterprise multi-session", "version": "24H2",
               "build": "26100.2314"},
        "computer_name": None,
        "admin_account": None,
        "builtin_accounts": list(BUILTIN_ACCOUNTS),
        "local_accounts": [],
        "pending_updates": [],
        "installed_content": {},
        "pending_reboot": False,
        "bitlocker": "Off",
        "sysprep_count": 0,
        "sysprep_limit": SYSPREP_LIMIT,
        "generalized": False,
        "sysprep_running": False,
        "panther": {"setupact": [], "setuperr": []},
    }


def make_guest(spec: dict | None, base: dict | None = None) -> dict:
    """A guest model from a scenario ``guest:`` mapping, merged over ``base``."""
    g = copy.deepcopy(base) if base else default_guest()
    for k, v in (spec or {}).items():
        if k == "local_accounts":
            accounts = []
            for a in v:
                if isinstance(a, str):
                    a = {"name": a}
                accounts.append({"name": a["name"], "profile": bool(a.get("profile", True)),
                                 "appx_per_user": list(a.get("appx_per_user", []))})
            names = {a["name"].lower() for a in accounts}
            g["local_accounts"] = [a for a in g["local_accounts"]
                                   if a["name"].lower() not in names] + accounts
        elif k == "pending_updates":
            g["pending_updates"] = [dict(u, update_id=update_id(u)) for u in v]
        elif k == "installed_content":
            g["installed_content"].update({str(n): str(ver) for n, ver in v.items()})
        elif k == "os":
            g["os"].update(v)
        elif k in g:
            g[k] = copy.deepcopy(v)
        else:
            raise ValueError(f"guest model: unknown key '{k}'")
    return g


# Windows Update names each update by a GUID (IUpdateIdentity.UpdateID,
# https://learn.microsoft.com/windows/win32/api/wuapi/nf-wuapi-iupdateidentity-get_updateid) besides
# its KB article; a scenario may give it, else it is derived from the KB so that it is stable.
_UPDATE_NAMESPACE = uuid.UUID("6f1c0a52-8d4e-4f0b-9a53-2a9d5b3c7e11")


def update_id(update: dict) -> str:
    return str(update.get("update_id") or uuid.uuid5(_UPDATE_NAMESPACE, str(update["kb"]).upper())).lower()


def _update_matches(update: dict, wanted: set) -> bool:
    return update["kb"].upper() in wanted or update_id(update).upper() in wanted


def clone(guest: dict | None) -> dict | None:
    return copy.deepcopy(guest) if guest is not None else None


def specialize(guest: dict, computer_name: str, admin_username: str | None) -> dict:
    """First boot of a VM created from a generalized image: OOBE/unattend creates the admin
    account (with a profile), names the computer and the guest is no longer generalized."""
    g = guest
    if g.get("generalized"):
        g["generalized"] = False
        g["computer_name"] = computer_name
        if admin_username:
            g["admin_account"] = admin_username
            if not any(a["name"].lower() == admin_username.lower() for a in g["local_accounts"]):
                g["local_accounts"].append({"name": admin_username, "profile": True,
                                            "appx_per_user": []})
    elif not g.get("computer_name"):
        g["computer_name"] = computer_name
        if admin_username and not g.get("admin_account"):
            g["admin_account"] = admin_username
            if not any(a["name"].lower() == admin_username.lower() for a in g["local_accounts"]):
                g["local_accounts"].append({"name": admin_username, "profile": True,
                                            "appx_per_user": []})
    boot(g)
    return g


def boot(guest: dict) -> None:
    """A boot finishes pending update installs."""
    guest["pending_reboot"] = False


def parse_op(script_lines) -> str | None:
    if not script_lines:
        return None
    first = script_lines[0] if isinstance(script_lines, list) else str(script_lines).splitlines()[0]
    m = OP_LINE.match(str(first).splitlines()[0] if first else "")
    return m.group(1).lower() if m else None


def params_dict(parameters) -> dict:
    out = {}
    for p in parameters or []:
        if isinstance(p, dict) and "name" in p:
            out[str(p["name"]).lower()] = "" if p.get("value") is None else str(p["value"])
    return out


def _non_builtin(guest):
    builtin = {b.lower() for b in guest.get("builtin_accounts", BUILTIN_ACCOUNTS)}
    return [a for a in guest["local_accounts"] if a["name"].lower() not in builtin]


def _out(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


# Azure keeps only the last 4,096 bytes of a Run Command's output and error streams.
OUTPUT_LIMIT = 4096


def tail_bytes(text: str, limit: int = OUTPUT_LIMIT) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[-limit:].decode("utf-8", "ignore")


class OpResult:
    def __init__(self, stdout="", stderr="", exit_code=0, detached=None):
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code
        self.detached = detached  # callable run later by the caller (sysprep)


def _preflight(guest: dict, p: dict) -> OpResult:
    return OpResult(_out({
        "computerName": guest.get("computer_name"), "os": guest["os"],
        "bitlocker": guest.get("bitlocker", "Off"),
        "pendingReboot": bool(guest.get("pending_reboot")),
        "pendingUpdates": [u["kb"] for u in guest["pending_updates"]],
        "pendingUpdateIds": [{"kb": u["kb"], "id": update_id(u)} for u in guest["pending_updates"]],
        "localAccounts": [a["name"] for a in guest["local_accounts"]],
        "profiles": [a["name"] for a in guest["local_accounts"] if a.get("profile")],
        "appxPerUser": [{"user": a["name"], "package": pkg}
                        for a in guest["local_accounts"] for pkg in a.get("appx_per_user", [])],
        "sysprepCount": guest["sysprep_count"], "sysprepLimit": guest["sysprep_limit"],
        "generalized": bool(guest.get("generalized")),
        "adminAccount": guest.get("admin_account"),
    }))


def _remove_local_accounts(guest: dict, p: dict) -> OpResult:
    keep = {k.strip().lower() for k in p.get("keepaccounts", "").split(",") if k.strip()}
    builtin = {b.lower() for b in guest.get("builtin_accounts", BUILTIN_ACCOUNTS)}
    removed, kept, profiles = [], [], []
    remaining = []
    for a in guest["local_accounts"]:
        if a["name"].lower() in builtin or a["name"].lower() in keep:
            kept.append(a["name"])
            remaining.append(a)
        else:
            removed.append(a["name"])
            if a.get("profile"):
                profiles.append(a["name"])
    guest["local_accounts"] = remaining
    return OpResult(_out({"removed": removed, "kept": kept, "profilesRemoved": profiles}))


def _install_updates(guest: dict, p: dict) -> OpResult:
    wanted = {k.strip().upper() for k in p.get("updates", "").split(",") if k.strip()}
    installed, left, reboot = [], [], False
    for u in guest["pending_updates"]:
        if not wanted or _update_matches(u, wanted):
            installed.append(u["kb"])
            guest["installed_content"][u["kb"]] = u.get("title", u["kb"])
            reboot = reboot or bool(u.get("requires_reboot", True))
        else:
            left.append(u)
    guest["pending_updates"] = left
    if reboot:
        guest["pending_reboot"] = True
    return OpResult(_out({"installed": installed, "rebootRequired": reboot,
                          "remaining": [u["kb"] for u in left]}))


def _install_content(guest: dict, p: dict) -> OpResult:
    name, version = p.get("name", ""), p.get("version", "")
    if not name:
        return OpResult("", "install-content: parameter 'Name' is required", 1)
    previous = guest["installed_content"].get(name)
    guest["installed_content"][name] = version
    return OpResult(_out({"name": name, "version": version, "previous": previous}))


def _disable_bitlocker(guest: dict, p: dict) -> OpResult:
    guest["bitlocker"] = "Off"
    return OpResult(_out({"bitlocker": "Off"}))


def _read_sysprep_logs(guest: dict, p: dict) -> OpResult:
    try:
        n = max(1, min(1000, int(p.get("lines", "40") or 40)))
    except ValueError:
        n = 40
    return OpResult(_out({"setupact": guest["panther"]["setupact"][-n:],
                          "setuperr": guest["panther"]["setuperr"][-n:]}))


def _guest_info(guest: dict, p: dict) -> OpResult:
    # Panther logs are read with read-sysprep-logs; here only their sizes (4 KB limit).
    info = {k: v for k, v in guest.items() if k != "panther"}
    info["panther_lines"] = {k: len(v) for k, v in guest["panther"].items()}
    return OpResult(_out(info))


def _sysprep(guest: dict, p: dict) -> OpResult:
    if guest.get("generalized"):
        return OpResult("", "Sysprep: the installation is already generalized.", 1)
    if guest.get("sysprep_running"):
        return OpResult("", "Sysprep: another instance of sysprep is already running.", 1)
    guest["sysprep_running"] = True
    return OpResult(_out({"started": True, "command":
                          r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe "
                          r"/shutdown /mode:vm /quiet"}),
                    detached="sysprep")


_OP_HANDLERS = {"preflight": _preflight, "remove-local-accounts": _remove_local_accounts,
                "install-updates": _install_updates, "install-content": _install_content,
                "disable-bitlocker": _disable_bitlocker, "sysprep": _sysprep,
                "read-sysprep-logs": _read_sysprep_logs, "guest-info": _guest_info}
OPS = tuple(_OP_HANDLERS)


def run_op(guest: dict, op: str | None, parameters) -> OpResult:
    """Apply ``op`` to ``guest`` (in place). Unknown or absent ops succeed with no output."""
    p = params_dict(parameters)
    handler = _OP_HANDLERS.get(op) if op is not None else None
    return handler(guest, p) if handler else OpResult()


def _log_ts(ts: float) -> str:
    return iso(ts)[:19].replace("T", " ")


def sysprep_failure_reasons(guest: dict) -> list[tuple[str, str]]:
    """[(setuperr line, setupact line)] explaining why sysprep would fail now."""
    reasons = []
    admin = (guest.get("admin_account") or "").lower()
    if guest["sysprep_count"] >= guest.get("sysprep_limit", SYSPREP_LIMIT):
        reasons.append((
            "Error      [0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred while "
            "executing 'SLReArmWindows' from C:\\Windows\\System32\\slc.dll; dwRet = 0xc004d307",
            "Error      SYSPRP RunExternalDlls:An error occurred while running registry sysprep "
            "DLLs, halting sysprep execution. dwRet = 0xc004d307 (the maximum allowed number of "
            "re-arms has been exceeded)"))
    if guest.get("bitlocker", "Off") != "Off":
        reasons.append((
            "Error      SYSPRP BitLocker-Sysprep: BitLocker is on for the OS volume. Turn "
            "BitLocker off to run Sysprep. (0x80310039)",
            "Error      [0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred while "
            "executing 'ValidateBitLockerState' from C:\\Windows\\System32\\BdeSysprep.dll"))
    if guest.get("pending_reboot"):
        reasons.append((
            "Error      SYSPRP Sysprep_Clean_Validate_Opk: There are one or more Windows updates "
            "that require a reboot. To run Sysprep, reboot the computer and restart the "
            "application.[gle=0x000000d9]",
            "Error      [0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred while "
            "executing 'Sysprep_Clean_Validate_Opk' from C:\\Windows\\System32\\spopk.dll; "
            "dwRet = 0xd9"))
    for a in _non_builtin(guest):
        if a["name"].lower() == admin:
            continue
        for pkg in a.get("appx_per_user", []):
            reasons.append((
                f"Error      SYSPRP Package {pkg} was installed for a user, but not "
                "provisioned for all users. This package will not function properly in the "
                "sysprep image.",
                "Error      SYSPRP Failed to remove apps for the current user: 0x80073cf2."))
        if a.get("profile"):
            reasons.append((
                f"Error      SYSPRP Sysprep_Clean_Validate_UserProfiles: the user profile "
                f"C:\\Users\\{a['name']} of local account '{a['name']}' is still present; "
                "remove local user accounts and their profiles before generalizing. "
                "dwRet = 0x80070005",
                "Error      [0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred "
                "while executing 'Sysprep_Clean_Validate_UserProfiles'; dwRet = 0x80070005"))
    return reasons


def finish_sysprep(guest: dict, now: float, forced_failure: str | None = None) -> bool:
    """Complete a sysprep run started earlier. Returns True when the guest is generalized."""
    guest["sysprep_running"] = False
    ts = _log_ts(now)
    act = guest["panther"]["setupact"]
    err = guest["panther"]["setuperr"]
    act.append(f"{ts}, Info                  SYSPRP ========================================="
               "=============")
    act.append(f"{ts}, Info                  SYSPRP ===   Beginning of a new sysprep run   ===")
    act.append(f"{ts}, Info                  SYSPRP Sysprep running in mode: /generalize "
               "/oobe /shutdown /mode:vm /quiet")
    reasons = sysprep_failure_reasons(guest)
    if forced_failure:
        reasons.insert(0, (f"Error      SYSPRP {forced_failure}",
                           "Error      SYSPRP Sysprep_Generalize: unexpected failure; "
                           "dwRet = 0x80004005"))
    if reasons:
        for err_line, act_line in reasons:
            err.append(f"{ts}, {err_line}")
            act.append(f"{ts}, {act_line}")
        act.append(f"{ts}, Error                 SYSPRP Sysprep failed; the machine is left "
                   "unchanged. Review setuperr.log in C:\\Windows\\System32\\Sysprep\\Panther.")
        return False
    act.append(f"{ts}, Info                  SYSPRP Sysprep_Clean_Validate_UserProfiles: "
               "no local user profiles to clean up")
    act.append(f"{ts}, Info                  SYSPRP SLReArmWindows: re-arm succeeded")
    act.append(f"{ts}, Info                  SYSPRP Sysprep_Generalize: generalize completed")
    act.append(f"{ts}, Info                  SYSPRP Sysprep completed successfully; shutting "
               "down")
    guest["sysprep_count"] += 1
    guest["generalized"] = True
    # Generalize drops the machine identity (SID, computer name); local accounts stay in the
    # image, and OOBE on the next VM creates that VM's admin account.
    guest["computer_name"] = None
    guest["admin_account"] = None
    return True
