"""How many PUBACKed messages a `kill -9` of Mosquitto loses, for one autosave setting.

A private Mosquitto (own port and folder) gets an offline persistent session, N QoS 1 messages are
published to it and acknowledged, the broker is SIGKILLed right after the last PUBACK, restarted, and the
session reconnects to count what survived. The publish rate shows what writing the store costs.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from finemeca.config import MqttSettings
from tools.pipeline import free_port
from tools.simulate.publisher import MqttPublisher
from tools.stack.mosquitto import Mosquitto
from tools.stack.settings import StackSettings

TOPIC = "durability/probe"


@dataclass(frozen=True)
class DurabilityResult:
    autosave_changes: int  # 0 = Mosquitto's timer (autosave_interval 30 s)
    published: int
    publish_seconds: float
    recovered: int

    @property
    def lost(self) -> int:
        return self.published - self.recovered

    @property
    def rate(self) -> float:
        return self.published / self.publish_seconds if self.publish_seconds else 0.0


class OfflineSession:
    """A persistent MQTT 5 session (clean_start False, 1 h expiry) that counts distinct messages."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.settings = settings
        self.seen: set[bytes] = set()
        self._ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda *a: self._ready.set()
        self.client.on_message = lambda c, u, m: self.seen.add(bytes(m.payload))

    def connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self._ready.clear()
        self.client.connect(self.settings.host, self.settings.port, clean_start=False, properties=props)
        self.client.loop_start()
        if not self._ready.wait(10):
            raise RuntimeError(f"MQTT {self.settings.host}:{self.settings.port} did not answer CONNECT")

    def subscribe(self) -> None:
        info = self.client.subscribe(TOPIC, qos=1)
        time.sleep(0.5)
        assert info[0] == mqtt.MQTT_ERR_SUCCESS

    def drain(self, idle: float = 3.0, timeout: float = 120.0) -> int:
        deadline, last, count = time.monotonic() + timeout, time.monotonic(), 0
        while time.monotonic() < deadline and time.monotonic() - last < idle:
            time.sleep(0.2)
            if len(self.seen) != count:
                count, last = len(self.seen), time.monotonic()
        return len(self.seen)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def measure(
    autosave_changes: int, messages: int, work_dir: Path, payload_bytes: int = 300
) -> DurabilityResult:
    """One crash: N messages PUBACKed to an offline session, kill -9, restart, count the survivors."""
    shutil.rmtree(work_dir, ignore_errors=True)
    stack = StackSettings(dir=work_dir, mqtt_port=free_port(), mosquitto_autosave_changes=autosave_changes)
    broker = Mosquitto(stack)
    mqtt_settings = MqttSettings(host=stack.host, port=stack.mqtt_port)
    session = OfflineSession(mqtt_settings, f"durability-{stack.mqtt_port}")
    try:
        broker.start()
        broker.wait_ready(30)
        session.connect()
        session.subscribe()
        session.close()
        broker.stop()  # a clean stop saves the session: only the messages are at stake
        broker.start()
        broker.wait_ready(30)
        filler = b"x" * max(0, payload_bytes - 12)
        with MqttPublisher(mqtt_settings) as publisher:
            started = time.monotonic()
            publisher.publish_all((TOPIC, b"%010d|" % i + filler) for i in range(messages))
            if not publisher.wait_for_acks(300):
                raise RuntimeError(f"Mosquitto acknowledged {publisher.stats.acked}/{messages} in 300 s")
            seconds = time.monotonic() - started
            broker.kill()
        broker.start()
        broker.wait_ready(30)
        session.connect()
        recovered = session.drain()
        session.close()
    finally:
        broker.stop()
    return DurabilityResult(autosave_changes, messages, seconds, recovered)
