"""Mosquitto 2.0 (Debian package) with our own config: persistence, deep per-client queues; in secure mode
password authentication and MQTT over TLS only (the stack's local CA)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tools.stack import probes, secure, system
from tools.stack.config_files import render
from tools.stack.service import Service

RUN_AS = "mosquitto"  # Debian's user; mosquitto drops root privileges to it


class Mosquitto(Service):
    name = "mosquitto"
    marker = "mosquitto"

    @property
    def port(self) -> int:
        return self.settings.mqtt_port

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.secure else 'mqtt'}://{self.settings.host}:{self.port}"

    @property
    def conf_file(self) -> Path:
        return self.dir / "mosquitto.conf"

    def install(self) -> None:
        system.ensure_debian_package("mosquitto", "mosquitto")
        data = self.dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        system.chown_tree(data, RUN_AS)
        render(
            "mosquitto.conf.j2",
            self.conf_file,
            host=self.settings.host,
            port=self.port,
            run_as=RUN_AS,
            data_dir=data,
            max_inflight=self.settings.mosquitto_max_inflight,
            autosave_changes=self.settings.mosquitto_autosave_changes,
            password_file=self._write_password_file() if self.settings.secure else None,
            tls=self._install_tls() if self.settings.secure else None,
        )

    def _install_tls(self) -> secure.Tls:
        """The server certificate and key, readable by the user mosquitto drops to."""
        tls = secure.ensure_tls(self.settings)
        folder = self.dir / "tls"
        folder.mkdir(exist_ok=True)
        for source in (tls.server_cert, tls.server_key):
            shutil.copyfile(source, folder / source.name)
            (folder / source.name).chmod(0o600)
        system.chown_tree(folder, RUN_AS, force=True)
        return secure.Tls(tls.ca_cert, folder / tls.server_cert.name, folder / tls.server_key.name)

    def _write_password_file(self) -> Path:
        creds = secure.credentials(self.settings)
        target = self.dir / "passwords"
        target.unlink(missing_ok=True)
        subprocess.run(
            ["mosquitto_passwd", "-c", "-b", str(target), creds.username, creds.password],
            check=True,
            capture_output=True,
        )
        target.chmod(0o600)
        system.chown_tree(target, RUN_AS, force=True)
        return target

    def command(self) -> tuple[list[str], dict[str, str] | None]:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        return [binary, "-c", str(self.conf_file)], None

    def probe(self, timeout: float = 2.0) -> bool:
        creds = secure.credentials(self.settings) if self.secure else None
        auth = (creds.username, creds.password) if creds else None
        ca_file = secure.ensure_tls(self.settings).ca_cert if self.secure else None
        return probes.mqtt_ready(self.settings.host, self.port, timeout, auth=auth, ca_file=ca_file)
