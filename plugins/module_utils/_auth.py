# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Credential and cloud resolution, compatible with azure.azcollection and AWX.

Resolution is split in two pure steps that unit tests drive with a plain ``environ`` dict:
``resolve_settings(params, environ)`` decides which identity, subscription and cloud to use, and
``build_credential(settings)`` turns that into an azure-identity credential. Module parameters
always win over environment variables, field by field.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
from urllib.parse import urlparse
from urllib.request import url2pathname

AUTH_SOURCES = ("auto", "env", "credential_file", "cli", "msi")

AUTH_ARGUMENT_SPEC = dict(
    auth_source=dict(type="str", choices=list(AUTH_SOURCES)),
    subscription_id=dict(type="str"),
    client_id=dict(type="str"),
    secret=dict(type="str", no_log=True),
    tenant=dict(type="str"),
    ad_user=dict(type="str"),
    password=dict(type="str", no_log=True),
    profile=dict(type="str"),
    cloud_environment=dict(type="str"),
)

# option -> environment variables, first match wins (azure.azcollection/AWX names first,
# then the azure-identity names).
ENV_NAMES = {
    "auth_source": ("ANSIBLE_AZURE_AUTH_SOURCE",),
    "subscription_id": ("AZURE_SUBSCRIPTION_ID",),
    "client_id": ("AZURE_CLIENT_ID",),
    "secret": ("AZURE_SECRET", "AZURE_CLIENT_SECRET"),
    "tenant": ("AZURE_TENANT", "AZURE_TENANT_ID"),
    "ad_user": ("AZURE_AD_USER",),
    "password": ("AZURE_PASSWORD",),
    "profile": ("AZURE_PROFILE",),
    "cloud_environment": ("AZURE_CLOUD_ENVIRONMENT",),
    "federated_token_file": ("AZURE_FEDERATED_TOKEN_FILE",),
}

METADATA_TIMEOUT = 30

# A user signs in through this client when no client_id is given: the Azure CLI's first-party
# public client, present in every tenant (as azure.azcollection does, azure_rm_common.py), and
# through the tenant ``organizations`` (the user's home tenant) when no tenant is given.
USER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
USER_TENANT = "organizations"


class AuthConfigError(ValueError):
    """The authentication options cannot be resolved; the message says what to set."""


class Cloud:
    """Endpoints of one Azure cloud."""

    def __init__(self, name, resource_manager, authority, credential_scopes, custom=False):
        self.name = name
        self.resource_manager = resource_manager if resource_manager.endswith("/") else resource_manager + "/"
        self.authority = authority
        self.credential_scopes = list(credential_scopes)
        self.custom = custom

    def as_dict(self):
        return {
            "name": self.name,
            "resource_manager": self.resource_manager,
            "authority": self.authority,
            "credential_scopes": list(self.credential_scopes),
            "custom": self.custom,
        }

    def __repr__(self):
        return "Cloud(%r)" % (self.as_dict(),)


KNOWN_CLOUDS = {
    "AzureCloud": Cloud(
        "AzureCloud", "https://management.azure.com/", "https://login.microsoftonline.com",
        ["https://management.azure.com/.default"]),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us",
        ["https://management.core.usgovcloudapi.net/.default"]),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn",
        ["https://management.chinacloudapi.cn/.default"]),
}

KNOWN_AUTHORITY_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")


