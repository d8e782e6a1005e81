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
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from finemeca import naming
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


@dataclass(frozen=True, slots=True)
class GroupTopics:
    """A shared-group member's own status topic (retained; its will says offline), the group's status
    filter (None: do not watch the group) and its drain-marker topic."""

    status_topic: str
    status_filter: str | None
    drain_topic: str
    will_delay_s: int
    plain_topic: str | None = None  # the non-shared filter a member used before joining: dropped


class MqttSource:
    """`adopting=True` resumes another member's session to drain it: no reconnect, no new subscription."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        topic: str,
        max_inflight: int,
        group: GroupTopics | None = None,
        on_status: Callable[[str, bytes], None] | None = None,
        adopting: bool = False,
    ) -> None:
        self.settings = settings
        self.client_id = client_id
        self.topic = topic
        self.max_inflight = max_inflight
        self.group = group
        self.on_status = on_status
        self.adopting = adopting
        self.messages: queue.Queue[MqttMessage] = queue.Queue(maxsize=max_inflight * 2)
        self.connected = threading.Event()
        self.lost = threading.Event()  # an adopting connection was closed (e.g. the owner came back)
        self.session_present: bool | None = None
        self.drained = threading.Event()
        self._drain_nonce = b""
        self._unsubscribed = threading.Event()
        self.v5 = settings.protocol.strip() == "5"
        self.client = BatchingClient(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            clean_session=None if self.v5 else False,
            manual_ack=True,
            reconnect_on_failure=not adopting,
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
        self.client.on_unsubscribe = self._on_unsubscribe
        if group and self.v5:
            will = Properties(PacketTypes.WILLMESSAGE)
            will.WillDelayInterval = group.will_delay_s  # a takeover within the delay sends no will
            self.client.will_set(
                group.status_topic, naming.GATEWAY_OFFLINE, qos=1, retain=True, properties=will
            )

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

    def stop(self, status: bytes | None = None, delete_session: bool = False) -> None:
        """Disconnect; unacknowledged messages stay in the broker's session and come back on restart.

        `status` is published (retained) on the member's status topic first; `delete_session` ends the
        broker session (MQTT 5 session expiry 0): only once everything it held was forwarded.
        """
        if self.group and status is not None and self.connected.is_set():
            info = self.client.publish(self.group.status_topic, status, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=5)
            except (RuntimeError, ValueError) as exc:
                log.warning("mqtt.status_not_published", topic=self.group.status_topic, error=str(exc))
        properties = None
        if delete_session and self.v5:
            properties = Properties(PacketTypes.DISCONNECT)
            properties.SessionExpiryInterval = 0
        self.client.disconnect(properties=properties)
        self.client.loop_stop()

    def leave_group(self, timeout: float) -> bool:
        """Unsubscribe the shared topic, then wait until a marker published to our own drain topic comes
        back: the broker queues per session in order, so every message it held for us arrived before it."""
        assert self.group, "leave_group needs group topics"
        self._unsubscribed.clear()
        topics = [self.topic] + ([self.group.plain_topic] if self.group.plain_topic else [])
        self.client.unsubscribe(topics)
        if not self._unsubscribed.wait(timeout):
            return False
        self._drain_nonce = uuid.uuid4().hex.encode()
        self.client.publish(self.group.drain_topic, self._drain_nonce, qos=1)
        return self.drained.wait(timeout)

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
        self.session_present = bool(flags.session_present)
        if self.group:
            client.subscribe(self.group.drain_topic, qos=1)
        if self.adopting:
            self.connected.set()  # the adopted session keeps its subscription until leave_group()
            log.info("mqtt.adopting", client_id=self.client_id, session_present=self.session_present)
            return
        client.subscribe(self.topic, qos=1)
        if self.group:
            if self.group.plain_topic:  # a session from before the group: shared first, then this
                client.unsubscribe(self.group.plain_topic)
            if self.group.status_filter:
                client.subscribe(self.group.status_filter, qos=1)
            client.publish(self.group.status_topic, naming.GATEWAY_ONLINE, qos=1, retain=True)
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
        if self.adopting:
            self.lost.set()
        log.warning(
            "mqtt.disconnected", reason=str(reason), host=self.settings.host, client_id=self.client_id
        )

    def _on_unsubscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        self._unsubscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self.group and msg.topic == self.group.drain_topic:
            client.ack(msg.mid, msg.qos)
            if bytes(msg.payload) == self._drain_nonce:
                self.drained.set()
            return
        if (
            self.group
            and self.group.status_filter
            and msg.topic.startswith(self.group.status_filter.removesuffix("+"))
        ):
            client.ack(msg.mid, msg.qos)
            if self.on_status:
                self.on_status(msg.topic.rsplit("/", 1)[-1], bytes(msg.payload))
            return
        message = MqttMessage(msg.mid, msg.qos, msg.topic, bytes(msg.payload), int(time.time() * 1000))
        if msg.qos == 0:
            log.warning("mqtt.qos0_message", topic=msg.topic, hint="publish with QoS 1 for at-least-once")
        self.messages.put(message)  # bounded by the receive maximum: does not block in practice
