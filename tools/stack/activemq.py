"""ActiveMQ Classic 5.17 (Debian package) with our own conf dir: STOMP + OpenWire, KahaDB, per-queue DLQs.

The JVM is started directly (not through the `activemq` wrapper, whose options file would override our heap)
as user `activemq`; its data directory must belong to that user or KahaDB waits forever on its lock.
"""

from __future__ import annotations

import grp
import os
import shutil
from pathlib import Path

from tools.stack import probes, secure, system
from tools.stack.config_files import render
from tools.stack.service import Service

ACTIVEMQ_HOME = Path("/usr/share/activemq")
# the statistics plugin answers with map messages, which the STOMP connector converts with XStream
# and Jettison (in the official distribution's lib/optional, separate Debian packages here)
MAP_CONVERSION_JARS = {
    "/usr/share/java/xstream.jar": "libxstream-java",
    "/usr/share/java/jettison.jar": "libjettison-java",
}
TEMPLATES = Path(__file__).parent / "templates"
JAVA_MODULE_FLAGS = [  # what /usr/bin/activemq passes on Java > 8
    "--add-reads=java.xml=java.logging",
    "--add-opens=java.base/java.security=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.naming/javax.naming.spi=ALL-UNNAMED",
    "--add-opens=java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
]


class ActiveMQ(Service):
    name = "activemq"
    marker = "activemq.jar"

    @property
    def port(self) -> int:
        return self.settings.stomp_port

    @property
    def url(self) -> str:
        return f"stomp://{self.settings.host}:{self.port}"

    @property
    def conf_dir(self) -> Path:
        return self.dir / "conf"

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def kahadb_dir(self) -> Path:
        """The message store; a primary/standby pair shares one (tools/stack/activemq_pair.py)."""
        return self.data_dir / "kahadb"

    lock_retry_ms: int | None = None  # shared store: how often a standby tries the store's file lock

    @property
    def tmp_dir(self) -> Path:
        return self.dir / "tmp"

    def install(self) -> None:
        system.ensure_debian_package(str(ACTIVEMQ_HOME / "bin" / "activemq.jar"), "activemq")
        for jar, package in MAP_CONVERSION_JARS.items():
            system.ensure_debian_package(jar, package)
        user = self.settings.activemq_user
        system.ensure_system_user(user)
        for folder in (self.conf_dir, self.data_dir, self.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        system.chown_tree(self.data_dir, user)
        system.chown_tree(self.tmp_dir, user)
        creds = secure.credentials(self.settings) if self.settings.secure else None
        shutil.copyfile(TEMPLATES / "log4j.properties", self.conf_dir / "log4j.properties")
        render(
            "activemq.xml.j2",
            self.conf_dir / "activemq.xml",
            host=self.settings.host,
            stomp_port=self.settings.stomp_port,
            openwire_port=self.settings.openwire_port,
            data_dir=self.data_dir,
            kahadb_dir=self.kahadb_dir,
            lock_retry_ms=self.lock_retry_ms,
            tmp_dir=self.tmp_dir,
            memory_limit=self.settings.activemq_memory_limit,
            store_limit=self.settings.activemq_store_limit,
            temp_limit=self.settings.activemq_temp_limit,
            user=creds.username if creds else None,
            password=creds.password if creds else None,
            mode=0o640,  # may hold a password: readable by root and the broker's group only
        )
        os.chown(self.conf_dir / "activemq.xml", 0, grp.getgrnam(user).gr_gid)

    def command(self) -> tuple[list[str], dict[str, str] | None]:
        java = system.find_java_home(self.settings.java_home) / "bin" / "java"
        heap = self.settings.activemq_heap
        argv = [
            str(java),
            "-Xms64m",
            f"-Xmx{heap}",
            *JAVA_MODULE_FLAGS,
            f"-Djava.io.tmpdir={self.tmp_dir}",
            f"-Dactivemq.classpath={':'.join([str(self.conf_dir), f'{ACTIVEMQ_HOME}/lib/', *MAP_CONVERSION_JARS])}",
            f"-Dactivemq.home={ACTIVEMQ_HOME}",
            f"-Dactivemq.base={self.dir}",
            f"-Dactivemq.conf={self.conf_dir}",
            f"-Dactivemq.data={self.data_dir}",
            "-jar",
            str(ACTIVEMQ_HOME / "bin" / "activemq.jar"),
            "start",
            f"xbean:file:{self.conf_dir / 'activemq.xml'}",
        ]
        return system.as_user(self.settings.activemq_user, argv), None

    def probe(self, timeout: float = 2.0) -> bool:
        creds = secure.credentials(self.settings) if self.secure else None
        auth = (creds.username, creds.password) if creds else None
        return probes.stomp_ready(self.settings.host, self.port, timeout, auth=auth)
