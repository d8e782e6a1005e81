"""Gateway process for one sensor: MQTT (QoS 1, manual ack) -> STOMP transactions -> ActiveMQ queue."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

from finemeca import naming
from finemeca.config import MqttSettings, ObservabilitySettings, StompSettings
from finemeca.logs import get_logger
from finemeca.metrics import serve_health_and_metrics
from finemeca.stomp_link import StompLink
from gateway.forwarder import Forwarder
from gateway.handover import Adopter
from gateway.mqtt_source import GroupTopics, MqttSource
from gateway.settings import GatewaySettings

log = get_logger(__name__)


class Gateway:
    def __init__(
        self,
        sensor: str,
        settings: GatewaySettings | None = None,
        mqtt: MqttSettings | None = None,
        stomp: StompSettings | None = None,
    ) -> None:
        self.sensor = sensor
        self.settings = settings or GatewaySettings()
        self.mqtt_settings = mqtt or MqttSettings()
        self.stomp_settings = stomp or StompSettings()
        prefix = self.mqtt_settings.topic_prefix
        topic = naming.mqtt_topic_filter(sensor, prefix)
        client_id = self.settings.mqtt_client_id(sensor)
        group = self.settings.shared_group
        self.adopter: Adopter | None = None
        topics: GroupTopics | None = None
        if group:
            topic = naming.shared_subscription(topic, group)
            self.adopter = Adopter(
                sensor, client_id, topic, self.settings, self.mqtt_settings, self.stomp_settings
            )
            topics = GroupTopics(
                status_topic=naming.gateway_status_topic(sensor, group, client_id, prefix),
                status_filter=naming.gateway_status_filter(sensor, group, prefix),
                drain_topic=naming.gateway_drain_topic(client_id, prefix),
                will_delay_s=self.settings.will_delay_s,
                plain_topic=naming.mqtt_topic_filter(sensor, prefix),
            )
        self.source = MqttSource(
            self.mqtt_settings,
            client_id,
            topic,
            self.settings.max_inflight,
            group=topics,
            on_status=self.adopter.on_status if self.adopter else None,
        )
        self.link = StompLink(self.stomp_settings, client_name=client_id)
        self.forwarder = Forwarder(
            sensor,
            self.source,
            self.link,
            self.settings,
            self.stomp_settings.queue_prefix,
            self.mqtt_settings.topic_prefix,
        )
        self.started_at = time.time()

    def health(self) -> dict[str, object]:
        return {
            "ok": self.source.connected.is_set() and self.link.connected,
            "sensor": self.sensor,
            "mqtt_connected": self.source.connected.is_set(),
            "stomp_connected": self.link.connected,
            "forwarded": self.forwarder.forwarded,
            "adopted_sessions": self.adopter.adopted if self.adopter else 0,
            "adopted_forwarded": self.adopter.forwarded if self.adopter else 0,
            "dead_lettered": self.forwarder.dead_lettered,
            "inflight": self.source.messages.qsize(),
            "last_commit_at": self.forwarder.last_commit_at,
        }

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        log.info("gateway.stopping", sensor=self.sensor, signal=signum)
        self.forwarder.stop_requested.set()

    def run(self) -> None:
        """Run until SIGTERM/SIGINT; then forward what was received, disconnect MQTT and exit."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        self.link.ensure_connected(stop=self.forwarder.stop_requested)
        if self.adopter:
            self.adopter.start()
        self.source.start()
        if not self.source.wait_connected(timeout=30):
            log.error(
                "gateway.mqtt_not_connected",
                host=self.mqtt_settings.host,
                port=self.mqtt_settings.port,
                hint="check that the MQTT broker is up and reachable (MQTT_HOST/MQTT_PORT, credentials); still retrying",
            )
        log.info("gateway.started", sensor=self.sensor, queue=self.forwarder.destination)
        try:
            self.forwarder.run()
        finally:
            if self.adopter:
                self.adopter.stop()
            # a batch received during stop stays unacked in the broker session: redelivered next start,
            # or (shared group) drained by the live member that adopts the session marked offline here
            self.source.stop(status=naming.GATEWAY_OFFLINE)
            self.link.close()
            log.info(
                "gateway.stopped",
                sensor=self.sensor,
                forwarded=self.forwarder.forwarded,
                dead_lettered=self.forwarder.dead_lettered,
            )


def run_gateway(sensor: str) -> None:
    obs = ObservabilitySettings()
    gateway = Gateway(sensor)
    if obs.metrics_port:
        serve_health_and_metrics(obs.metrics_host, obs.metrics_port, gateway.health)
    gateway.run()
