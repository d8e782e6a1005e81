"""Elasticsearch from Maven Central's integ-test zip (no bundled JDK), run as an unprivileged user.

The zip is cached in `<STACK_CACHE_DIR>/elasticsearch/` and unpacked per instance under
`<STACK_DIR>/elasticsearch/home/` (owned by `STACK_ES_USER`, which can then write its config dir).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from tools.stack import probes, secure, system
from tools.stack.config_files import render
from tools.stack.download import fetch_verified
from tools.stack.service import Service

ARTIFACT_PATH = "org/elasticsearch/distribution/integ-test-zip/elasticsearch/{v}/elasticsearch-{v}.zip"


class Elasticsearch(Service):
    name = "elasticsearch"
    marker = "elasticsearch"
    stop_timeout = 60.0

    @property
    def port(self) -> int:
        return self.settings.es_port

    @property
    def url(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.settings.host}:{self.port}"

    @property
    def home(self) -> Path:
        return self.dir / "home" / f"elasticsearch-{self.settings.es_version}"

    @property
    def zip_url(self) -> str:
        return f"{self.settings.es_maven_url}/{ARTIFACT_PATH.format(v=self.settings.es_version)}"

    def install(self) -> None:
        user = self.settings.es_user
        system.ensure_system_user(user)
        if not (self.home / "bin" / "elasticsearch").exists():
            archive = (
                self.settings.cache_dir / "elasticsearch" / f"elasticsearch-{self.settings.es_version}.zip"
            )
            fetch_verified(self.zip_url, archive)
            unpack(archive, self.home.parent)
            system.chown_tree(self.home.parent, user, force=True)
        for folder in ("data", "logs", "tmp"):
            (self.dir / folder).mkdir(parents=True, exist_ok=True)
        render(
            "elasticsearch.yml.j2",
            self.home / "config" / "elasticsearch.yml",
            host=self.settings.host,
            http_port=self.settings.es_port,
            transport_port=self.settings.es_transport_port,
            data_dir=self.dir / "data",
            logs_dir=self.dir / "logs",
            secure=self.settings.secure,
            cluster=self.cluster_options(),
        )
        for folder in ("data", "logs", "tmp"):
            system.chown_tree(self.dir / folder, user)
        if self.settings.secure:
            self._install_security()

    def cluster_options(self) -> dict[str, object]:
        """Template variables of a multi-node cluster (tools/stack/es_cluster.py); none: single node."""
        return {}

    def _install_security(self) -> None:
        """Certificates inside the config dir (ES reads no files outside it) and the elastic password."""
        tls = secure.ensure_tls(self.settings)
        certs = self.home / "config" / "certs"
        certs.mkdir(exist_ok=True)
        for source in (tls.ca_cert, tls.server_cert, tls.server_key):
            shutil.copyfile(source, certs / source.name)
            (certs / source.name).chmod(0o600)
        system.chown_tree(certs, self.settings.es_user, force=True)

        password = secure.credentials(self.settings).password
        stamp = self.dir / "bootstrap-password.sha256"
        digest = hashlib.sha256(password.encode()).hexdigest()
        if stamp.exists() and stamp.read_text().strip() == digest:
            return
        _, env = self.command()
        keystore = [
            str(self.home / "bin" / "elasticsearch-keystore"),
            "add",
            "-x",
            "-f",
            "bootstrap.password",
        ]
        subprocess.run(
            system.as_user(self.settings.es_user, keystore),
            input=password,
            text=True,
            env={**(env or {}), "ES_JAVA_OPTS": ""},
            check=True,
            capture_output=True,
        )
        stamp.write_text(digest + "\n")

    def command(self) -> tuple[list[str], dict[str, str] | None]:
        heap = self.settings.es_heap
        env = {
            **os.environ,
            "ES_JAVA_HOME": str(system.find_java_home(self.settings.java_home)),
            "ES_JAVA_OPTS": self.settings.es_java_opts or f"-Xms{heap} -Xmx{heap}",
            "ES_PATH_CONF": str(self.home / "config"),
            "ES_TMPDIR": str(self.dir / "tmp"),
            "CLI_JAVA_OPTS": f"-Djava.io.tmpdir={self.dir / 'tmp'}",  # the launcher's temp files too
            "HOME": str(self.dir),
        }
        env.pop("JAVA_HOME", None)
        argv = system.as_user(self.settings.es_user, [str(self.home / "bin" / "elasticsearch")])
        return argv, env

    def probe(self, timeout: float = 2.0) -> bool:
        if not self.secure:
            return probes.elasticsearch_ready(self.url, timeout)
        auth = (secure.ES_SUPERUSER, secure.credentials(self.settings).password)
        return probes.elasticsearch_ready(
            self.url, timeout, auth=auth, ca_file=secure.ensure_tls(self.settings).ca_cert
        )


def unpack(archive: Path, parent: Path) -> None:
    """Extract the zip (keeping the executable bits zipfile drops) into `parent`, atomically."""
    staging = parent.with_name(parent.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, staging))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                extracted.chmod(mode)
    parent.mkdir(parents=True, exist_ok=True)
    for top in staging.iterdir():
        target = parent / top.name
        shutil.rmtree(target, ignore_errors=True)
        top.replace(target)
    shutil.rmtree(staging, ignore_errors=True)
