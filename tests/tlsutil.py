"""A throw-away CA with a server and a client certificate, for the TLS tests (``cryptography``)."""

from __future__ import annotations

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certs(d: str, ca_name: str = "fastredis test CA") -> dict[str, str]:
    """Write ca.crt, server.crt/.key, client.crt/.key (and server-enc.key, password 'secret') into ``d``."""
    os.makedirs(d, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    ca = (x509.CertificateBuilder().subject_name(ca_subject).issuer_name(ca_subject).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    paths = {"ca": os.path.join(d, "ca.crt")}
    with open(paths["ca"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    for name in ("server", "client"):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca_subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        paths[name] = os.path.join(d, f"{name}.crt")
        paths[name + "_key"] = os.path.join(d, f"{name}.key")
        with open(paths[name], "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(paths[name + "_key"], "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        if name == "server":
            paths["server_enc_key"] = os.path.join(d, "server-enc.key")
            with open(paths["server_enc_key"], "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(b"secret")))
    return paths


def tls_args(p: dict[str, str], auth: str = "yes") -> list[str]:
    return ["--tls-cert-file", p["server"], "--tls-key-file", p["server_key"], "--tls-ca-cert-file", p["ca"],
            "--tls-auth-clients", auth]
