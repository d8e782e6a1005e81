"""A simulated leak on one air line, through the real job, ActiveMQ, mailer and SMTP sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.catalog import load_catalog
from tests.alerts.conftest import air_doc, index_docs, kinds, mails_for, wait_until, write_rule

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def leak_rule(name: str, index: str) -> str:
    return f"""
rules:
  - name: {name}
    kind: threshold
    sensor: air
    index: {index}
    severity: critical
    description: Line pressure below the opening pressure.
    field: pressure
    op: "<"
    other_field: opening_pressure
    hysteresis: 0.05
    debounce: {{readings: 3}}
    resolve: {{readings: 2, min_firing: 2m}}
    reminders: {{first: 1h, factor: 2, max: 4h}}
"""


def test_leak_fires_once_reminds_on_schedule_resolves_once(
    es, job, running_mailer, air_index, unique_name, tmp_path: Path, mailbox
):
    rule_name = f"leak-{unique_name}"
    write_rule(tmp_path / "rules", leak_rule(rule_name, air_index))
    docs = []
    for i in range(150):  # three lines, one reading every 2 min for 5 h; line 2 leaks from 0:30 to 4:00
        at = T0 + timedelta(minutes=2 * i)
        for device in (1, 2, 3):
            leaking = device == 2 and timedelta(minutes=30) <= at - T0 < timedelta(hours=4)
            docs.append(air_doc(device, at, 4.0 if leaking else 6.0, i))
    index_docs(es, air_index, docs)

    rules = load_catalog(job.settings, [tmp_path / "rules"]).rules
    events = []
    for step in range(0, 5 * 12 + 1):  # the job runs every 5 simulated minutes
        events += job.run_cycle(rules, T0 + timedelta(minutes=5 * step)).events

    timeline = [(e.kind, e.device_key, e.at - T0, e.reminder_number) for e in events]
    assert timeline == [
        ("fired", "170-2", timedelta(minutes=34), 0),
        ("reminder", "170-2", timedelta(hours=1, minutes=35), 1),
        ("reminder", "170-2", timedelta(hours=3, minutes=35), 2),
        ("resolved", "170-2", timedelta(hours=4, minutes=2), 0),
    ]
    mails = wait_until(lambda: len(m := mails_for(mailbox, rule_name)) >= 4 and m, 30, "four mails")
    assert kinds(mails) == ["fired", "reminder", "reminder", "resolved"]
    assert {m["X-Finemeca-Device"] for m in mails} == {"170-2"}
    fired = next(m for m in mails if m["X-Finemeca-Event-Kind"] == "fired")
    assert "pressure 4.0 bar < opening pressure 5.0 bar" in fired["Subject"]
    resolved = next(m for m in mails if m["X-Finemeca-Event-Kind"] == "resolved")
    text = resolved.get_body(("plain",)).get_content()
    assert (
        "Recovered reading:  pressure 6.0 bar >= opening pressure 5.0 bar" in text
    )  # what holds now, past tense
    assert "pressure 6.0 < " not in text
    assert resolved["In-Reply-To"] == fired["Message-ID"]
    assert fired.get_body(("html",)) is not None and fired.get_body(("plain",)) is not None
    es.indices.refresh(index=job.settings.history_index)
    assert es.count(index=job.settings.history_index)["count"] == 4


def test_replay_command_prints_and_sends_nothing(es, air_index, alert_settings, unique_name, tmp_path: Path):
    import subprocess

    rule_file = write_rule(tmp_path / "rules", leak_rule(f"leak-{unique_name}", air_index))
    docs = [
        air_doc(device, T0 + timedelta(minutes=2 * i), 4.0 if device == 2 and 5 <= i < 20 else 6.0, i)
        for i in range(30)
        for device in (1, 2)
    ]
    index_docs(es, air_index, docs)
    result = subprocess.run(
        [".venv/bin/finemeca", "alerts", "test", str(rule_file), "--from", T0.isoformat(),
         "--to", (T0 + timedelta(hours=1)).isoformat(), "--step", "5m"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if "170-" in line]
    assert [line[1] for line in lines] == ["fired", "resolved"], result.stdout
    assert "op=<," in lines[0] and "op=>=," in lines[1], result.stdout  # the comparison that held
    assert not es.indices.exists(index=alert_settings.history_index)  # nothing stored
