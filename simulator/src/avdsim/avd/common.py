"""What every part of the Desktop Virtualization provider shares: names, route templates,
errors as the service words them, property validators and the simulated-time helpers."""

from __future__ import annotations

import re
import uuid
from typing import Optional

from ..errors import ArmError

NS = "Microsoft.DesktopVirtualization"
HP_TYPE = NS + "/hostpools"
SH_TYPE = NS + "/hostpools/sessionhosts"
US_TYPE = NS + "/hostpools/sessionhosts/usersessions"

SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
HP = RG + "/providers/Microsoft.DesktopVirtualization/hostPools/{hostPoolName}"
SH = HP + "/sessionHosts/{sessionHostName}"
US = SH + "/userSessions/{userSessionId}"

AGENT_VERSION = "1.0.9742.1400"
SXS_VERSION = "rdp-sxs240919500"
DEFAULT_OS_VERSION = "10.0.22631.4460"

_NAME_RE = re.compile(r"^[A-Za-z0-9@.\-_ ]*$")

# Durations (simulated seconds) of the agent side, overridable in the scenario's
# ``desktop_virtualization.agent`` mapping.
AGENT_DEFAULTS = {
    "register_s": 150.0,     # DSC extension start -> agent installed and registered
    "boot_ready_s": 90.0,    # VM running again -> agent heartbeats, host Available
    "heartbeat_s": 30.0,     # lastHeartBeat granularity while the VM runs
}


# ----- errors as the Desktop Virtualization resource provider words them --------------------
def avd_error(status: int, message: str) -> ArmError:
    return ArmError(status, str(status), "ActivityId: %s Error: %s" % (uuid.uuid4(), message))


def bad_request(message: str) -> ArmError:
    return avd_error(400, message)


# ----- property validators ---------------------------------------------------------------------
def check_name(value: str, what: str, max_len: int) -> None:
    if not 3 <= len(value) <= max_len or not _NAME_RE.match(value):
        raise bad_request("The %s name '%s' is invalid: 3 to %d characters of letters, digits, "
                          "'@', '.', '-', '_' and spaces." % (what, value, max_len))


def enum(props: dict, key: str, allowed, required: bool = False, default=None):
    value = props.get(key, default)
    if value is None:
        if required:
            raise bad_request("The property '%s' is required. Allowed values: %s."
                              % (key, ", ".join(allowed)))
        return None
    for option in allowed:
        if str(value).lower() == option.lower():
            return option
    raise bad_request("The value '%s' of property '%s' is invalid. Allowed values: %s."
                      % (value, key, ", ".join(allowed)))


def optional_bool(props: dict, key: str, default):
    value = props.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise bad_request("The property '%s' must be a boolean." % key)
    return value


def optional_str(props: dict, key: str):
    value = props.get(key)
    if value is not None and not isinstance(value, str):
        raise bad_request("The property '%s' must be a string." % key)
    return value


def properties_of(body: dict) -> dict:
    """The ``properties`` of a PATCH body (an object, or nothing)."""
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise bad_request("properties must be an object.")
    return props


def is_forced(req) -> bool:
    """``?force=true`` on a DELETE or PATCH."""
    return str(req.query.get("force", "false")).lower() == "true"


def validate_tags(tags):
    from ..arm import validate_tags as arm_validate_tags
    return arm_validate_tags(tags)


def require_rg(sim, sub, rg):
    from ..arm import require_rg as arm_require_rg
    return arm_require_rg(sim, sub, rg)


# ----- simulated time ---------------------------------------------------------------------------
def sim_seconds(sim) -> float:
    """Simulated seconds since the simulator started (the users model's time axis). While a
    scenario is loaded, one instant: the world it describes exists all at once."""
    frozen = getattr(sim.avd, "frozen_s", None)
    return frozen if frozen is not None else sim.now() - sim.clock.start


def iso_at(sim, elapsed_s: float) -> str:
    from ..clock import iso
    return iso(sim.clock.start + elapsed_s)


def system_data(sim, created: Optional[dict] = None) -> dict:
    now = sim.now_iso()
    who = sim.identity.client_id
    data = {"createdBy": who, "createdByType": "Application", "createdAt": now,
            "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now}
    if created:
        for key in ("createdBy", "createdByType", "createdAt"):
            data[key] = created.get(key, data[key])
    return data


def new_etag(sim) -> str:
    return '"%s"' % sim.avd.new_uuid()
