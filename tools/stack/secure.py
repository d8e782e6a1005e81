"""Secure mode (`finemeca stack up --secure`): one set of credentials for every service, a local CA.

Credentials come from `STACK_USERNAME` / `STACK_PASSWORD`; when no password is given one is generated
once. Everything a client needs is written to `<STACK_DIR>/secure.env` (mode 0600), e.g.
`set -a; . var/stack/secure.env; set +a` before running engines or tests against a secure stack.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.stack.settings import StackSettings

ES_SUPERUSER = "elastic"  # its password is set through the keystore's bootstrap.password


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class Tls:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def env_file(settings: StackSettings) -> Path:
    return settings.dir.resolve() / "secure.env"


def credentials(settings: StackSettings) -> Credentials:
    """Configured credentials, else the ones generated earlier, else new ones (then saved)."""
    if settings.password is not None:
        return Credentials(settings.username, settings.password.get_secret_value())
    saved = _read_env(env_file(settings))
    if "MQTT_PASSWORD" in saved:
        return Credentials(saved.get("MQTT_USERNAME", settings.username), saved["MQTT_PASSWORD"])
    return Credentials(settings.username, secrets.token_urlsafe(18))


def write_client_env(settings: StackSettings, creds: Credentials, tls: Tls) -> Path:
    """The variables `finemeca/config.py` reads, pointing clients at the secure stack."""
    host = settings.host
    values = {
        "MQTT_USERNAME": creds.username,
        "MQTT_PASSWORD": creds.password,
        "MQTT_TLS": "true",
        "MQTT_CA_FILE": str(tls.ca_cert),
        "STOMP_USERNAME": creds.username,
        "STOMP_PASSWORD": creds.password,
        "ES_URL": f"https://{host}:{settings.es_port}",
        "ES_USERNAME": ES_SUPERUSER,
        "ES_PASSWORD": creds.password,
        "ES_CA_FILE": str(tls.ca_cert),
        "SMTP_USERNAME": creds.username,
        "SMTP_PASSWORD": creds.password,
    }
    target = env_file(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# written by `finemeca stack up --secure`; source it: set -a; . <this file>; set +a\n")
        handle.writelines(f"{key}={value}\n" for key, value in values.items())
    return target


def ensure_tls(settings: StackSettings) -> Tls:
    """A local CA and a server certificate for 127.0.0.1/localhost (openssl), created once."""
    folder = settings.dir.resolve() / "tls"
    tls = Tls(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    if tls.server_cert.exists() and tls.server_key.exists():
        return tls
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = folder / "ca.key"
    openssl = ["openssl"]
    subprocess.run(
        [*openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj",
         "/CN=finemeca-local-ca", "-keyout", str(ca_key), "-out", str(tls.ca_cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    csr = folder / "server.csr"
    subprocess.run(
        [*openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", str(tls.server_key), "-out", str(csr)],
        check=True, capture_output=True,
    )  # fmt: skip
    extensions = folder / "server.ext"
    extensions.write_text(f"subjectAltName=IP:{settings.host},IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(
        [*openssl, "x509", "-req", "-in", str(csr), "-CA", str(tls.ca_cert), "-CAkey", str(ca_key),
         "-CAcreateserial", "-days", "3650", "-extfile", str(extensions), "-out", str(tls.server_cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return tls


def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}
