"""Round trips through each real service of `finemeca stack up`, a private-instance lifecycle, install helpers."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import queue
import shutil
import smtplib
import socket
import threading
import zipfile
from email.message import EmailMessage
from xml.etree import ElementTree

import paho.mqtt.client as mqtt
import pytest
import stomp
from paho.mqtt.enums import CallbackAPIVersion

from tools.stack import mailbox as mail_reader
from tools.stack import manager
from tools.stack.config_files import render
from tools.stack.download import fetch_verified
from tools.stack.elasticsearch import unpack
from tools.stack.service import ServiceError
from tools.stack.settings import REPO_ROOT, StackSettings

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


# -- configuration and install helpers (no shared service involved) ---------------------------------


def test_rendered_configs_carry_the_contract(tmp_path):
    mosquitto_conf = render(
        "mosquitto.conf.j2", tmp_path / "m.conf", host="127.0.0.1", port=1883, run_as="mosquitto",
        data_dir=tmp_path, max_inflight=1000, password_file=None, autosave_changes=1,
    )  # fmt: skip
    lines = mosquitto_conf.read_text().splitlines()
    for expected in ("listener 1883 127.0.0.1", "persistence true", "max_queued_messages 1000000",
                     "autosave_on_changes true", "autosave_interval 1"):  # fmt: skip
        assert expected in lines
    assert "allow_anonymous true" in lines

    activemq_xml = render(
        "activemq.xml.j2", tmp_path / "activemq.xml", host="127.0.0.1", stomp_port=61613, openwire_port=61616,
        data_dir=tmp_path, tmp_dir=tmp_path, memory_limit="256 mb", store_limit="8 gb", temp_limit="1 gb",
        user="u", password="p<&>", mode=0o640,
    )  # fmt: skip
    root = ElementTree.parse(activemq_xml).getroot()  # well-formed even with XML-special characters
    ns = {"amq": "http://activemq.apache.org/schema/core"}
    dlq = root.find(".//amq:individualDeadLetterStrategy", ns)
    assert (
        dlq is not None and dlq.get("queuePrefix") == "DLQ." and dlq.get("useQueueForQueueMessages") == "true"
    )
    uris = [c.get("uri", "") for c in root.iterfind(".//amq:transportConnector", ns)]
    assert any(uri.startswith("stomp://127.0.0.1:61613") for uri in uris)
    user = root.find(".//amq:authenticationUser", ns)
    assert user is not None and user.get("password") == "p<&>"
    assert activemq_xml.stat().st_mode & 0o777 == 0o640


def test_download_is_verified_against_published_sha1(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "dist.zip").write_bytes(b"payload")
    (served / "dist.zip.sha1").write_text(hashlib.sha1(b"payload").hexdigest() + "\n")
    (served / "bad.zip").write_bytes(b"payload")
    (served / "bad.zip.sha1").write_text("0" * 40 + "\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        target = fetch_verified(f"{base}/dist.zip", tmp_path / "cache" / "dist.zip")
        assert target.read_bytes() == b"payload"
        assert fetch_verified(f"{base}/dist.zip", target) == target  # cached: no second download
        with pytest.raises(ServiceError, match="checksum mismatch"):
            fetch_verified(f"{base}/bad.zip", tmp_path / "cache" / "bad.zip")
        assert not (tmp_path / "cache" / "bad.zip").exists()
    finally:
        server.shutdown()


def test_unpack_keeps_executable_bits(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("pkg-1/bin/run")
        info.external_attr = 0o755 << 16
        zf.writestr(info, "#!/bin/sh\n")
        zf.writestr("pkg-1/config/x.yml", "a: 1\n")
    unpack(archive, tmp_path / "home")
    assert os.access(tmp_path / "home" / "pkg-1" / "bin" / "run", os.X_OK)
    assert (tmp_path / "home" / "pkg-1" / "config" / "x.yml").read_text() == "a: 1\n"
