"""Crashes: the alert job SIGKILLed mid-leak, a crash between publish and persist, the mailer killed
between SMTP and ack. No duplicate mail, no lost mail, the missed window is evaluated."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.catalog import load_catalog
from alerts.events import AlertEvent, event_id
from alerts.job import AlertJob
from alerts.mailer.sent_store import SentStore
from alerts.publisher import StompPublisher
from tests.alerts.conftest import air_doc, env_for, index_docs, kinds, mails_for, wait_until, write_rule
from tests.alerts.test_leak_flow import leak_rule
from tools.stack import mailbox as mail_reader

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
CLI = str(Path(".venv/bin/finemeca").resolve())


def leak_docs() -> list[dict]:
    """Two lines, one reading a minute for 1 h; line 2 leaks from 0:10 to 0:40."""
    docs = []
    for minute in range(60):
        at = T0 + timedelta(minutes=minute)
        for device in (1, 2):
            leaking = device == 2 and 10 <= minute < 40
            docs.append(air_doc(device, at, 4.0 if leaking else 6.0, minute))
    return docs


def count_history(es, index: str, kind: str) -> int:
    if not es.indices.exists(index=index):
        return 0
    es.indices.refresh(index=index)
    return int(es.count(index=index, query={"term": {"kind": kind}})["count"])


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [CLI, *args],
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_job_sigkilled_during_leak_then_restarted(
    es, air_index, alert_settings, mailer_settings, running_mailer, unique_name, tmp_path: Path, mailbox
):
    rule = f"leak-{unique_name}"
    write_rule(tmp_path / "rules", leak_rule(rule, air_index))
    index_docs(es, air_index, leak_docs())
    env = env_for(alert_settings, mailer_settings, tmp_path / "rules")
    log = tmp_path / "job.log"

    # the job's clock starts at 0:08 and runs 60x: the leak fires at 0:12 simulated
    first = start(["alerts", "run", "--interval", "0.2s", "--now", (T0 + timedelta(minutes=8)).isoformat(),
                   "--clock-rate", "60"], env, log)  # fmt: skip
    try:
        wait_until(lambda: count_history(es, alert_settings.history_index, "fired"), 60, "the fired event")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    assert count_history(es, alert_settings.history_index, "resolved") == 0, "killed too late"

    # restarted long after the recovery (0:40): it replays the missed range from its watermark
    second = subprocess.run(
        [CLI, "alerts", "run", "--once", "--now", (T0 + timedelta(minutes=60)).isoformat()],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert second.returncode == 0, second.stdout + second.stderr

    wait_until(lambda: "resolved" in kinds(mails_for(mailbox, rule)), 30, "the resolved mail")
    time.sleep(1.0)  # room for a duplicate to show up, if any
    assert kinds(mails_for(mailbox, rule)) == ["fired", "resolved"], log.read_text()[-3000:]
    assert count_history(es, alert_settings.history_index, "fired") == 1


class CrashAfterPublish:
    """The process 'dies' right after ActiveMQ stored the events, before state and watermark."""

    def __init__(self, inner: StompPublisher) -> None:
        self.inner = inner

    def publish(self, events: list[AlertEvent]) -> None:
        self.inner.publish(events)
        if events:
            raise RuntimeError("simulated crash after publish")

    def close(self) -> None:
        self.inner.close()


def test_crash_between_publish_and_persist_gives_one_mail(
    es, air_index, alert_settings, stomp_settings, running_mailer, unique_name, tmp_path: Path, mailbox
):
    rule_name = f"leak-{unique_name}"
    write_rule(tmp_path / "rules", leak_rule(rule_name, air_index))
    index_docs(es, air_index, leak_docs())
    now = T0 + timedelta(minutes=20)

    crashing = AlertJob(
        es, CrashAfterPublish(StompPublisher(alert_settings.queue, stomp_settings)), alert_settings
    )
    crashing.ensure_indices()
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    first = crashing.run_cycle(rules, now)
    assert rule_name in first.errors
    crashing.publisher.close()

    restarted = AlertJob(es, StompPublisher(alert_settings.queue, stomp_settings), alert_settings)
    second = restarted.run_cycle(rules, now)
    restarted.publisher.close()
    assert [e.event_id for e in second.events] == [
        event_id(rule_name, "170-2", T0 + timedelta(minutes=10), "fired")
    ]  # the same id again: a duplicate on the queue, which the mailer drops
    wait_until(lambda: running_mailer.handled >= 2, 30, "both copies handled")
    assert kinds(mails_for(mailbox, rule_name)) == ["fired"]


def test_mailer_killed_between_send_and_ack_sends_once(
    es, alert_settings, mailer_settings, stomp_settings, unique_name, tmp_path: Path, mailbox
):
    event = AlertEvent(
        event_id=event_id(f"r-{unique_name}", "170-9", T0, "fired"),
        kind="fired", rule=f"r-{unique_name}", rule_kind="threshold", sensor="air", severity="critical",
        device_key="170-9", line="Line 9", at=T0, episode_start=T0,
        values={"pressure": 3.9, "op": "<", "opening_pressure": 5.0},
    )  # fmt: skip
    publisher = StompPublisher(alert_settings.queue, stomp_settings)
    publisher.publish([event])
    publisher.close()
    env = env_for(alert_settings, mailer_settings, tmp_path)
    log = tmp_path / "mailer.log"
    sent = SentStore(es, mailer_settings.sent_index)
    sent.ensure()

    first = start(["mailer", "run"], {**env, "MAILER_HOLD_BEFORE_ACK": "60"}, log)
    try:
        wait_until(lambda: sent.status(event.event_id) == "sent", 60, "the mail recorded as sent")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # mail accepted and recorded, message not acked
        first.wait(timeout=10)

    second = start(["mailer", "run", "--max-messages", "1"], env, log)
    assert second.wait(timeout=60) == 0, log.read_text()[-3000:]
    mails = [m for m in mail_reader.list_messages(mailbox) if m["X-Finemeca-Event-Id"] == event.event_id]
    assert len(mails) == 1
    assert "mailer.duplicate_dropped" in log.read_text()


def test_second_job_instance_conflicts_instead_of_overwriting(
    es, air_index, alert_settings, stomp_settings, unique_name, tmp_path: Path
):
    write_rule(tmp_path / "rules", leak_rule(f"leak-{unique_name}", air_index))
    rules = load_catalog(alert_settings, [tmp_path / "rules"]).rules
    jobs = [
        AlertJob(es, StompPublisher(alert_settings.queue, stomp_settings), alert_settings) for _ in range(2)
    ]
    jobs[0].ensure_indices()
    assert not jobs[0].run_cycle(rules, T0).errors
    assert not jobs[1].run_cycle(rules, T0 + timedelta(minutes=1)).errors  # reads the first one's watermark
    report = jobs[0].run_cycle(rules, T0 + timedelta(minutes=2))  # stale version: refused
    assert "second alert job" in report.errors[rules[0].name]
    assert not jobs[0].run_cycle(rules, T0 + timedelta(minutes=3)).errors  # reloaded, carries on
    for job in jobs:
        job.publisher.close()
