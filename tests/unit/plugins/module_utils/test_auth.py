"""Credential source order, AWX / azure-identity environment names, params over env, cloud resolution."""

from __future__ import annotations

import datetime
import http.server
import json
import os
import ssl
import stat
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.goldenimage.avd.plugins.module_utils import _auth
from ansible_collections.goldenimage.avd.plugins.module_utils._auth import (
    AuthConfigError,
    build_credential,
    cloud_from_metadata,
    credential_kwargs,
    resolve_cloud,
    resolve_settings,
)

SUB = "00000000-0000-0000-0000-00000000000a"
SUB_ENV = "00000000-0000-0000-0000-00000000000e"
SUB_FILE = "00000000-0000-0000-0000-00000000000f"
SUB_CLI = "00000000-0000-0000-0000-00000000000c"

SIM_DOC = {
    "name": "AvdSim",
    "resourceManager": "https://127.0.0.1:8443/",
    "authentication": {
        "loginEndpoint": "https://127.0.0.1:8443/",
        "audiences": ["https://127.0.0.1:8443"],
        "tenant": "common",
    },
}


@pytest.fixture
def home(tmp_path):
    """An empty HOME (no credential file, no az on PATH) for one test."""
    path = tmp_path / "home"
    (path / ".azure").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    return path


def base_env(home, **extra):
    env = {"HOME": str(home), "PATH": str(home.parent / "bin")}
    env.update(extra)
    return env


def write_credentials(home, **profiles):
    lines = []
    for name, values in profiles.items():
        lines.append("[%s]" % name)
        lines += ["%s=%s" % item for item in values.items()]
    (home / ".azure" / "credentials").write_text("\n".join(lines) + "\n")


def install_az(home):
    az = home.parent / "bin" / "az"
    az.write_text("#!/bin/sh\nexit 0\n")
    az.chmod(az.stat().st_mode | stat.S_IEXEC)


AWX_ENV = {"AZURE_CLIENT_ID": "awx-client", "AZURE_SECRET": "awx-secret", "AZURE_TENANT": "awx-tenant",
           "AZURE_SUBSCRIPTION_ID": SUB_ENV}
FILE_PROFILE = {"subscription_id": SUB_FILE, "client_id": "file-client", "secret": "file-secret",
                "tenant": "file-tenant"}


# ------------------------------------------------------------------------------ source order (auto)

@pytest.mark.parametrize(
    "params, env, files, az, expected",
    [
        # module options first
        ({"client_id": "p-client", "secret": "p-secret", "tenant": "p-tenant", "subscription_id": SUB},
         AWX_ENV, True, True, ("params", "client_secret", "p-client", SUB)),
        ({"profile": "other"}, AWX_ENV, True, True, ("credential_file", "client_secret", "other-client", SUB_FILE)),
        # then the environment (AWX names)
        ({}, AWX_ENV, True, True, ("env", "client_secret", "awx-client", SUB_ENV)),
        ({}, dict(AWX_ENV, AZURE_PROFILE="other"), True, True,
         ("credential_file", "client_secret", "other-client", SUB_FILE)),
        # workload identity: client id + federated token file, no secret
        ({}, {"AZURE_CLIENT_ID": "wi", "AZURE_TENANT_ID": "t", "AZURE_SUBSCRIPTION_ID": SUB_ENV,
              "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"}, True, True,
         ("env", "workload_identity", "wi", SUB_ENV)),
        # then the default profile of the credential file
        ({}, {}, True, True, ("credential_file", "client_secret", "file-client", SUB_FILE)),
        # a client id alone in the environment is not a credential set; the file still wins
        ({}, {"AZURE_CLIENT_ID": "only-id"}, True, True, ("credential_file", "client_secret", "file-client", SUB_FILE)),
        # then the Azure CLI
        ({"subscription_id": SUB}, {}, False, True, ("cli", "cli", None, SUB)),
        ({}, {}, False, True, ("cli", "cli", None, SUB_CLI)),
        # then managed identity where the platform announces one
        ({"subscription_id": SUB}, {"IDENTITY_ENDPOINT": "http://169.254.169.254/x"}, False, False,
         ("msi", "msi", None, SUB)),
        ({"subscription_id": SUB}, {"MSI_ENDPOINT": "http://localhost:8081/msi/token", "AZURE_CLIENT_ID": "uami"},
         False, False, ("msi", "msi", "uami", SUB)),
    ],
)
def test_auto_source_order(home, params, env, files, az, expected):
    if files:
        write_credentials(home, default=FILE_PROFILE, other=dict(FILE_PROFILE, client_id="other-client"))
    (home / ".azure" / "azureProfile.json").write_text(
        "\ufeff" + json.dumps({"subscriptions": [{"id": "x", "isDefault": False}, {"id": SUB_CLI, "isDefault": True}]}))
    if az:
        install_az(home)
    settings = resolve_settings(params, base_env(home, **env))
    assert (settings.source, settings.kind, settings.client_id, settings.subscription_id) == expected


