"""MQTT side of the gateway: a persistent QoS 1 session whose messages are acknowledged by hand.

paho-mqtt's network thread only enqueues messages; the forwarder acknowledges them (PUBACK) once
ActiveMQ confirmed the transaction that carries them. The broker never sends more than
`max_inflight` unacknowledged messages (MQTT 5 receive maximum), so the queue is bounded.
"""

from __future__ import annotations

import queue
import ssl
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from finemeca.config import MqttSettings
from finemeca.logs import get_logger
from gateway.mqtt_client import BatchingClient

log = get_logger(__name__)

SESSION_EXPIRY_NEVER = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class MqttMessage:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_ms: int


class MqttSource:
    def __init__(self, settings: MqttSettings, client_id: str, topic: str, max_inflight: int) -> None:
        self.settings = settings
        self.topic = topic
        self.max_inflight = max_inflight
        self.messages: queue.Queue[MqttMessage] = queue.Queue(maxsize=max_inflight * 2)
        self.connected = threading.Event()
        self.v5 = settings.protocol.strip() == "5"
        self.client = BatchingClient(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            clean_session=None if self.v5 else False,
            manual_ack=True,
        )
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else None
            self.client.username_pw_set(settings.username, password)
        if settings.tls:
            self.client.tls_set(
                ca_certs=str(settings.ca_file) if settings.ca_file else None, cert_reqs=ssl.CERT_REQUIRED
            )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        properties = None
        if self.v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY_NEVER
            properties.ReceiveMaximum = self.max_inflight
        self.client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive,
            clean_start=False if self.v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties,
        )
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    def ack(self, message: MqttMessage) -> None:
        self.client.ack(message.mid, message.qos)

    def ack_many(self, messages: list[MqttMessage]) -> None:
        """PUBACK a batch at once (QoS 1; QoS 0 needs none, QoS 2 is completed one by one)."""
        self.client.ack_many(m.mid for m in messages if m.qos == 1)
        for message in messages:
            if message.qos == 2:
                self.ack(message)

    def stop(self) -> None:
        """Disconnect; unacknowledged messages stay in the broker's session and come back on restart."""
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho callbacks (network thread) ----------------------------------------------------------------
    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("mqtt.connect_refused", reason=str(reason), host=self.settings.host)
            return
        client.subscribe(self.topic, qos=1)
        self.connected.set()
        log.info(
            "mqtt.connected",
            host=self.settings.host,
            port=self.settings.port,
            topic=self.topic,
            session_present=flags.session_present,
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        log.warning("mqtt.disconnected", reason=str(reason), host=self.settings.host)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        message = MqttMessage(msg.mid, msg.qos, msg.topic, bytes(msg.payload), int(time.time() * 1000))
        if msg.qos == 0:
            log.warning("mqtt.qos0_message", topic=msg.topic, hint="publish with QoS 1 for at-least-once")
        self.messages.put(message)  # bounded by the receive maximum: does not block in practice
