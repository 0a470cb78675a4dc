"""Entra ID (client credentials) and the ARM metadata document.

Routes: ``GET /{tenant}/v2.0/.well-known/openid-configuration``,
``POST /{tenant}/oauth2/v2.0/token``, ``GET /metadata/endpoints?api-version=...``.
Access tokens are HS256 JWTs with ``aud`` = the ARM endpoint, ``tid``, ``appid`` and an
``exp`` one hour of REAL time ahead (token lifetimes are about the client's real clock)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from urllib.parse import parse_qs

from .clock import iso
from .routing import route

TOKEN_LIFETIME_S = 3599


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Identity:
    def __init__(self, tenant_id: str, client_id: str, client_secret: str):
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = secrets.token_bytes(32)
        self.object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, client_id))

    def mint(self, audience: str) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "HS256", "kid": "avdsim"}
        claims = {"aud": audience, "iss": f"https://sts.windows.net/{self.tenant_id}/",
                  "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_S,
                  "appid": self.client_id, "oid": self.object_id, "sub": self.object_id,
                  "tid": self.tenant_id, "idtyp": "app", "ver": "1.0"}
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
        sig = hmac.new(self.key, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(sig)

    def verify(self, token: str, audiences: tuple) -> tuple[dict | None, str]:
        """(claims, "") when valid, else (None, reason)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None, "The access token is not a valid JWT."
        try:
            expected = hmac.new(self.key, (parts[0] + "." + parts[1]).encode(),
                                hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None, "The access token signature is invalid."
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, json.JSONDecodeError):
            return None, "The access token is malformed."
        if claims.get("exp", 0) < time.time():
            return None, "The access token expiry UTC time is earlier than current UTC time."
        if str(claims.get("aud", "")).rstrip("/") not in {a.rstrip("/") for a in audiences}:
            return None, (f"The access token has been obtained for wrong audience or resource "
                          f"'{claims.get('aud')}'. It should exactly match with one of the "
                          f"allowed audiences '{', '.join(audiences)}'.")
        if claims.get("tid") != self.tenant_id:
            return None, "The access token is from the wrong issuer."
        return claims, ""


def _aad_error(sim, status, error, code, description):
    from .server import Response
    trace = str(uuid.uuid4())
    corr = str(uuid.uuid4())
    ts = iso(time.time())[:19] + "Z"
    return Response(status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: "
                             f"{corr} Timestamp: {ts}",
        "error_codes": [code], "timestamp": ts, "trace_id": trace, "correlation_id": corr,
        "error_uri": f"{sim.base_url}/error?code={code}",
    })


@route("GET", "/{tenant}/v2.0/.well-known/openid-configuration", auth=False, api_version=False)
def openid_configuration(sim, req):
    tenant = req.params["tenant"]
    if tenant.lower() not in (sim.identity.tenant_id.lower(), "organizations", "common"):
        return _aad_error(sim, 400, "invalid_tenant", 90002,
                          f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                          "tenant ID and are signing into the correct cloud.")
    base = f"{sim.base_url}/{tenant}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                  "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/v2.0",
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "avdsim.local",
    }


@route("POST", "/{tenant}/oauth2/v2.0/token", auth=False, api_version=False)
def token(sim, req):
    ident = sim.identity
    tenant = req.params["tenant"]
    form = {k: v[0] for k, v in parse_qs(req.raw_body.decode("utf-8", "replace")).items()}
    if tenant.lower() != ident.tenant_id.lower():
        return _aad_error(sim, 400, "invalid_request", 90002,
                          f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                          "tenant ID and are signing into the correct cloud.")
    if form.get("grant_type") != "client_credentials":
        return _aad_error(sim, 400, "unsupported_grant_type", 70003,
                          "The app requested an unsupported grant type "
                          f"'{form.get('grant_type')}'.")
    if form.get("client_id") != ident.client_id:
        return _aad_error(sim, 400, "unauthorized_client", 700016,
                          f"Application with identifier '{form.get('client_id')}' was not found "
                          f"in the directory '{tenant}'.")
    secret = form.get("client_secret")
    if secret is None or not hmac.compare_digest(secret.encode(), ident.client_secret.encode()):
        return _aad_error(sim, 401, "invalid_client", 7000215,
                          "Invalid client secret provided. Ensure the secret being sent in the "
                          "request is the client secret value, not the client secret ID, for a "
                          f"secret added to app '{ident.client_id}'.")
    scope = form.get("scope", "")
    resources = [s for s in scope.split() if s.endswith("/.default")]
    if not resources:
        return _aad_error(sim, 400, "invalid_scope", 1002012,
                          f"The provided value for scope {scope} is not valid. Client credential "
                          "flows must have a scope value with /.default suffixed to the resource "
                          "identifier (application ID URI).")
    audience = resources[0][: -len("/.default")]
    if audience.rstrip("/") not in {a.rstrip("/") for a in sim.arm_audiences()}:
        return _aad_error(sim, 400, "invalid_resource", 500011,
                          f"The resource principal named {audience} was not found in the tenant "
                          f"named {tenant}.")
    sim.metrics.tokens_issued += 1
    return {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
            "ext_expires_in": TOKEN_LIFETIME_S, "access_token": ident.mint(audience)}


def _cloud(sim) -> dict:
    arm = sim.base_url
    return {
        "portal": arm,
        "authentication": {"loginEndpoint": sim.base_url, "audiences": [arm + "/"],
                           "tenant": "common", "identityProvider": "AAD"},
        "media": arm,
        "graphAudience": arm,
        "graph": arm,
        "name": "AvdSim",
        "suffixes": {"azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                     "acrLoginServer": "azurecr.io", "sqlServerHostname": "database.windows.net",
                     "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
                     "keyVaultDns": "vault.azure.net", "storage": "core.windows.net",
                     "azureFrontDoorEndpointSuffix": "azurefd.net"},
        "batch": arm,
        "resourceManager": arm + "/",
        "vmImageAliasDoc": arm,
        "activeDirectoryDataLake": arm,
        "sqlManagement": arm,
        "microsoftGraphResourceId": arm + "/",
        "appInsightsResourceId": arm,
        "appInsightsTelemetryChannelResourceId": arm,
        "attestationResourceId": arm,
        "synapseAnalyticsResourceId": arm,
        "logAnalyticsResourceId": arm,
        "ossrDbmsResourceId": arm,
    }


@route("GET", "/metadata/endpoints", auth=False, api_version=False)
def metadata_endpoints(sim, req):
    """api-version 2022-09-01 (and later) returns a JSON array of clouds; older versions
    (2015-01-01, 2019-05-01) return the single cloud object."""
    api = req.query.get("api-version", "")
    if not api:
        from .errors import ArmError
        raise ArmError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all "
                       "requests.")
    cloud = _cloud(sim)
    if api >= "2022-09-01":
        return [cloud]
    return cloud
