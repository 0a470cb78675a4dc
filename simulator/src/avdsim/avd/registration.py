"""Registration tokens of host pools: minted, replaced and deleted through the pool's
``registrationInfo``, read back with ``retrieveRegistrationToken`` / ``listRegistrationTokens``."""

from __future__ import annotations

import base64
import json
import uuid

from ..routing import route
from .common import HP, bad_request, enum, iso_at
from .state import Pool, pool_of

TOKEN_OPERATIONS = ("Delete", "None", "Update")
# Azure accepts a registration token lifetime of at least one hour and at most 30 days.
TOKEN_MIN_S = 3600.0
TOKEN_MAX_S = 30 * 86400.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mint_token(sim, pool: Pool, expires_s: float) -> None:
    """A new registration token for the pool; the previous one stops working."""
    state = sim.avd
    if pool.token is not None:
        state.tokens[pool.token["value"]]["state"] = "replaced"
    now = sim.now()
    header = {"alg": "RS256", "kid": "%040X" % state.rng.getrandbits(160), "typ": "JWT"}
    payload = {
        "RegistrationId": str(uuid.UUID(int=state.rng.getrandbits(128))),
        "BrokerURI": "https://rdbroker-g-eu-r0.wvd.microsoft.com/",
        "GlobalBrokerURI": "https://rdbroker.wvd.microsoft.com/",
        "GlobalBrokerResourceIdURI": "https://rdbroker.wvd.microsoft.com/",
        "HostPoolId": str(uuid.UUID(int=state.rng.getrandbits(128))),
        "nbf": int(now), "exp": int(sim.clock.start + expires_s),
        "iss": "RDInfraTokenManager", "aud": "RDmi",
    }
    signature = bytes(state.rng.getrandbits(8) for _ in range(256))
    value = ".".join([_b64(json.dumps(header, separators=(",", ":")).encode()),
                      _b64(json.dumps(payload, separators=(",", ":")).encode()), _b64(signature)])
    pool.token = {"value": value, "expires_s": expires_s}
    state.tokens[value] = {"pool": pool.id.lower(), "state": "valid", "expires_s": expires_s}
    sim.hooks.emit("avd.token_minted", pool=pool, token=value)


def delete_token(sim, pool: Pool) -> None:
    if pool.token is not None:
        sim.avd.tokens[pool.token["value"]]["state"] = "deleted"
    pool.token = None


def registration_request(sim, info) -> tuple:
    """Validate ``registrationInfo`` of a write: ("None"|"Delete", None) or ("Update", expiry)."""
    if info is None:
        return "None", None
    if not isinstance(info, dict):
        raise bad_request("registrationInfo must be an object.")
    if info.get("token"):
        raise bad_request("The registration token is read-only; use registrationTokenOperation.")
    operation = enum(info, "registrationTokenOperation", TOKEN_OPERATIONS, default="None")
    if operation != "Update":
        return operation, None
    raw = info.get("expirationTime")
    if not raw:
        raise bad_request("ExpirationTime value must be between one hour and 30 days from now")
    from ..clock import parse_iso
    try:
        expires = parse_iso(str(raw))
    except ValueError:
        raise bad_request("The value '%s' of expirationTime is not a valid date-time." % raw) from None
    lifetime = expires - sim.now()
    if not TOKEN_MIN_S <= lifetime <= TOKEN_MAX_S:
        raise bad_request("ExpirationTime value must be between one hour and 30 days from now")
    return operation, expires - sim.clock.start


def apply_registration(sim, pool: Pool, request: tuple) -> None:
    operation, expires_s = request
    if operation == "Update":
        mint_token(sim, pool, expires_s)
    elif operation == "Delete":
        delete_token(sim, pool)
    pool.last_operation = operation


def registration_info(sim, pool: Pool, for_get: bool):
    """GET shows no registration info at all (as the real service does); write responses show
    the expiry and the operation, never the token."""
    if for_get or pool.token is None:
        return None
    return {"expirationTime": iso_at(sim, pool.token["expires_s"]), "token": None,
            "registrationTokenOperation": pool.last_operation}


@route("POST", HP + "/retrieveRegistrationToken")
def retrieve_registration_token(sim, req):
    pool = pool_of(sim, req)
    if pool.token is None:
        return {"expirationTime": None, "token": None, "resetToken": False,
                "registrationTokenOperation": "None"}
    return {"expirationTime": iso_at(sim, pool.token["expires_s"]), "token": pool.token["value"],
            "resetToken": False, "registrationTokenOperation": "None"}


@route("POST", HP + "/listRegistrationTokens")
def list_registration_tokens(sim, req):
    pool = pool_of(sim, req)
    if pool.token is None:
        return {"value": [], "nextLink": None}
    return {"value": [{"expirationTime": iso_at(sim, pool.token["expires_s"]),
                       "token": pool.token["value"]}], "nextLink": None}
