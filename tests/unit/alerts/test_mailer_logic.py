"""Pure mailer logic: which SMTP failures are worth retrying, the comparison a reading satisfied, the
give-up budget left after a restart, and what a follow-up says about an undelivered first mail."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest

from alerts.events import NEGATED_OP, AlertEvent
from alerts.mailer.render import FirstMail
from alerts.mailer.settings import MailerSettings
from alerts.rule_kinds.threshold import COMPARE
from finemeca.mail import PermanentSmtpError, TransientSmtpError, classify

T0 = datetime(2026, 3, 5, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(111, "Connection refused"), TransientSmtpError),
        (TimeoutError("timed out"), TransientSmtpError),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), TransientSmtpError),
        (smtplib.SMTPDataError(451, b"try later"), TransientSmtpError),
        (smtplib.SMTPConnectError(421, b"too busy"), TransientSmtpError),
        (smtplib.SMTPDataError(554, b"rejected"), PermanentSmtpError),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), PermanentSmtpError),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"no such user")}), PermanentSmtpError),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (450, b"greylisted")}), TransientSmtpError),
    ],
)
def test_classify(error: Exception, expected: type) -> None:
    classified = classify(error, "SMTP mail.example:25")
    assert isinstance(classified, expected)
    assert "mail.example:25" in str(classified)


def event(kind: str, op: str) -> AlertEvent:
    return AlertEvent(
        event_id="e", kind=kind, rule="r", rule_kind="threshold", sensor="air", severity="critical",
        device_key="1", at=T0, episode_start=T0, values={"pressure": 6.35, "op": op, "opening_pressure": 5.8},
    )  # fmt: skip


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
@pytest.mark.parametrize("kind", ["fired", "resolved", "occurred", "settled"])
def test_the_comparison_shown_is_the_one_the_reading_satisfies(op: str, kind: str) -> None:
    shown = event(kind, op).observed_values()["op"]  # pressure 6.35, opening_pressure 5.8
    assert shown in (op, NEGATED_OP[op])
    assert COMPARE[shown](6.35, 5.8)


def test_the_issue_case_reads_greater_or_equal() -> None:
    assert event("resolved", "<").observed_values()["op"] == ">="  # not "6.35 < 5.8"


def test_give_up_budget_counts_what_was_spent_before_a_restart() -> None:
    settings = MailerSettings(give_up_after="1h")
    assert settings.retry_policy().max_age == 3600
    assert settings.retry_policy(timedelta(minutes=45)).max_age == 900
    assert settings.retry_policy(timedelta(hours=2)).max_age == 0  # one last attempt, then the DLQ


def test_follow_up_notices() -> None:
    assert FirstMail("sent").notice() is None
    assert "NOT delivered" in (FirstMail("dead-lettered", "SMTP 550").notice() or "")
    assert "SMTP 550" in (FirstMail("dead-lettered", "SMTP 550").notice() or "")
    assert "may NOT have been delivered" in (FirstMail("unknown").notice() or "")
    assert "No alert mail was sent" in (FirstMail("missing").notice() or "")