def test_auto_without_any_credentials_names_what_to_set(home):
    with pytest.raises(AuthConfigError) as err:
        resolve_settings({}, base_env(home))
    for hint in ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT", "az login", "auth_source=msi"):
        assert hint in str(err.value)


# ------------------------------------------------------------------------------ environment names

@pytest.mark.parametrize(
    "env, expected",
    [
        # AWX "Microsoft Azure Resource Manager" credential
        (AWX_ENV, ("awx-client", "awx-secret", "awx-tenant", SUB_ENV)),
        # azure-identity names
        ({"AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s2", "AZURE_TENANT_ID": "t2", "AZURE_SUBSCRIPTION_ID": SUB},
         ("c", "s2", "t2", SUB)),
        # both present: the azure.azcollection/AWX names win
        ({"AZURE_CLIENT_ID": "c", "AZURE_SECRET": "s1", "AZURE_CLIENT_SECRET": "s2", "AZURE_TENANT": "t1",
          "AZURE_TENANT_ID": "t2", "AZURE_SUBSCRIPTION_ID": SUB}, ("c", "s1", "t1", SUB)),
    ],
)
def test_environment_names(home, env, expected):
    for source in ("auto", "env"):
        settings = resolve_settings({"auth_source": source}, base_env(home, **env))
        assert settings.kind == "client_secret"
        assert (settings.client_id, settings.secret, settings.tenant, settings.subscription_id) == expected


def test_auth_source_from_ansible_env(home):
    write_credentials(home, default=FILE_PROFILE)
    env = base_env(home, ANSIBLE_AZURE_AUTH_SOURCE="credential_file", **AWX_ENV)
    assert resolve_settings({}, env).source == "credential_file"
    # the option beats the variable
    assert resolve_settings({"auth_source": "env"}, env).source == "env"


# ------------------------------------------------------------------------------ params beat env

@pytest.mark.parametrize(
    "params, field, value",
    [
        ({"subscription_id": SUB}, "subscription_id", SUB),
        ({"secret": "param-secret"}, "secret", "param-secret"),
        ({"tenant": "param-tenant"}, "tenant", "param-tenant"),
        ({"client_id": "param-client"}, "client_id", "param-client"),
        ({"subscription_id": ""}, "subscription_id", SUB_ENV),  # empty option = not set
    ],
)
def test_params_beat_env_field_by_field(home, params, field, value):
    settings = resolve_settings(params, base_env(home, **AWX_ENV))
    assert getattr(settings, field) == value
    untouched = {"client_id": "awx-client", "secret": "awx-secret", "tenant": "awx-tenant", "subscription_id": SUB_ENV}
    untouched.pop(field)
    for name, expected in untouched.items():
        assert getattr(settings, name) == expected


def test_params_beat_credential_file(home):
    write_credentials(home, default=FILE_PROFILE)
    settings = resolve_settings({"auth_source": "credential_file", "subscription_id": SUB}, base_env(home))
    assert (settings.subscription_id, settings.client_id) == (SUB, "file-client")


# ------------------------------------------------------------------------------ explicit sources

def test_explicit_env_ignores_credential_file(home):
    write_credentials(home, default=FILE_PROFILE)
    with pytest.raises(AuthConfigError, match="no client_id"):
        resolve_settings({"auth_source": "env"}, base_env(home))


def test_explicit_credential_file_ignores_env(home):
    write_credentials(home, default=FILE_PROFILE)
    settings = resolve_settings({"auth_source": "credential_file"}, base_env(home, **AWX_ENV))
    assert (settings.client_id, settings.subscription_id) == ("file-client", SUB_FILE)


def test_credential_file_honours_azure_config_dir(home, tmp_path):
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "credentials").write_text("[default]\n" + "\n".join("%s=%s" % i for i in FILE_PROFILE.items()))
    settings = resolve_settings({"auth_source": "credential_file"}, base_env(home, AZURE_CONFIG_DIR=str(config)))
    assert settings.client_id == "file-client"


