"""Golden files: the exact subject, text and HTML of one mail per event kind, composed at a fixed time.

A template or wording change shows up here as a diff to review. To accept a deliberate change, regenerate
and commit the files under tests/alerts/golden/:

    UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/alerts/test_golden_mails.py

Cases (CASES below; one per event kind, plus follow-ups whose first mail was lost and a late re-driven
alert): the 18:35:05 leak of issue 11 (pressure 4.2 bar < 5.8 bar), mailed at 18:42:35 — 7.5 minutes
later, so every "before this mail" must count from the sending time, not from the event.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.events import AlertEvent, event_id
from alerts.mailer.render import FirstMail, LateDelivery, render_bodies
from alerts.mailer.settings import MailerSettings

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
START = datetime(2026, 3, 5, 17, 35, 5, tzinfo=UTC)  # 18:35:05 CET
NOW = START + timedelta(minutes=7, seconds=30)
SETTINGS = MailerSettings(timezone="Europe/Brussels", dashboard_url="https://kibana.example")
LOW = {"pressure": 4.2, "op": "<", "opening_pressure": 5.8, "unit": "bar"}
RECOVERED = {"pressure": 6.35, "op": "<", "opening_pressure": 5.8, "unit": "bar"}


def leak_event(kind: str, at: datetime, values: dict, number: int = 0, **extra: Any) -> AlertEvent:
    return AlertEvent(
        event_id=event_id("air-leak", "170-3", START, kind, number),
        kind=kind,
        rule="air-leak",
        rule_kind="threshold",
        sensor="air",
        severity="critical",
        description="Line pressure below the valve's opening pressure — compressed air is leaking.",
        device_key="170-3",
        device_name="L3 <press>",
        line="Line 3",
        customer="finemeca",
        at=at,
        episode_start=START,
        reminder_number=number,
        values=values,
        **extra,
    )


HEALED = START + timedelta(minutes=4, seconds=5)  # first healthy reading
RESOLVED = leak_event("resolved", HEALED + timedelta(seconds=30), RECOVERED, episode_end=HEALED)
CASES: dict[str, tuple[AlertEvent, FirstMail | None]] = {
    "fired": (leak_event("fired", START + timedelta(seconds=10), LOW), None),
    "reminder": (leak_event("reminder", START + timedelta(minutes=6), LOW, 1), FirstMail("sent")),
    "resolved": (RESOLVED, FirstMail("sent")),
    "resolved-alert-not-delivered": (
        RESOLVED,
        FirstMail("dead-lettered", "SMTP still failing after 6h (MAILER_GIVE_UP_AFTER), last error: refused"),
    ),
    # as the alert job dates it: `at` = start, `episode_end` = first healthy reading, values = that reading
    "occurred": (leak_event("occurred", START, RECOVERED, episode_end=START + timedelta(minutes=3)), None),
    "flapping": (
        leak_event("flapping", START + timedelta(minutes=6), LOW, flaps=5, flap_window_s=600.0),
        None,
    ),
    "settled": (
        leak_event(
            "settled",
            START + timedelta(minutes=7),
            RECOVERED,
            flaps=5,
            flap_window_s=600.0,
            episode_end=START + timedelta(minutes=5),
        ),
        None,
    ),
    "fired-sent-late": (leak_event("fired", START + timedelta(seconds=10), LOW), None),
}
LATE = {
    "fired-sent-late": LateDelivery(
        "SMTP still failing after 6h (MAILER_GIVE_UP_AFTER), last error: refused", already_resolved=True
    )
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mail_matches_golden(case: str) -> None:
    event, first_mail = CASES[case]
    subject, text, html = render_bodies(event, SETTINGS, NOW, first_mail, LATE.get(case))
    rendered = {f"{case}.txt": f"Subject: {subject}\n\n{text}", f"{case}.html": html}
    for name, content in rendered.items():
        path = GOLDEN / name
        if UPDATE:
            path.write_text(content, encoding="utf-8")
        assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1 and review it"
        assert content == path.read_text(encoding="utf-8"), f"{name} differs (UPDATE_GOLDEN=1 to accept)"
