"""SMTP failures by kind: 4xx is retried until accepted, 5xx goes to the alerts DLQ at once, a server
that stays away is given up after MAILER_GIVE_UP_AFTER; `finemeca mailer dlq list|show|redrive`."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.events import AlertEvent
from alerts.mailer.consumer import Mailer
from alerts.mailer.sent_store import SentStore
from tests.alerts.conftest import QueueReader, env_for, leak_event, publish, wait_until
from tools.stack import mailbox as mail_reader

pytestmark = pytest.mark.integration
CLI = str(Path(".venv/bin/finemeca").resolve())


@contextmanager
def mailer_thread(es, mailer_settings, smtp, stomp_settings) -> Iterator[Mailer]:
    mailer = Mailer(es, mailer_settings, smtp, stomp_settings)
    thread = threading.Thread(target=mailer.run, daemon=True)
    thread.start()
    try:
        yield mailer
    finally:
        mailer.stop.set()
        thread.join(timeout=15)


def test_4xx_is_retried_until_the_server_accepts(
    es, mailer_settings, stomp_settings, scripted_smtp, unique_name
):
    smtp, server = scripted_smtp(["451 4.3.0 try again later"] * 3)
    event = leak_event(f"r-{unique_name}")
    publish(stomp_settings, mailer_settings.queue, event)
    with mailer_thread(es, mailer_settings, smtp, stomp_settings) as mailer:
        wait_until(lambda: mailer.handled == 1, 30, "the event handled")
    assert len(server.received) == 1 and event.event_id.encode() in server.received[0]
    assert SentStore(es, mailer_settings.sent_index).status(event.event_id) == "sent"


def test_5xx_goes_to_the_dlq_at_once(es, mailer_settings, stomp_settings, scripted_smtp, unique_name):
    smtp, server = scripted_smtp(["550 5.1.1 mailbox unavailable"])
    event = leak_event(f"r-{unique_name}")
    dlq = QueueReader(stomp_settings, mailer_settings.dead_letter_queue)
    publish(stomp_settings, mailer_settings.queue, event)
    started = time.monotonic()
    try:
        with mailer_thread(es, mailer_settings, smtp, stomp_settings):
            frame = dlq.get(timeout=30)
    finally:
        dlq.close()
    assert time.monotonic() - started < mailer_settings.give_up_after.total_seconds()  # not retried
    assert "refused the mail for good" in frame.headers["dlq_reason"]
    assert "550" in frame.headers["dlq_reason"] and frame.headers["event-id"] == event.event_id
    assert server.received == []
    assert SentStore(es, mailer_settings.sent_index).status(event.event_id) == "dead-lettered"


def test_give_up_after_the_configured_age_then_redrive_from_the_cli(
    es, alert_settings, mailer_settings, smtp_settings, stomp_settings, unique_name, tmp_path, mailbox
):
    settings = mailer_settings.model_copy(update={"give_up_after": timedelta(seconds=3)})
    closed_port = smtp_settings.model_copy(update={"port": 9, "timeout": 1.0})
    event = leak_event(f"r-{unique_name}")
    publish(stomp_settings, settings.queue, event)
    with mailer_thread(es, settings, closed_port, stomp_settings) as mailer:
        wait_until(lambda: mailer.handled == 1, 30, "the event given up")
    assert SentStore(es, settings.sent_index).status(event.event_id) == "dead-lettered"

    env = {**os.environ, **env_for(alert_settings, settings, tmp_path)}

    def cli(*args: str) -> str:
        result = subprocess.run(
            [CLI, "mailer", "dlq", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    listing = cli("list", "--idle-timeout", "2")
    assert "1 dead letter(s)" in listing and f"fired r-{unique_name} 170-9" in listing
    message_id = next(word for word in listing.split() if word.startswith("ID:"))
    shown = cli("show", message_id, "--idle-timeout", "2")
    assert "MAILER_GIVE_UP_AFTER" in shown and "Connection refused" in shown  # the reason, in full
    assert f'"event_id": "{event.event_id}"' in shown

    with mailer_thread(es, settings, smtp_settings, stomp_settings) as mailer:  # SMTP fixed
        assert "re-drove 1 event(s)" in cli("redrive", "--idle-timeout", "2")
        wait_until(lambda: mailer.handled == 1, 30, "the re-driven event handled")
    mails = [m for m in mail_reader.list_messages(mailbox) if m["X-Finemeca-Event-Id"] == event.event_id]
    assert len(mails) == 1
    assert "sent late" in mails[0]["Subject"]
    assert "re-driven from the dead-letter queue (it went there because: SMTP still failing after 3s" in (
        mails[0].get_body(("plain",)).get_content()
    )
    assert "0 dead letter(s)" in cli("list", "--idle-timeout", "2")
    assert SentStore(es, settings.sent_index).status(event.event_id) == "sent"


def test_redelivered_dead_letter_is_not_dead_lettered_twice(
    es, mailer_settings, smtp_settings, stomp_settings, unique_name
):
    """The issue saw the event dead-lettered twice after a STOMP drop: the record now stops the second."""
    settings = mailer_settings.model_copy(update={"give_up_after": timedelta(seconds=1)})
    closed_port = smtp_settings.model_copy(update={"port": 9, "timeout": 1.0})
    event: AlertEvent = leak_event(f"r-{unique_name}")
    dlq = QueueReader(stomp_settings, settings.dead_letter_queue)
    publish(stomp_settings, settings.queue, event, event)  # the same event delivered twice
    try:
        with mailer_thread(es, settings, closed_port, stomp_settings) as mailer:
            wait_until(lambda: mailer.handled == 2, 30, "both copies handled")
        dlq.get(timeout=10)
        time.sleep(1.0)
        assert dlq.frames.empty(), "dead-lettered twice"
    finally:
        dlq.close()