class AuthSettings:
    """What ``resolve_settings`` decided. ``secret`` is never part of ``describe()``."""

    def __init__(self, source, kind, subscription_id, cloud, client_id=None, secret=None, tenant=None,
                 federated_token_file=None, profile=None, ad_user=None, password=None):
        self.source = source
        self.ad_user = ad_user
        self.password = password
        self.kind = kind
        self.subscription_id = subscription_id
        self.cloud = cloud
        self.client_id = client_id
        self.secret = secret
        self.tenant = tenant
        self.federated_token_file = federated_token_file
        self.profile = profile

    def describe(self):
        """Safe summary for results and errors (no secret)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "subscription_id": self.subscription_id,
            "client_id": self.client_id,
            "tenant": self.tenant,
            "ad_user": self.ad_user,
            "profile": self.profile,
            "cloud": self.cloud.name,
            "resource_manager": self.cloud.resource_manager,
        }


def _env(environ, option):
    for name in ENV_NAMES[option]:
        value = environ.get(name)
        if value:
            return value
    return None


def _pick(params, environ, option):
    value = params.get(option)
    if value not in (None, ""):
        return value
    return _env(environ, option)


def _config_dir(environ):
    if environ.get("AZURE_CONFIG_DIR"):
        return environ["AZURE_CONFIG_DIR"]
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".azure")


def credential_file_path(environ):
    return os.path.join(_config_dir(environ), "credentials")


def read_profile(environ, profile):
    """Read one section of the azure.azcollection credential file (``~/.azure/credentials``)."""
    path = credential_file_path(environ)
    parser = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return None
    except (OSError, configparser.Error) as exc:
        raise AuthConfigError("Cannot read the Azure credential file %s: %s" % (path, exc))
    if not parser.has_section(profile):
        return None
    return dict(parser.items(profile))


def _cli_default_subscription(environ):
    path = os.path.join(_config_dir(environ), "azureProfile.json")
    try:
        # the Azure CLI writes this file with a byte-order mark
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    for subscription in data.get("subscriptions", []):
        if subscription.get("isDefault"):
            return subscription.get("id")
    return None


def _which(program, environ):
    return shutil.which(program, path=environ.get("PATH"))


def _identity(source, params, environ, fields, cloud_value, fetch):
    """A user (``ad_user``, without a client secret or token file) or a service principal."""
    if fields.get("ad_user") and not (fields.get("secret") or fields.get("federated_token_file")):
        return _user_password(source, fields, cloud_value, fetch)
    return _service_principal(source, params, environ, fields, cloud_value, fetch)


def _user_password(source, fields, cloud_value, fetch):
    """A Microsoft Entra user with a password (resource-owner password sign-in), as
    azure.azcollection and AWX's username/password credential (AZURE_AD_USER, AZURE_PASSWORD)."""
    if not fields.get("password"):
        raise AuthConfigError(
            "auth_source=%s: ad_user is set but no password (option 'password' or AZURE_PASSWORD)." % source)
    return AuthSettings(
        source=source, kind="user_password",
        subscription_id=_require_subscription(source, fields.get("subscription_id")),
        cloud=resolve_cloud(cloud_value or fields.get("cloud_environment"), fetch=fetch),
        client_id=fields.get("client_id") or USER_CLIENT_ID, tenant=fields.get("tenant") or USER_TENANT,
        ad_user=fields["ad_user"], password=fields["password"], profile=fields.get("profile"),
    )


def _service_principal(source, params, environ, fields, cloud_value, fetch):
    """Client secret or workload identity from ``fields`` (already merged params over source)."""
    client_id = fields.get("client_id")
    tenant = fields.get("tenant")
    secret = fields.get("secret")
    token_file = fields.get("federated_token_file")
    if not client_id:
        raise AuthConfigError("auth_source=%s: no client_id (or AZURE_CLIENT_ID) is set." % source)
    if secret:
        kind = "client_secret"
    elif token_file:
        kind = "workload_identity"
    else:
        raise AuthConfigError(
            "auth_source=%s: client_id is set but neither a secret (option 'secret', AZURE_SECRET or "
            "AZURE_CLIENT_SECRET) nor AZURE_FEDERATED_TOKEN_FILE." % source)
    if not tenant:
        raise AuthConfigError(
            "auth_source=%s: a service principal needs a tenant (option 'tenant', AZURE_TENANT or "
            "AZURE_TENANT_ID)." % source)
    return AuthSettings(
        source=source, kind=kind,
        subscription_id=_require_subscription(source, fields.get("subscription_id")),
        cloud=resolve_cloud(cloud_value or fields.get("cloud_environment"), fetch=fetch),
        client_id=client_id, secret=secret, tenant=tenant,
        federated_token_file=token_file if kind == "workload_identity" else None,
        profile=fields.get("profile"),
    )


