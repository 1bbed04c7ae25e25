"""Certificates, the service-account key pair and kubeconfigs of the local cluster.

One CA signs everything; each component gets a client certificate whose CN/O are the
identity RBAC expects (system:kube-scheduler, system:node:localhost, system:masters ...).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = ["CLIENTS", "ensure_pki", "write_kubeconfig"]

# file stem -> (common name, organisation or None)
CLIENTS: dict[str, tuple[str, str | None]] = {
    "admin": ("hubchaos-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
    "kubelet": ("system:node:localhost", "system:nodes"),
    "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters"),
    "kube-proxy": ("system:kube-proxy", None),
}
_SERVER_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
_SERVER_IPS = ("127.0.0.1", "10.0.0.1")
_VALID = datetime.timedelta(days=365)


def ensure_pki(pki: Path) -> None:
    """Create what is missing of: the CA, the serving and client certificates, the SA keys."""
    pki.mkdir(parents=True, exist_ok=True)
    if (pki / "ca.crt").exists():
        ca = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
        loaded = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        ca_key, ca_name = loaded, ca.subject
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hubchaos-local-ca")])
        _write(pki / "ca", _sign(ca_name, ca_key.public_key(), ca_name, ca_key, is_ca=True), ca_key)

    if not (pki / "apiserver.crt").exists():
        key = ec.generate_private_key(ec.SECP256R1())
        alt: list[x509.GeneralName] = [x509.DNSName(n) for n in _SERVER_NAMES]
        alt += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _SERVER_IPS]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
        _write(pki / "apiserver", _sign(subject, key.public_key(), ca_name, ca_key, alt=alt), key)

    for stem, (common_name, organisation) in CLIENTS.items():
        if (pki / f"{stem}.crt").exists():
            continue
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if organisation:
            attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _sign(x509.Name(attributes), key.public_key(), ca_name, ca_key, client=True)
        _write(pki / stem, cert, key)

    if (pki / "sa.key").exists():
        return
    # Service-account tokens are signed with RSA (what every 1.20 component accepts).
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (pki / "sa.key").write_bytes(_private_pem(sa_key))
    (pki / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for path in pki.iterdir():
        if path.suffix == ".key":
            path.chmod(0o600)


def write_kubeconfig(path: Path, pki: Path, client: str, server: str) -> None:
    """A kubeconfig for `client` (a stem of CLIENTS) with its certificates embedded."""

    def data(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "hubchaos-local",
                "cluster": {"server": server, "certificate-authority-data": data("ca.crt")},
            }
        ],
        "users": [
            {
                "name": client,
                "user": {
                    "client-certificate-data": data(f"{client}.crt"),
                    "client-key-data": data(f"{client}.key"),
                },
            }
        ],
        "contexts": [
            {"name": "hubchaos-local", "context": {"cluster": "hubchaos-local", "user": client}}
        ],
        "current-context": "hubchaos-local",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def _sign(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    is_ca: bool = False,
    client: bool = False,
    alt: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALID)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if is_ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        purpose = x509.ExtendedKeyUsageOID.CLIENT_AUTH if client else None
        purposes = [purpose] if purpose else [x509.ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _write(stem: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    stem.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    stem.with_suffix(".key").write_bytes(_private_pem(key))
