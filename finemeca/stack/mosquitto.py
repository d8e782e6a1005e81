"""Mosquitto 2.0 (Debian package) with our own config: persistence, deep per-client queues."""

from __future__ import annotations

import shutil
from pathlib import Path

from finemeca.stack import probes, system
from finemeca.stack.config_files import render
from finemeca.stack.service import Service

RUN_AS = "mosquitto"  # Debian's user; mosquitto drops root privileges to it


class Mosquitto(Service):
    name = "mosquitto"
    marker = "mosquitto"

    @property
    def port(self) -> int:
        return self.settings.mqtt_port

    @property
    def url(self) -> str:
        return f"mqtt://{self.settings.host}:{self.port}"

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
        )

    def command(self) -> tuple[list[str], dict[str, str] | None]:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        return [binary, "-c", str(self.conf_file)], None

    def probe(self, timeout: float = 2.0) -> bool:
        return probes.mqtt_ready(self.settings.host, self.port, timeout)