def _require_subscription(source, subscription_id):
    if not subscription_id:
        raise AuthConfigError(
            "auth_source=%s: no subscription; set the option 'subscription_id' or AZURE_SUBSCRIPTION_ID." % source)
    return subscription_id


def _merged(params, environ, base):
    """Params over ``base`` (a credential-file profile or the environment), field by field."""
    out = {}
    for option in ("subscription_id", "client_id", "secret", "tenant", "cloud_environment",
                   "federated_token_file", "profile", "ad_user", "password"):
        value = params.get(option)
        out[option] = value if value not in (None, "") else base.get(option)
    return out


def _env_fields(environ):
    return {option: _env(environ, option) for option in ENV_NAMES}


def _from_profile(source, params, environ, profile, cloud_value, fetch):
    section = read_profile(environ, profile)
    if section is None:
        raise AuthConfigError(
            "auth_source=%s: profile %r not found in %s." % (source, profile, credential_file_path(environ)))
    section = dict(section, profile=profile)
    fields = _merged(params, environ, section)
    return _identity(source, params, environ, fields, cloud_value, fetch)


def resolve_settings(params, environ=None, fetch=None):
    """Decide the identity, subscription and cloud for ``params`` (module options) and ``environ``.

    ``auth_source`` (option, else ANSIBLE_AZURE_AUTH_SOURCE, else ``auto``):
    - ``auto``: module options (``profile``, or ``client_id`` or ``ad_user``), then the environment
      (AZURE_PROFILE, or AZURE_CLIENT_ID with a secret or a federated token file, or
      AZURE_AD_USER), then the
      ``default`` profile of the credential file, then the Azure CLI when ``az`` is installed, then
      managed identity when the process runs where one is announced (IDENTITY_ENDPOINT/MSI_ENDPOINT).
    - ``env``, ``credential_file``, ``cli``, ``msi``: only that source.
    ``cloud_environment`` (option, else AZURE_CLOUD_ENVIRONMENT, else the profile's, else AzureCloud)
    applies to every source.
    """
    environ = os.environ if environ is None else environ
    params = {key: value for key, value in (params or {}).items() if value not in (None, "")}
    auth_source = params.get("auth_source") or _env(environ, "auth_source") or "auto"
    if auth_source not in AUTH_SOURCES:
        raise AuthConfigError("auth_source must be one of %s, got %r." % (", ".join(AUTH_SOURCES), auth_source))
    cloud_value = _pick(params, environ, "cloud_environment")
    env = _env_fields(environ)

    if auth_source != "auto":
        return _from_source(auth_source, params, environ, env, cloud_value, fetch)
    return _auto(params, environ, env, cloud_value, fetch)


def _from_source(auth_source, params, environ, env, cloud_value, fetch):
    """The settings of the one source ``auth_source`` names (not ``auto``)."""
    if auth_source == "env":
        return _identity("env", params, environ, _merged(params, environ, env), cloud_value, fetch)
    if auth_source == "credential_file":
        profile = _pick(params, environ, "profile") or "default"
        return _from_profile("credential_file", params, environ, profile, cloud_value, fetch)
    if auth_source == "cli":
        return _cli(params, environ, env, cloud_value, fetch)
    return _msi(params, environ, env, cloud_value, fetch)


