"""Fixtures for the alert tests: a unique air index, unique alert indices/queues, a live mailer thread."""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import stomp
from aiosmtpd.controller import Controller
from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from alerts.events import AlertEvent, event_id
from alerts.job import AlertJob
from alerts.mailer.consumer import Mailer
from alerts.mailer.settings import MailerSettings
from alerts.publisher import StompPublisher
from alerts.settings import AlertSettings
from finemeca.config import SmtpSettings, StompSettings
from sensors.registry import get_sensor
from tools.stack import mailbox as mail_reader


@pytest.fixture
def air_index(es: Elasticsearch, unique_name: str, alert_settings: AlertSettings) -> Iterator[str]:
    index = f"{unique_name}-air-data"
    es.indices.create(
        index=index,
        mappings=get_sensor("air").index_mappings(),
        settings={"number_of_shards": 1, "number_of_replicas": 0},
    )
    yield index


def drain(stomp_settings: StompSettings, *queues: str) -> None:
    """Consume what a test left on its own queues, so the broker keeps no test messages."""
    seen = threading.Event()

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            seen.set()

    conn = stomp.Connection12([(stomp_settings.host, stomp_settings.port)])
    conn.set_listener("", Listener())
    password = stomp_settings.password.get_secret_value() if stomp_settings.password else None
    conn.connect(stomp_settings.username, password, wait=True)
    for n, destination in enumerate(queues):
        conn.subscribe(destination, f"drain-{n}", ack="auto")
    while seen.wait(0.3):
        seen.clear()
    conn.disconnect()


@pytest.fixture
def alert_settings(
    es: Elasticsearch, unique_name: str, stomp_settings: StompSettings
) -> Iterator[AlertSettings]:
    """Unique index/queue names; afterwards every `<unique>-*` index is deleted and the queues drained."""
    yield AlertSettings(
        no_default_rules=True,
        state_index=f"{unique_name}-alerts-state",
        history_index=f"{unique_name}-alerts-history",
        queue=f"/queue/{unique_name}.alerts",
        ingest_slack=timedelta(0),
        catch_up_step=timedelta(minutes=5),
        first_lookback=timedelta(minutes=10),
    )
    es.options(ignore_status=404).indices.delete(index=f"{unique_name}-*")
    drain(stomp_settings, f"/queue/{unique_name}.alerts", f"/queue/DLQ.{unique_name}.alerts")


@pytest.fixture
def mailer_settings(unique_name: str, alert_settings: AlertSettings) -> MailerSettings:
    return MailerSettings(
        queue=alert_settings.queue,
        dead_letter_queue=f"/queue/DLQ.{unique_name}.alerts",
        sent_index=f"{unique_name}-alerts-sent",
        default_recipients=f"ops+{unique_name}@example.com",
        give_up_after=timedelta(seconds=20),
        backoff_initial=0.05,
        backoff_max=1.0,
    )


def env_for(
    alert_settings: AlertSettings, mailer_settings: MailerSettings, rules_dir: Path
) -> dict[str, str]:
    """Environment for `finemeca alerts|mailer run` subprocesses using the same unique names."""
    return {
        "ALERTS_NO_DEFAULT_RULES": "true",
        "ALERTS_RULES_DIRS": str(rules_dir),
        "ALERTS_STATE_INDEX": alert_settings.state_index,
        "ALERTS_HISTORY_INDEX": alert_settings.history_index,
        "ALERTS_QUEUE": alert_settings.queue,
        "ALERTS_INGEST_SLACK": "0",
        "ALERTS_CATCH_UP_STEP": "5m",
        "ALERTS_FIRST_LOOKBACK": "10m",
        "MAILER_QUEUE": mailer_settings.queue,
        "MAILER_DEAD_LETTER_QUEUE": mailer_settings.dead_letter_queue,
        "MAILER_SENT_INDEX": mailer_settings.sent_index,
        "MAILER_DEFAULT_RECIPIENTS": mailer_settings.default_recipients,
        "LOG_FORMAT": "console",
    }


@pytest.fixture
def job(
    es: Elasticsearch, alert_settings: AlertSettings, stomp_settings: StompSettings
) -> Iterator[AlertJob]:
    publisher = StompPublisher(alert_settings.queue, stomp_settings)
    alert_job = AlertJob(es, publisher, alert_settings)
    alert_job.ensure_indices()
    yield alert_job
    publisher.close()


