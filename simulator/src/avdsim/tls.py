"""A private CA and a server certificate (SANs 127.0.0.1, ::1, localhost) per state directory."""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _write(path: str, data: bytes, private: bool = False) -> None:
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _valid(cert_path: str, ca_path: str) -> bool:
    try:
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        with open(ca_path, "rb") as f:
            x509.load_pem_x509_certificate(f.read())
    except (OSError, ValueError):
        return False
    not_after = cert.not_valid_after_utc
    return not_after - _dt.datetime.now(_dt.timezone.utc) > _dt.timedelta(days=1)


def _key_usage(**allowed) -> x509.KeyUsage:
    flags = dict.fromkeys(("digital_signature", "key_cert_sign", "crl_sign", "content_commitment",
                           "key_encipherment", "data_encipherment", "key_agreement",
                           "encipher_only", "decipher_only"), False)
    flags.update(allowed)
    return x509.KeyUsage(**flags)


def _make_ca(now):
    """A self-signed local CA: (key, name, subject key identifier, certificate)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "avdsim local CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "avdsim")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
                       critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca_name, ca_ski, ca_cert


def _make_server_cert(now, ca_key, ca_name, ca_ski):
    """The server's key and its certificate for localhost, 127.0.0.1 and ::1, signed by the CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_agreement=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _private_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_certificates(state_dir: str) -> dict:
    """Create (or reuse) ``ca.pem``, ``server.pem`` and ``server.key`` in ``state_dir``."""
    os.makedirs(state_dir, exist_ok=True)
    paths = {"ca": os.path.join(state_dir, "ca.pem"), "cert": os.path.join(state_dir, "server.pem"),
             "key": os.path.join(state_dir, "server.key")}
    if all(os.path.exists(p) for p in paths.values()) and _valid(paths["cert"], paths["ca"]):
        return paths
    now = _dt.datetime.now(_dt.timezone.utc)
    ca_key, ca_name, ca_ski, ca_cert = _make_ca(now)
    key, cert = _make_server_cert(now, ca_key, ca_name, ca_ski)
    _write(os.path.join(state_dir, "ca.key"), _private_pem(ca_key), private=True)
    _write(paths["key"], _private_pem(key), private=True)
    _write(paths["cert"], cert.public_bytes(serialization.Encoding.PEM))
    _write(paths["ca"], ca_cert.public_bytes(serialization.Encoding.PEM))
    return paths
