"""Shared-group handover: a live gateway adopts the persistent session of a member that went away.

Mosquitto keeps giving a shared subscription's share to a member's offline persistent session, and
drops what that session holds if it expires (nothing is redistributed). So a member that stops or
crashes leaves a retained "offline" status (its will, after `GATEWAY_WILL_DELAY_S`); the live member
with the smallest client id then connects *as* that member (resuming its session), unsubscribes the
shared topic, forwards everything the session held (until its drain marker comes back), and only then
deletes the session and clears the status. If the owner comes back first, it takes its session over and
the adoption stops without acking: nothing is lost, at worst a batch is forwarded twice (idempotent ids).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from finemeca import naming
from finemeca.config import MqttSettings, StompSettings
from finemeca.errors import StopRequested
from finemeca.logs import get_logger
from finemeca.stomp_link import StompLink
from gateway.forwarder import Forwarder
from gateway.mqtt_source import GroupTopics, MqttSource
from gateway.settings import GatewaySettings

log = get_logger(__name__)


@dataclass
class GroupView:
    """What one member knows of its group from the retained status topics; decides who adopts whom."""

    me: str
    online: set[str] = field(default_factory=set)
    orphans: set[str] = field(default_factory=set)

    def update(self, member: str, status: bytes) -> None:
        if member == self.me:
            return
        self.online.discard(member)
        self.orphans.discard(member)
        if status == naming.GATEWAY_ONLINE:
            self.online.add(member)
        elif status == naming.GATEWAY_OFFLINE:
            self.orphans.add(member)
        # empty payload: the retained status was cleared, the member is gone for good

    def mine_to_adopt(self) -> list[str]:
        """Orphans this member adopts: all of them if it has the smallest id among the live members."""
        if not self.orphans or min(self.online | {self.me}) != self.me:
            return []
        return sorted(self.orphans)


class Adopter:
    """Watches the group (status callbacks from the MQTT thread) and drains orphaned sessions, one at a
    time, on its own thread with its own MQTT and STOMP connections."""

    def __init__(
        self,
        sensor: str,
        me: str,
        shared_topic: str,
        settings: GatewaySettings,
        mqtt: MqttSettings,
        stomp: StompSettings,
    ) -> None:
        self.sensor = sensor
        self.shared_topic = shared_topic
        self.settings = settings
        self.mqtt = mqtt
        self.stomp = stomp
        self.view = GroupView(me)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stop_requested = threading.Event()
        self.adopted = 0  # sessions fully drained and deleted
        self.forwarded = 0
        self.thread = threading.Thread(target=self._run, name="gateway-adopter", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_requested.set()
        self.wake.set()
        self.thread.join(timeout=self.settings.commit_timeout_s + 10)

    def on_status(self, member: str, status: bytes) -> None:
        with self.lock:
            self.view.update(member, status)
        self.wake.set()

    def _run(self) -> None:
        while not self.stop_requested.is_set():
            self.wake.wait()
            self.wake.clear()
            with self.lock:
                todo = self.view.mine_to_adopt()
            for member in todo:
                if self.stop_requested.is_set():
                    return
                with self.lock:
                    still_orphan = member in self.view.orphans
                if still_orphan:
                    self._adopt_or_retry(member)

    def _adopt_or_retry(self, member: str) -> None:
        """An adoption that fails (ActiveMQ down, broker restarting) is tried again later, not dropped."""
        try:
            self._adopt(member)
        except StopRequested:
            return
        except Exception as exc:
            log.error("gateway.adoption_failed", member=member, error=str(exc), retry_in_s=5)
            threading.Timer(5.0, self.wake.set).start()

    def _group_topics(self, member: str) -> GroupTopics:
        prefix, group = self.mqtt.topic_prefix, self.settings.shared_group or ""
        return GroupTopics(
            status_topic=naming.gateway_status_topic(self.sensor, group, member, prefix),
            status_filter=None,
            drain_topic=naming.gateway_drain_topic(member, prefix),
            will_delay_s=self.settings.will_delay_s,
            plain_topic=naming.mqtt_topic_filter(self.sensor, prefix),
        )

    def _adopt(self, member: str) -> None:
        started = time.monotonic()
        log.info("gateway.adopting", sensor=self.sensor, member=member, by=self.view.me)
        source = MqttSource(
            self.mqtt,
            member,
            self.shared_topic,
            self.settings.max_inflight,
            group=self._group_topics(member),
            adopting=True,
        )
        link = StompLink(self.stomp, client_name=f"{self.view.me}-adopting-{member}")
        forwarder = Forwarder(
            self.sensor, source, link, self.settings, self.stomp.queue_prefix, self.mqtt.topic_prefix
        )
        link.ensure_connected(stop=self.stop_requested)
        source.start()
        if not source.wait_connected(timeout=30) or source.session_present is None:
            log.warning("gateway.adoption_not_connected", member=member)
            source.stop()
            link.close()
            return
        if not source.session_present:
            source.stop(status=b"", delete_session=True)  # nothing held: just clear the status
            link.close()
            self._done(member, started, 0)
            return
        complete = [False]
        worker = threading.Thread(target=lambda: complete.__setitem__(0, forwarder.run()), daemon=True)
        worker.start()
        drained = source.leave_group(self.settings.drain_timeout_s)
        forwarder.stop_requested.set()  # forwards everything received so far, then returns
        worker.join()
        self.forwarded += forwarder.forwarded
        if drained and complete[0] and not source.lost.is_set():
            source.stop(status=b"", delete_session=True)
            link.close()
            self._done(member, started, forwarder.forwarded)
        else:
            # owner back (session taken over), stop requested, or ActiveMQ gone: keep the session
            log.warning(
                "gateway.adoption_interrupted",
                member=member,
                drained=drained,
                taken_over=source.lost.is_set(),
                forwarded=forwarder.forwarded,
            )
            source.stop(status=None if source.lost.is_set() else naming.GATEWAY_OFFLINE)
            link.close()

    def _done(self, member: str, started: float, forwarded: int) -> None:
        self.adopted += 1
        with self.lock:
            self.view.orphans.discard(member)
        log.info(
            "gateway.adopted",
            sensor=self.sensor,
            member=member,
            forwarded=forwarded,
            seconds=round(time.monotonic() - started, 2),
        )
