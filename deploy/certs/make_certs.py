"""First-install certificates for the compose stack (one-shot service `certs`, or by hand).

Creates, once, a private CA and one server certificate whose names cover every service a client reaches
over TLS (mosquitto, elasticsearch, kibana, status-page, localhost and CERT_HOSTNAMES, e.g. the
host name the devices and browsers use). Existing files are kept: re-running is harmless. The server
certificate is re-issued with the same CA (clients keep trusting it) when CERT_HOSTNAMES names a host
it lacks, or with `--renew`.

    python make_certs.py --out /certs [--hostnames broker.plant.example,10.0.0.5] [--renew]

Layout: <out>/ca.crt (clients trust it), <out>/server.crt + server.key (servers), <out>/ca/ca.key
(mode 0700 folder, root only: never mounted readable into a service).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVICE_NAMES = ["mosquitto", "elasticsearch", "kibana", "status-page", "localhost", "127.0.0.1"]
CA_DAYS = 3650
SERVER_DAYS = 825  # browsers refuse longer server certificates


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(partial, mode)
    partial.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def ensure_ca(out: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = out / "ca.crt", out / "ca" / "ca.key"
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Finemeca stack CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    (out / "ca").mkdir(parents=True, exist_ok=True)
    os.chmod(out / "ca", 0o700)
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def _covers(cert_path: Path, names: list[str]) -> bool:
    """The existing certificate already names every requested host (else it is re-issued, same CA)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    present = {str(v) for v in san.get_values_for_type(x509.DNSName)}
    present |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    return set(names) <= present


def issue_server(out: Path, names: list[str], renew: bool = False) -> bool:
    """Server certificate + key; returns False when a valid one was kept."""
    cert_path, key_path = out / "server.crt", out / "server.key"
    if cert_path.exists() and key_path.exists() and not renew and _covers(cert_path, names):
        return False
    ca_cert, ca_key = ensure_ca(out)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # Readable by the unprivileged broker/search users of the other images (the volume is mounted
    # read-only into the services that serve TLS; the CA key stays in the root-only ca/ folder).
    _write(key_path, _key_pem(key), 0o644)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("CERTS_DIR", "/certs")))
    parser.add_argument("--hostnames", default=os.environ.get("CERT_HOSTNAMES", ""))
    parser.add_argument("--renew", action="store_true", help="re-issue the server certificate")
    args = parser.parse_args(argv)
    names = [*args.hostnames.split(","), *SERVICE_NAMES]
    names = [n for n in dict.fromkeys(n.strip() for n in names) if n]
    issued = issue_server(args.out, names, renew=args.renew)
    state = "issued" if issued else "kept (use --renew to re-issue)"
    print(f"certificates in {args.out}: server certificate {state}; names: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
