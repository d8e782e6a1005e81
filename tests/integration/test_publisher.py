"""Publisher: topic encoding, interleaving, and QoS 1 publishing against the real local Mosquitto."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from finemeca.config import MqttSettings
from sensors.registry import get_sensor
from tools.simulate.publisher import MqttPublisher, PublishError, encode, interleave

START = datetime(2022, 4, 17, 21, 54, 41, tzinfo=UTC)


def test_encode_builds_device_topics():
    topic, payload = next(encode("air", get_sensor("air").simulate(1, start=START), "p"))
    assert topic == "p/air/10/100"
    assert json.loads(payload)["Time"] == "2022-04-17 23:54:41"


def test_interleave_round_robin():
    assert list(interleave(iter([1, 2, 3]), iter(["a", "b"]))) == [1, "a", 2, "b"]


def test_unreachable_broker_names_the_address():
    publisher = MqttPublisher(MqttSettings(host="127.0.0.1", port=1))  # type: ignore[call-arg]
    with pytest.raises(PublishError, match=r"127\.0\.0\.1:1 .*finemeca stack up"):
        publisher.connect(timeout=2)


@pytest.mark.integration
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_publishes_every_message_with_qos1(mqtt_settings, unique_name, protocol):
    settings = mqtt_settings.model_copy(update={"protocol": protocol, "topic_prefix": unique_name})
    total = 3000
    received: list[str] = []
    subscribed = threading.Event()
    subscriber = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-sub")
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.on_message = lambda client, userdata, message: received.append(message.topic)
    subscriber.connect(settings.host, settings.port)
    subscriber.subscribe(f"{unique_name}/#", qos=1)
    subscriber.loop_start()
    try:
        assert subscribed.wait(5), "subscription not acknowledged by Mosquitto"
        items = list(
            itertools.islice(encode("air", get_sensor("air").simulate(10, start=START), unique_name), total)
        )
        with MqttPublisher(settings) as publisher:
            stats = publisher.publish_all(items, rate=None)
            assert publisher.wait_for_acks(30)
        assert (stats.sent, stats.acked, stats.failed) == (total, total, 0)
        deadline = time.monotonic() + 10
        while len(received) < total and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(received) == total
        assert received[0].startswith(f"{unique_name}/air/10/")
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()


@pytest.mark.integration
def test_rate_is_paced_by_batches(mqtt_settings, unique_name):
    settings = mqtt_settings.model_copy(update={"topic_prefix": unique_name})
    items = encode("devicev01", get_sensor("devicev01").simulate(5, start=START), unique_name)
    with MqttPublisher(settings) as publisher:
        started = time.monotonic()
        stats = publisher.publish_all(items, rate=500, count=250)
        elapsed = time.monotonic() - started
        assert publisher.wait_for_acks(10)
    assert stats.acked == 250
    assert 0.4 <= elapsed < 1.5
