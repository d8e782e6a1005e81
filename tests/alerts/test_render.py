"""Mail rendering: multipart, escaping of untrusted device values, no header injection, threading."""

from datetime import UTC, datetime

from alerts.events import AlertEvent, event_id
from alerts.mailer.recipients import RecipientBook
from alerts.mailer.render import build_message
from alerts.mailer.settings import MailerSettings

START = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def make_event(kind="fired", name="Press <script>alert(1)</script>\r\nBcc: evil@example.com"):
    return AlertEvent(
        event_id=event_id("air-leak", "170-12", START, kind),
        kind=kind,
        rule="air-leak",
        rule_kind="threshold",
        sensor="air",
        severity="critical",
        description="leak",
        device_key="170-12",
        device_name=name,
        line=name,
        customer="acme",
        at=START,
        episode_start=START,
        values={"pressure": 4.2, "op": "<", "opening_pressure": 5.0},
    )


def test_multipart_escaped_no_injection():
    msg = build_message(make_event(), ["ops@example.com"], "Alerts <no-reply@x.example>", MailerSettings())
    assert msg.get_content_type() == "multipart/alternative"
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Bcc" not in msg and "\n" not in msg["Subject"]
    assert msg["Message-ID"].startswith(f"<{make_event().event_id}@")
    assert ">4.2 <span" in html and ">5.0 <span" in html


def test_resolved_threads_under_fired():
    msg = build_message(make_event("resolved", "L1"), ["a@b.example"], "n@x.example", MailerSettings())
    assert make_event().event_id in msg["In-Reply-To"]
    assert "[RESOLVED]" in msg["Subject"]


def test_recipients_rule_then_customer_then_default():
    book = RecipientBook(default=["d@x.example"], customers={"acme": ["c@x.example"]})
    event = make_event()
    assert book.for_event(event) == ["c@x.example"]
    assert book.for_event(event.model_copy(update={"customer": "other"})) == ["d@x.example"]
    assert book.for_event(event.model_copy(update={"recipients": ["r@x.example"]}))[0] == "r@x.example"