@pytest.mark.parametrize(
    "params, env, message",
    [
        ({"auth_source": "env"}, {"AZURE_CLIENT_ID": "c", "AZURE_TENANT": "t", "AZURE_SUBSCRIPTION_ID": SUB},
         "neither a secret"),
        ({"auth_source": "env"}, {"AZURE_CLIENT_ID": "c", "AZURE_SECRET": "s", "AZURE_SUBSCRIPTION_ID": SUB},
         "needs a tenant"),
        ({"auth_source": "env"}, {"AZURE_CLIENT_ID": "c", "AZURE_SECRET": "s", "AZURE_TENANT": "t"},
         "no subscription"),
        ({"auth_source": "credential_file", "profile": "missing"}, {}, "profile 'missing' not found"),
        ({"auth_source": "msi"}, {}, "no subscription"),
        ({"auth_source": "cli"}, {}, "no subscription"),
        ({"auth_source": "kerberos"}, {}, "auth_source must be one of auto, env, credential_file, cli, msi"),
    ],
)
def test_configuration_errors_say_what_to_set(home, params, env, message):
    with pytest.raises(AuthConfigError, match=message):
        resolve_settings(params, base_env(home, **env))


def test_secret_never_in_describe(home):
    settings = resolve_settings({}, base_env(home, **AWX_ENV))
    assert "awx-secret" not in json.dumps(settings.describe())


# ------------------------------------------------------------------------------ clouds

@pytest.mark.parametrize(
    "value, arm, authority, scope",
    [
        (None, "https://management.azure.com/", "https://login.microsoftonline.com",
         "https://management.azure.com/.default"),
        ("AzureCloud", "https://management.azure.com/", "https://login.microsoftonline.com",
         "https://management.azure.com/.default"),
        ("azurecloud", "https://management.azure.com/", "https://login.microsoftonline.com",
         "https://management.azure.com/.default"),
        ("AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us",
         "https://management.core.usgovcloudapi.net/.default"),
        ("AzureChinaCloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn",
         "https://management.chinacloudapi.cn/.default"),
    ],
)
def test_named_clouds(value, arm, authority, scope):
    cloud = resolve_cloud(value)
    assert (cloud.resource_manager, cloud.authority, cloud.credential_scopes, cloud.custom) == \
        (arm, authority, [scope], False)
    assert "disable_instance_discovery" not in credential_kwargs(cloud)


@pytest.mark.parametrize("value", ["AzureGermanCloud", "http://127.0.0.1:8443/metadata/endpoints", "ftp://x", "cloud"])
def test_bad_cloud_names_list_allowed_values(value):
    with pytest.raises(AuthConfigError) as err:
        resolve_cloud(value)
    assert "AzureCloud, AzureUSGovernment, AzureChinaCloud" in str(err.value)
    assert "https://" in str(err.value)


def test_cloud_from_metadata_file_url(tmp_path):
    doc = tmp_path / "endpoints.json"
    doc.write_text(json.dumps(SIM_DOC))
    cloud = resolve_cloud(doc.as_uri())
    assert cloud.resource_manager == "https://127.0.0.1:8443/"
    assert cloud.authority == "https://127.0.0.1:8443"
    assert cloud.credential_scopes == ["https://127.0.0.1:8443/.default"]
    assert cloud.custom is True
    assert credential_kwargs(cloud) == {"authority": "https://127.0.0.1:8443", "disable_instance_discovery": True}


def test_metadata_list_form_picks_matching_cloud():
    other = dict(SIM_DOC, name="Other", resourceManager="https://other.example/")
    cloud = cloud_from_metadata([other, SIM_DOC], "https://127.0.0.1:8443/metadata/endpoints?api-version=2019-05-01")
    assert cloud.name == "AvdSim"


