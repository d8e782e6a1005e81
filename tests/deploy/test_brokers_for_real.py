"""deploy/ on real brokers: the production Mosquitto and ActiveMQ scripts and configs, started here
(Debian packages, free ports, private folders), checked for TLS, auth, ACLs, persistence and health.

Before this, the suite only parsed these files; the local stack runs its own templates.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import stomp
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from stomp.exception import ConnectFailedException

from tests.deploy.brokers import DEPLOY, BrokerProcess, activemq, mosquitto, readable_folder
from tools.stack import system

pytestmark = pytest.mark.integration
PREFIX = "plant7"  # non-default: the ACLs must follow MQTT_TOPIC_PREFIX / STOMP_QUEUE_PREFIX


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    folder = readable_folder(Path(tempfile.mkdtemp(prefix="finemeca-deploy-")))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def certs(workdir: Path) -> Path:
    """The first-install helper of the image (deploy/certs/make_certs.py) makes the CA and certificate."""
    out = workdir / "certs"
    subprocess.run([sys.executable, str(DEPLOY / "certs" / "make_certs.py"), "--out", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def users() -> dict[str, str]:
    return {
        "MQTT_USERNAME": "finemeca-app",
        "MQTT_PASSWORD": secrets.token_hex(16),
        "MQTT_DEVICE_USERNAME": "finemeca-device",
        "MQTT_DEVICE_PASSWORD": secrets.token_hex(16),
        "MQTT_TOPIC_PREFIX": PREFIX,
        "STOMP_USERNAME": "finemeca-app",
        "STOMP_PASSWORD": secrets.token_hex(16),
        "STOMP_QUEUE_PREFIX": PREFIX,
        "ACTIVEMQ_ADMIN_USERNAME": "finemeca-admin",
        "ACTIVEMQ_ADMIN_PASSWORD": secrets.token_hex(16),
    }


# ------------------------------------------------------------------------------------------ Mosquitto


@pytest.fixture(scope="module")
def mqtt_broker(
    workdir: Path, certs: Path, users: dict[str, str]
) -> Iterator[tuple[BrokerProcess, int, int]]:
    system.ensure_debian_package("mosquitto", "mosquitto")
    system.ensure_debian_package("mosquitto_sub", "mosquitto-clients")  # the health check uses it
    broker, tls_port, plain_port = mosquitto(workdir / "mosquitto", certs, users)
    broker.start()
    yield broker, tls_port, plain_port
    broker.stop()


class Mqtt:
    """A paho client over TLS (trusting the stack's CA) that records what it receives."""

    def __init__(
        self, port: int, ca: Path | None, user: str | None, password: str | None, client_id: str = ""
    ):
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca))
        if user:
            self.client.username_pw_set(user, password)
        self.received: list[tuple[str, bytes]] = []
        self.connected = threading.Event()
        self.reason: Any = None
        self.suback: list[Any] = []
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.client.on_subscribe = lambda c, u, mid, codes, props: self.suback.extend(codes)
        self.port = port

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.reason = reason
        self.connected.set()

    def connect(self, clean: bool = True) -> Any:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0 if clean else 3600
        self.client.connect("127.0.0.1", self.port, keepalive=30, clean_start=clean, properties=props)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK"
        return self.reason

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mosquitto_health_check_passes(mqtt_broker, users):
    _, _, plain_port = mqtt_broker
    env = {**users, "MOSQUITTO_HEALTH_PORT": str(plain_port), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["sh", str(DEPLOY / "mosquitto" / "healthcheck.sh")], env=env, timeout=15)
    assert result.returncode == 0


def test_mosquitto_plain_mqtt_only_on_loopback_and_tls_required_outside():
    conf = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text()
    listeners = [line.split()[1:] for line in conf.splitlines() if line.startswith("listener ")]
    assert ["8883", "0.0.0.0"] in listeners
    assert all(address == "127.0.0.1" for port, address in listeners if port != "8883")


def test_mosquitto_refuses_anonymous_wrong_password_and_plain_text(mqtt_broker, certs, users):
    _, tls_port, _ = mqtt_broker
    for user, password in ((None, None), (users["MQTT_USERNAME"], "wrong-password-123")):
        client = Mqtt(tls_port, certs / "ca.crt", user, password)
        reason = client.connect()
        client.close()
        assert reason.is_failure, f"{user or 'anonymous'} was accepted"
    plain = Mqtt(tls_port, None, users["MQTT_USERNAME"], users["MQTT_PASSWORD"])
    try:  # a TLS listener: a plain-text CONNECT never gets a CONNACK
        plain.client.connect("127.0.0.1", tls_port, keepalive=5)
        plain.client.loop_start()
        assert not plain.connected.wait(5), "plain-text MQTT was accepted on the TLS port"
    except OSError:
        pass  # the broker dropped the connection at once: refused as well
    finally:
        plain.client.loop_stop()


