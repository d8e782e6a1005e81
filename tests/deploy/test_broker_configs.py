"""Static checks of the broker configs shipped in deploy/ (copied into volumes by `volume-init`)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from finemeca import naming
from tests.deploy.compose_env import ROOT

DEPLOY = ROOT / "deploy"
AMQ = "{http://activemq.apache.org/schema/core}"
SCRIPTS = sorted(DEPLOY.glob("*/*.sh"))


def test_activemq_xml_enables_stomp_kahadb_and_individual_dlq():
    root = ET.parse(DEPLOY / "activemq" / "activemq.xml").getroot()
    broker = root.find(f"{AMQ}broker")
    assert broker is not None and broker.get("persistent") == "true"
    uris = [c.get("uri", "") for c in broker.iter(f"{AMQ}transportConnector")]
    assert any(uri.startswith("stomp://0.0.0.0:${finemeca.stomp.port}") for uri in uris)
    assert broker.find(f"{AMQ}persistenceAdapter/{AMQ}kahaDB") is not None
    dlq = broker.find(f".//{AMQ}individualDeadLetterStrategy")
    assert dlq is not None and dlq.get("queuePrefix") == "DLQ."
    assert naming.dead_letter_queue("air") == "/queue/DLQ." + naming.data_queue("air").removeprefix("/queue/")


def test_activemq_xml_gives_heartbeat_grace_queue_statistics_and_deep_dlq_browsing():
    root = ET.parse(DEPLOY / "activemq" / "activemq.xml").getroot()
    stomp = next(c.get("uri", "") for c in root.iter(f"{AMQ}transportConnector") if c.get("name") == "stomp")
    assert "transport.hbGracePeriodMultiplier=3" in stomp
    assert root.find(f".//{AMQ}plugins/{AMQ}statisticsBrokerPlugin") is not None
    dlq_policy = [p for p in root.iter(f"{AMQ}policyEntry") if p.get("queue") == "DLQ.>"]
    assert dlq_policy and int(dlq_policy[0].get("maxBrowsePageSize", "0")) >= 1_000_000


def test_activemq_requires_authentication_and_holds_no_secret():
    text = (DEPLOY / "activemq" / "activemq.xml").read_text()
    root = ET.fromstring(text)
    assert root.find(f".//{AMQ}jaasAuthenticationPlugin") is not None
    assert root.find(f".//{AMQ}authorizationPlugin") is not None
    assert "password=" not in text.lower()


def test_mosquitto_conf_denies_anonymous_and_persists():
    settings: dict[str, str] = {}
    for line in (DEPLOY / "mosquitto" / "mosquitto.conf").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            settings.setdefault(key, value.strip())
    assert settings["allow_anonymous"] == "false"
    assert settings["persistence"] == "true"
    # written after every change, not on a timer: a kill -9 loses no PUBACKed message
    assert settings["autosave_on_changes"] == "true" and settings["autosave_interval"] == "1"
    assert int(settings["max_queued_messages"]) >= 1_000_000
    assert settings["password_file"].startswith("/mosquitto/auth/")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_shell_scripts_parse(script: Path):
    shell = "bash" if "bash" in script.read_text().splitlines()[0] else "sh"
    result = subprocess.run([shutil.which(shell) or shell, "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_scripts_never_put_passwords_on_a_long_lived_command_line(script: Path):
    text = script.read_text()
    exec_lines = [line for line in text.splitlines() if line.startswith("exec ") and "PASSWORD" in line]
    assert not exec_lines or script.name == "healthcheck.sh", exec_lines