def test_public_metadata_document_is_not_custom():
    doc = {"resourceManager": "https://management.azure.com/",
           "authentication": {"loginEndpoint": "https://login.microsoftonline.com/",
                              "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"]}}
    cloud = cloud_from_metadata(doc, "https://management.azure.com/metadata/endpoints?api-version=2022-09-01")
    assert cloud.custom is False
    # first audience + "/.default", as the Azure CLI turns a resource into a scope
    assert cloud.credential_scopes == ["https://management.core.windows.net//.default"]


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"authentication": SIM_DOC["authentication"]}, "lacks resourceManager"),
        ({"resourceManager": "https://x/"}, "lacks authentication.loginEndpoint, authentication.audiences"),
        (dict(SIM_DOC, resourceManager="http://127.0.0.1:8443/"), "resourceManager .* must be an https URL"),
        ("nonsense", "is not an ARM metadata document"),
    ],
)
def test_bad_metadata_documents(doc, message):
    with pytest.raises(AuthConfigError, match=message):
        cloud_from_metadata(doc, "https://x/metadata/endpoints")


# A real HTTPS server with its own CA: the metadata document is read over verified TLS.

def _certificates(directory):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "goldenimage unit-test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress  # pylint: disable=import-outside-toplevel
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path = directory / "server.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path, cert_path