def _auto(params, environ, env, cloud_value, fetch):
    """``auth_source=auto``: the first source that has credentials, in the documented order."""
    if params.get("profile"):
        return _from_profile("credential_file", params, environ, params["profile"], cloud_value, fetch)
    if params.get("client_id") or params.get("ad_user"):
        return _identity("params", params, environ, _merged(params, environ, env), cloud_value, fetch)
    if env.get("profile"):
        return _from_profile("credential_file", params, environ, env["profile"], cloud_value, fetch)
    if env.get("client_id") and (env.get("secret") or env.get("federated_token_file")) or env.get("ad_user"):
        return _identity("env", params, environ, _merged(params, environ, env), cloud_value, fetch)
    if read_profile(environ, "default") is not None:
        return _from_profile("credential_file", params, environ, "default", cloud_value, fetch)
    if _which("az", environ):
        return _cli(params, environ, env, cloud_value, fetch)
    if environ.get("IDENTITY_ENDPOINT") or environ.get("MSI_ENDPOINT"):
        return _msi(params, environ, env, cloud_value, fetch)
    raise AuthConfigError(
        "No Azure credentials found (auth_source=auto). Set client_id/secret/tenant/subscription_id "
        "(or AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT, AZURE_SUBSCRIPTION_ID), or ad_user/password "
        "(AZURE_AD_USER, AZURE_PASSWORD), a profile in %s, "
        "log in with 'az login', or use auth_source=msi on an Azure VM with a managed identity."
        % credential_file_path(environ))


def _cli(params, environ, env, cloud_value, fetch):
    subscription_id = params.get("subscription_id") or env.get("subscription_id") or _cli_default_subscription(environ)
    return AuthSettings(
        source="cli", kind="cli",
        subscription_id=_require_subscription("cli", subscription_id),
        cloud=resolve_cloud(cloud_value, fetch=fetch),
        tenant=params.get("tenant"),
    )


def _msi(params, environ, env, cloud_value, fetch):
    # a user-assigned identity is named by its client id, as in azure.azcollection
    return AuthSettings(
        source="msi", kind="msi",
        subscription_id=_require_subscription("msi", params.get("subscription_id") or env.get("subscription_id")),
        cloud=resolve_cloud(cloud_value, fetch=fetch),
        client_id=params.get("client_id") or env.get("client_id"),
    )


# ---------------------------------------------------------------------------------------- clouds

def resolve_cloud(value, fetch=None):
    """A ``Cloud`` for a cloud name (AzureCloud, AzureUSGovernment, AzureChinaCloud; any case) or
    the https:// (or file://) URL of an ARM metadata document."""
    if not value:
        return KNOWN_CLOUDS["AzureCloud"]
    for name, cloud in KNOWN_CLOUDS.items():
        if value.lower() == name.lower():
            return cloud
    scheme = urlparse(value).scheme.lower()
    if scheme not in ("https", "file"):
        raise AuthConfigError(
            "cloud_environment must be one of %s or the https:// URL of an ARM metadata document "
            "(<resource manager>/metadata/endpoints?api-version=2022-09-01), got %r."
            % (", ".join(KNOWN_CLOUDS), value))
    document = (fetch or fetch_metadata)(value)
    return cloud_from_metadata(document, value)