def test_mosquitto_acls_devices_write_applications_read(mqtt_broker, certs, users):
    _, port, _ = mqtt_broker
    ca = certs / "ca.crt"
    app = Mqtt(port, ca, users["MQTT_USERNAME"], users["MQTT_PASSWORD"])
    device = Mqtt(port, ca, users["MQTT_DEVICE_USERNAME"], users["MQTT_DEVICE_PASSWORD"])
    try:
        assert not app.connect().is_failure and not device.connect().is_failure
        app.client.subscribe(f"{PREFIX}/#", qos=1)
        device.client.subscribe(f"{PREFIX}/#", qos=1)  # devices only write: nothing may reach them
        app.client.subscribe("other/#", qos=1)  # Mosquitto grants it but delivers nothing outside the ACL
        time.sleep(1)
        device.client.publish(f"{PREFIX}/air/10/100", b"reading", qos=1).wait_for_publish(5)
        device.client.publish("other/air/10/100", b"outside", qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 5
        while not app.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.received == [(f"{PREFIX}/air/10/100", b"reading")]
        assert device.received == []
    finally:
        app.close()
        device.close()


def test_mosquitto_keeps_queued_messages_across_a_restart(mqtt_broker, certs, users):
    broker, port, _ = mqtt_broker
    ca = certs / "ca.crt"
    gateway_id = f"gateway-{secrets.token_hex(3)}"
    gateway = Mqtt(port, ca, users["MQTT_USERNAME"], users["MQTT_PASSWORD"], client_id=gateway_id)
    gateway.connect(clean=False)
    gateway.client.subscribe(f"{PREFIX}/centrale/#", qos=1)
    time.sleep(0.5)
    gateway.close()  # offline gateway, persistent session
    device = Mqtt(port, ca, users["MQTT_DEVICE_USERNAME"], users["MQTT_DEVICE_PASSWORD"])
    device.connect()
    for i in range(5):
        device.client.publish(f"{PREFIX}/centrale/20/200", f"m{i}".encode(), qos=1).wait_for_publish(5)
    device.close()

    broker.restart()  # SIGTERM: Mosquitto writes its persistence file on the way out

    back = Mqtt(port, ca, users["MQTT_USERNAME"], users["MQTT_PASSWORD"], client_id=gateway_id)
    back.connect(clean=False)
    deadline = time.monotonic() + 10
    while len(back.received) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    back.close()
    assert sorted(payload for _, payload in back.received) == [f"m{i}".encode() for i in range(5)]


def test_mosquitto_runs_the_autosave_setting_of_the_environment(mqtt_broker, workdir):
    # the broker runs start.sh's copy of the read-only config, with MOSQUITTO_AUTOSAVE_CHANGES (default)
    running = (workdir / "mosquitto" / "auth" / "mosquitto.conf").read_text()
    assert "\nautosave_on_changes true\n" in running and "\nautosave_interval 1000\n" in running


@pytest.mark.parametrize("value", ["abc", "0", "-5", "10s"])
def test_mosquitto_start_refuses_a_bad_autosave_setting_and_names_it(tmp_path, users, value):
    env = {**users, "PATH": os.environ["PATH"], "MOSQUITTO_AUTOSAVE_CHANGES": value}
    env |= {"MOSQUITTO_AUTH_DIR": str(tmp_path / "auth"), "MOSQUITTO_CONF": str(tmp_path / "none.conf")}
    result = subprocess.run(
        ["sh", str(DEPLOY / "mosquitto" / "start.sh")], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert (
        f"MOSQUITTO_AUTOSAVE_CHANGES must be a whole number >= 1 (queued messages per save), got '{value}'"
        in (result.stderr)
    )
    assert not (tmp_path / "auth").exists()  # refused before writing anything


# ------------------------------------------------------------------------------------------ ActiveMQ


@pytest.fixture(scope="module")
def amq_broker(workdir: Path, users: dict[str, str]) -> Iterator[BrokerProcess]:
    system.ensure_debian_package("/usr/share/activemq/bin/activemq.jar", "activemq")
    broker = activemq(workdir / "activemq", users)
    broker.start()
    yield broker
    broker.stop()


class Recorder(stomp.ConnectionListener):
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.errors: list[Any] = []

    def on_message(self, frame: Any) -> None:
        self.messages.append(frame)

    def on_error(self, frame: Any) -> None:
        self.errors.append(frame)


def stomp_connect(port: int, user: str | None, password: str | None) -> tuple[stomp.Connection12, Recorder]:
    conn = stomp.Connection12([("127.0.0.1", port)], reconnect_attempts_max=1, heartbeats=(0, 0))
    recorder = Recorder()
    conn.set_listener("recorder", recorder)
    if user:
        conn.connect(user, password, wait=True)
    else:
        conn.connect(wait=True)
    return conn, recorder


def wait_for(predicate: Any, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_activemq_health_check_passes(amq_broker, users):
    env = {**users, "ACTIVEMQ_STOMP_PORT": str(amq_broker.port), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["bash", str(DEPLOY / "activemq" / "healthcheck.sh")], env=env, timeout=15)
    assert result.returncode == 0


@pytest.mark.parametrize("password", [None, "wrong-password-123"])
def test_activemq_refuses_anonymous_and_wrong_password(amq_broker, users, password):
    user = users["STOMP_USERNAME"] if password else None
    with pytest.raises(ConnectFailedException):
        stomp_connect(amq_broker.port, user, password)


def test_activemq_acl_allows_only_the_prefixed_queues(amq_broker, users):
    conn, recorder = stomp_connect(amq_broker.port, users["STOMP_USERNAME"], users["STOMP_PASSWORD"])
    try:
        conn.send(f"/queue/{PREFIX}.air.data", "ok", headers={"persistent": "true", "receipt": "r1"})
        conn.subscribe(f"/queue/{PREFIX}.air.data", id="s1", ack="auto")
        assert wait_for(lambda: any(m.body == "ok" for m in recorder.messages)), recorder.errors
        conn.send("/queue/finemeca.air.data", "denied", headers={"receipt": "r2"})
        assert wait_for(lambda: recorder.errors), "writing outside STOMP_QUEUE_PREFIX was allowed"
        assert (
            "not authorized" in str(recorder.errors[0].body).lower()
            or "securityexception" in str(recorder.errors[0].body).lower()
        ), recorder.errors[0].body
    finally:
        if conn.is_connected():
            conn.disconnect()


def test_activemq_nack_goes_to_the_per_queue_dlq(amq_broker, users):
    queue = f"/queue/{PREFIX}.centrale.data"
    conn, recorder = stomp_connect(amq_broker.port, users["STOMP_USERNAME"], users["STOMP_PASSWORD"])
    try:
        conn.send(queue, "bad", headers={"persistent": "true"})
        conn.subscribe(queue, id="s1", ack="client-individual")
        assert wait_for(lambda: recorder.messages)
        frame = recorder.messages[0]
        conn.nack(frame.headers["ack"])
        conn.unsubscribe(id="s1")
        recorder.messages.clear()
        conn.subscribe(f"/queue/DLQ.{PREFIX}.centrale.data", id="s2", ack="auto")
        assert wait_for(lambda: any(m.body == "bad" for m in recorder.messages)), recorder.errors
    finally:
        conn.disconnect()


def test_activemq_persistent_messages_survive_a_restart(amq_broker, users):
    queue = f"/queue/{PREFIX}.devicev01.data"
    conn, _ = stomp_connect(amq_broker.port, users["STOMP_USERNAME"], users["STOMP_PASSWORD"])
    for i in range(3):
        conn.send(queue, f"kept-{i}", headers={"persistent": "true"})
    conn.disconnect(receipt="bye")

    amq_broker.restart()  # KahaDB in ACTIVEMQ_DATA (the compose volume)

    conn, recorder = stomp_connect(amq_broker.port, users["STOMP_USERNAME"], users["STOMP_PASSWORD"])
    try:
        conn.subscribe(queue, id="s1", ack="auto")
        assert wait_for(lambda: len(recorder.messages) >= 3)
        assert sorted(m.body for m in recorder.messages) == ["kept-0", "kept-1", "kept-2"]
    finally:
        conn.disconnect()


def test_server_certificate_covers_the_service_names(certs):
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    assert context.cert_store_stats()["x509_ca"] == 1
    text = subprocess.run(
        ["openssl", "x509", "-in", str(certs / "server.crt"), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("mosquitto", "elasticsearch", "kibana", "status-page", "localhost"):
        assert f"DNS:{name}" in text
    assert (certs / "ca").stat().st_mode & 0o077 == 0, "the CA key folder must be root-only"


def test_certificate_is_reissued_with_the_same_ca_for_a_new_host_name(tmp_path):
    tool = [sys.executable, str(DEPLOY / "certs" / "make_certs.py"), "--out", str(tmp_path)]
    subprocess.run(tool, check=True)
    ca, first = (tmp_path / "ca.crt").read_bytes(), (tmp_path / "server.crt").read_bytes()
    subprocess.run(tool, check=True)
    assert (tmp_path / "server.crt").read_bytes() == first, "re-running must keep the certificate"
    subprocess.run([*tool, "--hostnames", "iot.plant.example"], check=True)
    assert (tmp_path / "ca.crt").read_bytes() == ca, "the CA must stay: devices already trust it"
    text = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "server.crt"), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:iot.plant.example" in text
    verify = ["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"), str(tmp_path / "server.crt")]
    assert subprocess.run(verify, capture_output=True).returncode == 0