@pytest.fixture(scope="module")
def metadata_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    ca_path, cert_path = _certificates(directory)
    requests_seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            requests_seen.append(self.path)
            port = self.server.server_address[1]
            base = "https://127.0.0.1:%d/" % port
            body = json.dumps({"name": "UnitTestCloud", "resourceManager": base,
                               "authentication": {"loginEndpoint": base, "audiences": [base.rstrip("/")]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": "https://127.0.0.1:%d/metadata/endpoints?api-version=2022-09-01" % server.server_address[1],
               "ca": str(ca_path), "seen": requests_seen}
    finally:
        server.shutdown()
        server.server_close()


def test_cloud_from_metadata_over_https_with_private_ca(metadata_server, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", metadata_server["ca"])
    cloud = resolve_cloud(metadata_server["url"])
    base = metadata_server["url"].split("/metadata")[0]
    assert cloud.name == "UnitTestCloud"
    assert cloud.resource_manager == base + "/"
    assert cloud.credential_scopes == [base + "/.default"]
    assert credential_kwargs(cloud)["disable_instance_discovery"] is True
    assert metadata_server["seen"][-1] == "/metadata/endpoints?api-version=2022-09-01"


def test_untrusted_certificate_is_refused(metadata_server, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(AuthConfigError, match="TLS verification .* failed.*REQUESTS_CA_BUNDLE"):
        resolve_cloud(metadata_server["url"])


@pytest.mark.parametrize("source", ["auto", "env", "credential_file", "cli", "msi"])
def test_cloud_environment_option_honoured_by_every_source(home, tmp_path, source):
    doc = tmp_path / "endpoints.json"
    doc.write_text(json.dumps(SIM_DOC))
    write_credentials(home, default=dict(FILE_PROFILE, cloud_environment="AzureChinaCloud"))
    install_az(home)
    env = base_env(home, AZURE_CLOUD_ENVIRONMENT="AzureUSGovernment", **AWX_ENV)
    settings = resolve_settings({"auth_source": source, "cloud_environment": doc.as_uri()}, env)
    assert settings.cloud.resource_manager == "https://127.0.0.1:8443/"
    # without the option, the environment variable applies, then the profile
    assert resolve_settings({"auth_source": source}, env).cloud.name == "AzureUSGovernment"
    if source == "credential_file":
        del env["AZURE_CLOUD_ENVIRONMENT"]
        assert resolve_settings({"auth_source": source}, env).cloud.name == "AzureChinaCloud"


# ------------------------------------------------------------------------------ credentials

@pytest.mark.parametrize(
    "params, env, class_name",
    [
        ({}, AWX_ENV, "ClientSecretCredential"),
        ({"auth_source": "cli", "subscription_id": SUB}, {}, "AzureCliCredential"),
        ({"auth_source": "msi", "subscription_id": SUB}, {}, "ManagedIdentityCredential"),
        ({"auth_source": "msi", "subscription_id": SUB, "client_id": "uami"}, {}, "ManagedIdentityCredential"),
    ],
)
def test_build_credential_classes(home, params, env, class_name):
    settings = resolve_settings(params, base_env(home, **env))
    assert type(build_credential(settings)).__name__ == class_name


def test_build_workload_identity_credential(home, tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJ.fake.jwt")
    doc = tmp_path / "endpoints.json"
    doc.write_text(json.dumps(SIM_DOC))
    env = base_env(home, AZURE_CLIENT_ID="wi", AZURE_TENANT_ID="tenant-1", AZURE_SUBSCRIPTION_ID=SUB,
                   AZURE_FEDERATED_TOKEN_FILE=str(token), AZURE_CLOUD_ENVIRONMENT=doc.as_uri())
    settings = resolve_settings({}, env)
    assert (settings.kind, settings.federated_token_file) == ("workload_identity", str(token))
    assert type(build_credential(settings)).__name__ == "WorkloadIdentityCredential"


def test_auth_argument_spec_marks_secret_no_log():
    assert _auth.AUTH_ARGUMENT_SPEC["secret"]["no_log"] is True
    assert _auth.AUTH_ARGUMENT_SPEC["auth_source"]["choices"] == ["auto", "env", "credential_file", "cli", "msi"]
    assert not any(spec.get("default") for spec in _auth.AUTH_ARGUMENT_SPEC.values())


def test_environment_is_not_read_from_process_when_given(home, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_ID", "process-client")
    monkeypatch.setenv("AZURE_SECRET", "process-secret")
    monkeypatch.setenv("AZURE_TENANT", "process-tenant")
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    assert resolve_settings({}).client_id == "process-client"
    assert resolve_settings({}, base_env(home, **AWX_ENV)).client_id == "awx-client"
    assert os.environ["AZURE_CLIENT_ID"] == "process-client"


# ------------------------------------------------------------------------------ Entra users

AWX_USER_ENV = {"AZURE_AD_USER": "ops@contoso.example", "AZURE_PASSWORD": "pw-env", "AZURE_SUBSCRIPTION_ID": SUB_ENV}


@pytest.mark.parametrize(
    "params, env, expected",
    [
        # AWX's username/password credential: no client id or tenant, so the Azure CLI's public
        # client and the user's home tenant (azure.azcollection's defaults)
        ({}, AWX_USER_ENV, ("env", "ops@contoso.example", "pw-env", _auth.USER_CLIENT_ID, "organizations", SUB_ENV)),
        ({"auth_source": "env"}, AWX_USER_ENV,
         ("env", "ops@contoso.example", "pw-env", _auth.USER_CLIENT_ID, "organizations", SUB_ENV)),
        # module options, with a public client and tenant of the user's choice
        ({"ad_user": "me@contoso.example", "password": "pw", "client_id": "public-app", "tenant": "t1",
          "subscription_id": SUB}, {},
         ("params", "me@contoso.example", "pw", "public-app", "t1", SUB)),
        # options over the environment, field by field
        ({"password": "pw-param"}, AWX_USER_ENV,
         ("env", "ops@contoso.example", "pw-param", _auth.USER_CLIENT_ID, "organizations", SUB_ENV)),
        # a profile of the credential file may hold a user too
        ({"profile": "user"}, {}, ("credential_file", "file@contoso.example", "pw-file", _auth.USER_CLIENT_ID,
                                   "organizations", SUB_FILE)),
    ],
)
def test_user_password_resolution(home, params, env, expected):
    write_credentials(home, user={"ad_user": "file@contoso.example", "password": "pw-file",
                                  "subscription_id": SUB_FILE})
    settings = resolve_settings(params, base_env(home, **env))
    assert settings.kind == "user_password"
    assert (settings.source, settings.ad_user, settings.password, settings.client_id, settings.tenant,
            settings.subscription_id) == expected
    assert "password" not in settings.describe() and settings.password not in json.dumps(settings.describe())


def test_service_principal_wins_over_a_user_with_a_secret(home):
    settings = resolve_settings({}, base_env(home, **AWX_ENV, AZURE_AD_USER="ops@contoso.example",
                                             AZURE_PASSWORD="pw"))
    assert settings.kind == "client_secret"


def test_user_without_password_names_the_option(home):
    with pytest.raises(AuthConfigError) as err:
        resolve_settings({"ad_user": "ops@contoso.example", "subscription_id": SUB}, base_env(home))
    assert str(err.value) == ("auth_source=params: ad_user is set but no password (option 'password' or "
                              "AZURE_PASSWORD).")


def test_build_user_password_credential(home, tmp_path):
    doc = tmp_path / "endpoints.json"
    doc.write_text(json.dumps(SIM_DOC))
    settings = resolve_settings({}, base_env(home, AZURE_CLOUD_ENVIRONMENT=doc.as_uri(), **AWX_USER_ENV))
    assert type(build_credential(settings)).__name__ == "UsernamePasswordCredential"
    assert _auth.AUTH_ARGUMENT_SPEC["password"]["no_log"] is True