def fetch_metadata(url):
    """Read an ARM metadata document. https uses ``requests`` (trusts REQUESTS_CA_BUNDLE; TLS is
    always verified), file:// reads a local copy (for networks without access to the endpoint)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        try:
            with open(url2pathname(parsed.path), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as exc:
            raise AuthConfigError("cloud_environment: cannot read the metadata document %s: %s" % (url, exc))
    try:
        import requests  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise AuthConfigError("cloud_environment: reading a metadata URL needs the Python package 'requests'.")
    try:
        response = requests.get(url, timeout=METADATA_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except requests.exceptions.SSLError as exc:
        raise AuthConfigError(
            "cloud_environment: TLS verification of %s failed (%s). If the endpoint uses a private CA, "
            "point REQUESTS_CA_BUNDLE to its certificate." % (url, exc))
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise AuthConfigError("cloud_environment: cannot read the metadata document %s: %s" % (url, exc))


def cloud_from_metadata(document, url=""):
    """Build a ``Cloud`` from an ARM metadata document (one cloud object, or a list of them)."""
    if isinstance(document, list):
        host = urlparse(url).netloc.lower()
        matches = [item for item in document if isinstance(item, dict)
                   and urlparse(str(item.get("resourceManager", ""))).netloc.lower() == host]
        document = matches[0] if matches else (document[0] if document else None)
    if not isinstance(document, dict):
        raise AuthConfigError("cloud_environment: %s is not an ARM metadata document." % url)
    resource_manager = document.get("resourceManager")
    authentication = document.get("authentication") or {}
    login = authentication.get("loginEndpoint")
    audiences = authentication.get("audiences") or []
    missing = [name for name, present in (("resourceManager", resource_manager),
                                          ("authentication.loginEndpoint", login),
                                          ("authentication.audiences", audiences)) if not present]
    if missing:
        raise AuthConfigError("cloud_environment: the metadata document %s lacks %s." % (url, ", ".join(missing)))
    for label, endpoint in (("resourceManager", resource_manager), ("authentication.loginEndpoint", login)):
        if urlparse(endpoint).scheme.lower() != "https":
            raise AuthConfigError("cloud_environment: %s in %s must be an https URL, got %r." % (label, url, endpoint))
    known = urlparse(login).netloc.lower() in KNOWN_AUTHORITY_HOSTS
    return Cloud(
        name=document.get("name") or url,
        resource_manager=resource_manager,
        authority=login.rstrip("/"),
        credential_scopes=[audiences[0] + "/.default"],
        custom=not known,
    )


# ----------------------------------------------------------------------------------- credentials

def credential_kwargs(cloud):
    """Keyword arguments for azure-identity credentials that talk to Entra ID directly."""
    kwargs = {"authority": cloud.authority}
    if cloud.custom:
        # a private authority is not in Microsoft's instance-discovery list
        kwargs["disable_instance_discovery"] = True
    return kwargs


def build_credential(settings):
    """The azure-identity credential for ``settings``. Raises ImportError without azure-identity."""
    from azure.identity import (  # pylint: disable=import-outside-toplevel
        AzureCliCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
        UsernamePasswordCredential,
        WorkloadIdentityCredential,
    )

    if settings.kind == "client_secret":
        return ClientSecretCredential(settings.tenant, settings.client_id, settings.secret,
                                      **credential_kwargs(settings.cloud))
    if settings.kind == "user_password":
        _realm_discovery_port_workaround(settings.cloud.authority)
        return UsernamePasswordCredential(settings.client_id, settings.ad_user, settings.password,
                                          tenant_id=settings.tenant, **credential_kwargs(settings.cloud))
    if settings.kind == "workload_identity":
        return WorkloadIdentityCredential(tenant_id=settings.tenant, client_id=settings.client_id,
                                          token_file_path=settings.federated_token_file,
                                          **credential_kwargs(settings.cloud))
    if settings.kind == "cli":
        return AzureCliCredential(tenant_id=settings.tenant or "")
    if settings.kind == "msi":
        if settings.client_id:
            return ManagedIdentityCredential(client_id=settings.client_id)
        return ManagedIdentityCredential()
    raise AuthConfigError("Unknown credential kind %r." % (settings.kind,))


def _realm_discovery_port_workaround(authority):
    """Before a password sign-in MSAL asks the authority's home-realm discovery endpoint, at
    ``https://<host>/common/userrealm/...``: it drops the port of an authority that has one (a
    private cloud's, the simulator's) and would ask another server. Such an authority gets what
    MSAL itself does after a 404 there: the plain password grant, without realm discovery
    (federated accounts cannot sign in with a password through a private authority anyway)."""
    parsed = urlparse(authority)
    if parsed.port in (None, 443):
        return
    try:
        from msal.authority import Authority  # pylint: disable=import-outside-toplevel
        Authority._domains_without_user_realm_discovery.add(parsed.hostname)  # pylint: disable=protected-access
    except (ImportError, AttributeError):
        pass
