"""Entra ID (client credentials, resource-owner password) and the ARM metadata document.

Routes: ``GET /{tenant}/v2.0/.well-known/openid-configuration``,
``POST /{tenant}/oauth2/v2.0/token``, ``GET /common/userrealm/{username}``,
``GET /metadata/endpoints?api-version=...``.
Access tokens are HS256 JWTs with ``aud`` = the ARM endpoint, ``tid``, ``appid`` and an
``exp`` one hour of REAL time ahead (token lifetimes are about the client's real clock).

Users (scenario key ``entra_users``: ``user_principal_name`` and ``password``) sign in with the
OAuth2 resource-owner password grant (``grant_type=password``) through a public client, as
azure-identity's ``UsernamePasswordCredential`` does: the Azure CLI's first-party client id,
which exists in every tenant, or the scenario's app (a confidential client, so it must also
send its secret). https://learn.microsoft.com/entra/identity-platform/v2-oauth-ropc"""

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
# Microsoft Azure CLI: a first-party public client present in every tenant; azure.azcollection
# signs users in with it when no client id is given (plugins/module_utils/azure_rm_common.py).
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


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
        self.users: dict[str, dict] = {}  # lower-case UPN -> {"upn", "password", "oid"}

    def add_user(self, upn: str, password: str) -> None:
        if "@" not in upn or not password:
            raise ValueError(f"scenario entra_users: '{upn}' needs a user_principal_name "
                             "(name@domain) and a password")
        self.users[upn.lower()] = {"upn": upn, "password": password,
                                   "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, "user:" + upn.lower()))}

    def mint(self, audience: str, user: dict | None = None, client_id: str | None = None) -> str:
        """An access token for the app itself, or for ``user`` signed in through ``client_id``."""
        now = int(time.time())
        claims = {"aud": audience, "iss": f"https://sts.windows.net/{self.tenant_id}/",
                  "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_S,
                  "appid": self.client_id, "oid": self.object_id, "sub": self.object_id,
                  "tid": self.tenant_id, "idtyp": "app", "ver": "1.0"}
        if user is not None:
            claims.update(appid=client_id, oid=user["oid"], sub=user["oid"], idtyp="user",
                          upn=user["upn"], unique_name=user["upn"], scp="user_impersonation")
        return self._sign(claims)

    def id_token(self, user: dict, client_id: str, issuer: str) -> str:
        """The OpenID Connect id token of a password sign-in (MSAL builds its account from it)."""
        now = int(time.time())
        return self._sign({"aud": client_id, "iss": issuer, "iat": now, "nbf": now,
                           "exp": now + TOKEN_LIFETIME_S, "oid": user["oid"], "sub": user["oid"],
                           "tid": self.tenant_id, "preferred_username": user["upn"],
                           "name": user["upn"].split("@")[0], "ver": "2.0"})

    def _sign(self, claims: dict) -> str:
        header = {"typ": "JWT", "alg": "HS256", "kid": "avdsim"}
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
    grant = form.get("grant_type")
    # ROPC signs in through /organizations or the tenant; /common and /consumers do not work
    # for it (https://learn.microsoft.com/entra/identity-platform/v2-oauth-ropc).
    tenants = (ident.tenant_id.lower(), "organizations") if grant == "password" else (ident.tenant_id.lower(),)
    if tenant.lower() not in tenants:
        return _aad_error(sim, 400, "invalid_request", 90002,
                          f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                          "tenant ID and are signing into the correct cloud.")
    if grant not in ("client_credentials", "password"):
        return _aad_error(sim, 400, "unsupported_grant_type", 70003,
                          "The app requested an unsupported grant type "
                          f"'{form.get('grant_type')}'.")
    refused = _client_refused(sim, tenant, form)
    if refused is not None:
        return refused
    audience, refused = _audience(sim, tenant, form.get("scope", ""))
    if refused is not None:
        return refused
    if grant == "password":
        return _password_grant(sim, form, audience)
    sim.metrics.tokens_issued += 1
    return {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
            "ext_expires_in": TOKEN_LIFETIME_S, "access_token": ident.mint(audience)}


def _client_refused(sim, tenant, form):
    """The error response when the client cannot use this grant, else None. A user signs in
    through the Azure CLI's public client or the scenario's app (which must then prove itself
    with its secret, as every confidential client must); the app alone only with its secret."""
    ident = sim.identity
    client_id = form.get("client_id")
    if form.get("grant_type") == "password" and client_id == AZURE_CLI_CLIENT_ID:
        return None
    if client_id != ident.client_id:
        return _aad_error(sim, 400, "unauthorized_client", 700016,
                          f"Application with identifier '{client_id}' was not found "
                          f"in the directory '{tenant}'.")
    secret = form.get("client_secret")
    if secret is None:
        return _aad_error(sim, 401, "invalid_client", 7000218,
                          "The request body must contain the following parameter: "
                          "'client_assertion' or 'client_secret'.")
    if not hmac.compare_digest(secret.encode(), ident.client_secret.encode()):
        return _aad_error(sim, 401, "invalid_client", 7000215,
                          "Invalid client secret provided. Ensure the secret being sent in the "
                          "request is the client secret value, not the client secret ID, for a "
                          f"secret added to app '{ident.client_id}'.")
    return None


def _audience(sim, tenant, scope):
    """(the resource the token is for, None) or (None, the error response)."""
    resources = [s for s in scope.split() if s.endswith("/.default")]
    if not resources:
        return None, _aad_error(sim, 400, "invalid_scope", 1002012,
                                f"The provided value for scope {scope} is not valid. Client credential "
                                "flows must have a scope value with /.default suffixed to the resource "
                                "identifier (application ID URI).")
    audience = resources[0][: -len("/.default")]
    if audience.rstrip("/") not in {a.rstrip("/") for a in sim.arm_audiences()}:
        return None, _aad_error(sim, 400, "invalid_resource", 500011,
                                f"The resource principal named {audience} was not found in the tenant "
                                f"named {tenant}.")
    return audience, None


def _password_grant(sim, form, audience):
    """Resource-owner password credentials: the user's tokens, or Entra's refusal. A wrong
    password and an unknown user are told apart as Entra tells them apart (AADSTS50126,
    AADSTS50034: https://learn.microsoft.com/entra/identity-platform/reference-error-codes)."""
    ident = sim.identity
    for name in ("username", "password"):
        if not form.get(name):
            return _aad_error(sim, 400, "invalid_request", 900144,
                              f"The request body must contain the following parameter: '{name}'.")
    user = ident.users.get(form["username"].lower())
    if user is None:
        return _aad_error(sim, 400, "invalid_grant", 50034,
                          "The user account {EUII Hidden} does not exist in the "
                          f"{ident.tenant_id} directory. To sign into this application, the "
                          "account must be added to the directory.")
    if not hmac.compare_digest(form["password"].encode(), user["password"].encode()):
        return _aad_error(sim, 400, "invalid_grant", 50126,
                          "Error validating credentials due to invalid username or password.")
    client_id = form["client_id"]
    info = {"uid": user["oid"], "utid": ident.tenant_id}
    sim.metrics.tokens_issued += 1
    return {"token_type": "Bearer", "scope": f"{audience.rstrip('/')}/.default",
            "expires_in": TOKEN_LIFETIME_S, "ext_expires_in": TOKEN_LIFETIME_S,
            "access_token": ident.mint(audience, user=user, client_id=client_id),
            "id_token": ident.id_token(user, client_id, f"{sim.base_url}/{ident.tenant_id}/v2.0"),
            "client_info": _b64(json.dumps(info).encode())}


@route("GET", "/common/userrealm/{username}", auth=False, api_version=False)
def user_realm(sim, req):
    """Home realm discovery, which MSAL asks before a password sign-in: every user of the
    tenant is a cloud-only ("Managed") account; no federation."""
    username = req.params["username"]
    known = username.lower() in sim.identity.users
    realm = {"ver": "1.0", "account_type": "Managed" if known else "Unknown",
             "cloud_instance_name": "microsoftonline.com",
             "cloud_audience_urn": "urn:federation:MicrosoftOnline"}
    if known:
        realm["domain_name"] = username.split("@", 1)[1]
    return realm


def register(sim):
    sim.scenario_section("entra_users", _load_users, order=5)


def _load_users(sim, users):
    for user in users:
        sim.identity.add_user(str(user.get("user_principal_name", "")), str(user.get("password", "")))


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
