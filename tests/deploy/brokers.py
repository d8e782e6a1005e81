"""Start the production broker scripts of deploy/ on this machine's Debian Mosquitto and ActiveMQ.

What ships is what runs: deploy/mosquitto/start.sh and deploy/activemq/start.sh with their own
mosquitto.conf / activemq.xml / login.config. The only differences from the containers are the
paths and ports, which the tests move to a private folder and free ports:
- Mosquitto: the conf's /mosquitto/{auth,certs,data}/ paths and its two listener ports are rewritten;
- ActiveMQ: start.sh's documented variables (conf dir, JAAS dir, data, ports); Debian's package has no
  web console, so an empty Spring file stands in for the image's jetty.xml; the broker runs as the
  Debian `activemq` user, as the container runs it unprivileged. Debian's `activemq` wrapper always
  loads its own options file (replacing ACTIVEMQ_OPTS), so a small launcher plays the upstream
  `activemq console`: it sources ACTIVEMQ_CONFIGS (the file start.sh writes) and starts the JVM
  with the same -D options. The image's own bin/activemq is not exercised here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.compose_env import ROOT
from tools.stack import system
from tools.stack.activemq import ACTIVEMQ_HOME, JAVA_MODULE_FLAGS

DEPLOY = ROOT / "deploy"
EMPTY_SPRING = """<?xml version="1.0" encoding="UTF-8"?>
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans
                           http://www.springframework.org/schema/beans/spring-beans.xsd"/>
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"broker exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(
        f"nothing listens on {port} after {timeout:.0f}s:\n{log.read_text(errors='replace')[-3000:]}"
    )


def readable_folder(path: Path) -> Path:
    """A folder the unprivileged broker users can reach (pytest's tmp_path parents are root-only)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o755)
    return path


@dataclass
class BrokerProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    start_timeout: float = 60.0
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for_port(self.port, self.start_timeout, self.proc, self.log)

    def stop(self) -> None:
        """SIGTERM (what `docker stop` sends) to the whole process group, then wait."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


def mosquitto(folder: Path, certs: Path, env: dict[str, str]) -> tuple[BrokerProcess, int, int]:
    """(broker, TLS port, loopback plain port) running deploy/mosquitto/start.sh."""
    tls_port, plain_port = free_port(), free_port()
    conf = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text()
    for sub in ("auth", "data"):
        readable_folder(folder / sub)
    shutil.chown(folder / "data", "mosquitto", "mosquitto")
    conf = conf.replace("/mosquitto/auth/", f"{folder}/auth/").replace("/mosquitto/data/", f"{folder}/data/")
    conf = conf.replace("/mosquitto/certs/", f"{certs}/")
    conf = re.sub(r"^listener 8883 ", f"listener {tls_port} ", conf, flags=re.M)
    conf = re.sub(r"^listener 1883 ", f"listener {plain_port} ", conf, flags=re.M)
    (folder / "mosquitto.conf").write_text(conf)
    broker = BrokerProcess(
        "mosquitto",
        ["sh", str(DEPLOY / "mosquitto" / "start.sh")],
        {
            **env,
            "PATH": os.environ["PATH"],
            "MOSQUITTO_AUTH_DIR": str(folder / "auth"),
            "MOSQUITTO_CONF": str(folder / "mosquitto.conf"),
        },
        tls_port,
        folder / "mosquitto.log",
        start_timeout=30,
    )
    return broker, tls_port, plain_port


UPSTREAM_CONSOLE = """#!/bin/bash
# `activemq console <config>` as the upstream script runs it: ACTIVEMQ_CONFIGS sourced, then the JVM.
set -euo pipefail
[[ $1 == console ]] || { echo "only 'console' is supported" >&2; exit 2; }
for config in ${ACTIVEMQ_CONFIGS:-}; do [[ -f $config ]] && . "$config"; done
exec "$JAVA" $ACTIVEMQ_OPTS $MODULE_FLAGS -Dactivemq.classpath="$ACTIVEMQ_CONF:$ACTIVEMQ_HOME/lib/" \\
  -Dactivemq.home="$ACTIVEMQ_HOME" -Dactivemq.base="$ACTIVEMQ_HOME" -Dactivemq.conf="$ACTIVEMQ_CONF" \\
  -Dactivemq.data="$ACTIVEMQ_DATA" -jar "$ACTIVEMQ_HOME/bin/activemq.jar" start "$2"
"""


def activemq(folder: Path, env: dict[str, str]) -> BrokerProcess:
    """deploy/activemq/start.sh on Debian's ActiveMQ, as user `activemq`."""
    conf = readable_folder(folder / "conf")
    for item in (DEPLOY / "activemq").iterdir():
        shutil.copy(item, conf / item.name)
    (conf / "no-webconsole.xml").write_text(EMPTY_SPRING)
    for sub in ("data", "jaas", "tmp"):
        readable_folder(folder / sub)
        shutil.chown(folder / sub, "activemq", "activemq")
    launcher = readable_folder(folder / "bin")
    (launcher / "activemq").write_text(UPSTREAM_CONSOLE)
    os.chmod(launcher / "activemq", 0o755)
    stomp_port = free_port()
    broker_env = {
        **env,
        "PATH": f"{launcher}:{os.environ['PATH']}",
        "JAVA": str(system.find_java_home(None) / "bin" / "java"),
        "MODULE_FLAGS": " ".join(JAVA_MODULE_FLAGS),
        "ACTIVEMQ_HOME": str(ACTIVEMQ_HOME),
        "HOME": str(folder),
        "FINEMECA_ACTIVEMQ_CONF_DIR": str(conf),
        "FINEMECA_ACTIVEMQ_JAAS_DIR": str(folder / "jaas"),
        "FINEMECA_ACTIVEMQ_WEBCONSOLE": f"file:{conf}/no-webconsole.xml",
        "ACTIVEMQ_DATA": str(folder / "data"),
        "ACTIVEMQ_TMP": str(folder / "tmp"),
        "ACTIVEMQ_CONF": str(conf),
        "ACTIVEMQ_STOMP_PORT": str(stomp_port),
        "ACTIVEMQ_OPENWIRE_PORT": str(free_port()),
        "ACTIVEMQ_OPTS_MEMORY": "-Xms64M -Xmx256M",
    }
    argv = ["setpriv", "--reuid=activemq", "--regid=activemq", "--init-groups", "--"]
    argv += ["bash", str(conf / "start.sh")]
    return BrokerProcess("activemq", argv, broker_env, stomp_port, folder / "activemq.log", start_timeout=120)
