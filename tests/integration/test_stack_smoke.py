"""Round trips through each real service of `finemeca stack up`."""

from __future__ import annotations

import contextlib
import queue
import shutil
import smtplib
import socket
import threading
from email.message import EmailMessage

import paho.mqtt.client as mqtt
import pytest
import stomp
from paho.mqtt.enums import CallbackAPIVersion

from finemeca.stack import mailbox as mail_reader
from finemeca.stack import manager
from finemeca.stack.settings import REPO_ROOT, StackSettings

pytestmark = pytest.mark.integration


def test_mqtt_qos1_round_trip(mqtt_settings, unique_name):
    topic = f"{unique_name}/smoke"
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed = threading.Event()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-sub", protocol=mqtt.MQTTv5)
    sub.on_message = lambda _c, _u, message: received.put(message)
    sub.on_subscribe = lambda *_: subscribed.set()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-pub", protocol=mqtt.MQTTv311)
    for client in (sub, pub):
        if mqtt_settings.username and mqtt_settings.password:
            client.username_pw_set(mqtt_settings.username, mqtt_settings.password.get_secret_value())
    sub.connect(mqtt_settings.host, mqtt_settings.port)
    sub.loop_start()
    pub.connect(mqtt_settings.host, mqtt_settings.port)
    pub.loop_start()
    try:
        sub.subscribe(topic, qos=1)
        assert subscribed.wait(5), "no SUBACK from Mosquitto"
        info = pub.publish(topic, b'{"Temp": 21.5}', qos=1)
        info.wait_for_publish(timeout=5)
        assert info.is_published(), "no PUBACK from Mosquitto"
        message = received.get(timeout=5)
        assert message.payload == b'{"Temp": 21.5}'
        assert message.qos == 1
    finally:
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()


def test_stomp_persistent_client_individual_ack(stomp_settings, unique_name):
    destination = f"/queue/{unique_name}.smoke"
    frames: queue.Queue[stomp.utils.Frame] = queue.Queue()

    class Collect(stomp.ConnectionListener):
        def on_message(self, frame: stomp.utils.Frame) -> None:
            frames.put(frame)

    conn = stomp.Connection12(stomp_settings.hosts(), heartbeats=(0, 0))
    conn.set_listener("collect", Collect())
    password = stomp_settings.password.get_secret_value() if stomp_settings.password else None
    conn.connect(username=stomp_settings.username, passcode=password, wait=True)
    try:
        conn.send(destination, body="hello", headers={"persistent": "true", "sensor": "smoke"})
        conn.subscribe(destination, id="1", ack="client-individual")
        frame = frames.get(timeout=10)
        assert frame.body == "hello"
        assert frame.headers["persistent"] == "true"
        assert frame.headers["sensor"] == "smoke"
        conn.ack(frame.headers["ack"])
        conn.unsubscribe(id="1")
        # acknowledged: a new consumer gets nothing
        conn.subscribe(destination, id="2", ack="client-individual")
        with pytest.raises(queue.Empty):
            frames.get(timeout=1)
    finally:
        conn.disconnect()


def test_elasticsearch_index_and_search(es, unique_name):
    index = f"{unique_name}-smoke"
    try:
        es.index(index=index, id="1", document={"sensor": "smoke", "temperature": 21.5}, refresh="wait_for")
        hits = es.search(index=index, query={"term": {"sensor.keyword": "smoke"}})["hits"]
        assert hits["total"]["value"] == 1
        assert hits["hits"][0]["_source"]["temperature"] == 21.5
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)


def test_smtp_mail_is_stored(smtp_settings, mailbox, unique_name):
    message = EmailMessage()
    message["From"] = "smoke@finemeca.example"
    message["To"] = "ops@finemeca.example"
    message["Subject"] = f"smoke {unique_name}"
    message.set_content("leak on line A")
    with smtplib.SMTP(smtp_settings.host, smtp_settings.port, timeout=10) as client:
        if smtp_settings.username and smtp_settings.password:
            client.login(smtp_settings.username, smtp_settings.password.get_secret_value())
        client.send_message(message, to_addrs=["ops@finemeca.example", "hidden@finemeca.example"])

    stored = mail_reader.wait_for_message(lambda m: m["Subject"] == f"smoke {unique_name}", mailbox)
    assert stored["To"] == "ops@finemeca.example"
    assert "hidden@finemeca.example" in stored["X-Envelope-To"]
    assert stored.get_content().strip() == "leak on line A"
    for path in mail_reader.message_files(mailbox):  # remove only our own message: the mailbox is shared
        if unique_name in str(mail_reader.read_message(path)["Subject"]):
            path.unlink()


def test_status_reports_every_service_healthy(stack):
    rows = manager.status()
    assert {row.name for row in rows} == set(manager.SERVICE_NAMES)
    unhealthy = [row.name for row in rows if not row.healthy]
    assert not unhealthy, f"not healthy: {unhealthy}; see `finemeca stack status`"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_lifecycle_of_a_private_instance(unique_name):
    """up / idempotent up / stop_service / start_service / down on our own ports and state dir,
    so the shared stack is never touched (Mosquitto + SMTP sink: both start in well under a second)."""
    settings = StackSettings(
        dir=REPO_ROOT / "var" / "stack" / "_tests" / unique_name,
        mqtt_port=_free_port(),
        smtp_port=_free_port(),
    )
    names = ["mosquitto", "smtp"]
    try:
        first = {row.name: row for row in manager.up(names, settings)}
        assert all(row.healthy and row.managed and row.rss_bytes > 0 for row in first.values())
        again = {row.name: row.pid for row in manager.up(names, settings)}
        assert again == {name: row.pid for name, row in first.items()}, "second up must not restart"

        assert manager.stop_service("smtp", settings) is True
        assert not manager.status(["smtp"], settings)[0].healthy
        assert manager.stop_service("smtp", settings) is False
        restarted = manager.start_service("smtp", settings)
        assert restarted.healthy and restarted.pid != first["smtp"].pid
    finally:
        stopped = manager.down(names, settings)
        shutil.rmtree(settings.dir, ignore_errors=True)
        with contextlib.suppress(OSError):  # other runs may still use the parent
            settings.dir.parent.rmdir()
    assert sorted(stopped) == names
    assert not any(row.healthy or row.pid for row in manager.status(names, settings))