@pytest.fixture
def running_mailer(
    es: Elasticsearch,
    mailer_settings: MailerSettings,
    smtp_settings: SmtpSettings,
    stomp_settings: StompSettings,
) -> Iterator[Mailer]:
    mailer = Mailer(es, mailer_settings, smtp_settings, stomp_settings)
    thread = threading.Thread(target=mailer.run, name="test-mailer", daemon=True)
    thread.start()
    yield mailer
    mailer.stop.set()
    thread.join(timeout=10)


def air_doc(
    device: int,
    at: datetime,
    pressure: float,
    msg_count: int,
    opening: float = 5.0,
    received: datetime | None = None,
    ingested: datetime | None = None,
) -> dict[str, Any]:
    """An air document as the ingestor writes it: by default received at device time, indexed 1 s later."""
    received = received or at
    return {
        "@timestamp": at.isoformat(),
        "received_at": received.isoformat(),
        "ingested_at": (ingested or received + timedelta(seconds=1)).isoformat(),
        "sensor": "air",
        "customer": "finemeca",
        "gateway_id": 170,
        "device_id": device,
        "device_key": f"170-{device}",
        "device_name": f"L{device}",
        "line": f"Line {device}",
        "msg_count": msg_count,
        "pressure": pressure,
        "opening_pressure": opening,
        "pressure_unit": "bar",
    }


def index_docs(es: Elasticsearch, index: str, docs: list[dict[str, Any]]) -> None:
    bulk(es, ({"_index": index, "_source": d} for d in docs), refresh="wait_for")


def write_rule(directory: Path, text: str, name: str = "rules.yml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def mails_for(mail_dir: Path, rule: str) -> list[EmailMessage]:
    return [m for m in mail_reader.list_messages(mail_dir) if m["X-Finemeca-Rule"] == rule]


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def kinds(messages: list[EmailMessage]) -> list[str]:
    return sorted(str(m["X-Finemeca-Event-Kind"]) for m in messages)


class ScriptedSmtpHandler:
    """aiosmtpd handler: answers RCPT with the scripted replies first (e.g. 451, 550), then accepts."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.received: list[bytes] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.replies:
            return self.replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope.original_content or b"")
        return "250 Message accepted for delivery"


@pytest.fixture
def scripted_smtp(
    smtp_settings: SmtpSettings,
) -> Iterator[Callable[[list[str]], tuple[SmtpSettings, ScriptedSmtpHandler]]]:
    """A real SMTP server (aiosmtpd) on a free port whose first RCPT replies are scripted."""
    controllers: list[Controller] = []

    def make(replies: list[str]) -> tuple[SmtpSettings, ScriptedSmtpHandler]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        handler = ScriptedSmtpHandler(replies)
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return smtp_settings.model_copy(update={"port": port, "timeout": 5.0}), handler

    yield make
    for controller in controllers:
        controller.stop()


def publish(stomp_settings: StompSettings, queue: str, *events: AlertEvent) -> None:
    publisher = StompPublisher(queue, stomp_settings)
    publisher.publish(list(events))
    publisher.close()


class QueueReader:
    """Consumes a queue (auto-ack) into a local queue: what a test expects to find in a DLQ."""

    def __init__(self, stomp_settings: StompSettings, destination: str) -> None:
        self.frames: queue.Queue[Any] = queue.Queue()
        reader = self

        class Listener(stomp.ConnectionListener):
            def on_message(self, frame: Any) -> None:
                reader.frames.put(frame)

        self.conn = stomp.Connection12([(stomp_settings.host, stomp_settings.port)])
        self.conn.set_listener("", Listener())
        password = stomp_settings.password.get_secret_value() if stomp_settings.password else None
        self.conn.connect(stomp_settings.username, password, wait=True)
        self.conn.subscribe(destination, "reader", ack="auto")

    def get(self, timeout: float) -> Any:
        return self.frames.get(timeout=timeout)

    def close(self) -> None:
        self.conn.disconnect()


def leak_event(rule: str, kind: str = "fired", start: datetime | None = None, **extra: Any) -> AlertEvent:
    """An air-leak event of device 170-9 (started at `start`, default 10 minutes ago)."""
    start = start or datetime.now(UTC) - timedelta(minutes=10)
    fields: dict[str, Any] = {
        "event_id": event_id(rule, "170-9", start, kind),
        "kind": kind, "rule": rule, "rule_kind": "threshold", "sensor": "air", "severity": "critical",
        "description": "Line pressure below the opening pressure.", "device_key": "170-9",
        "line": "Line 9", "at": start + timedelta(minutes=1), "episode_start": start,
        "values": {"pressure": 3.9, "op": "<", "opening_pressure": 5.0, "unit": "bar"},
    }  # fmt: skip
    fields.update(extra)
    return AlertEvent(**fields)
