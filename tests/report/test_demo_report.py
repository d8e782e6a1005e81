"""`make run` (= `finemeca demo`) ends by mailing the demo customer's weekly report: one mail per demo run."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tools.demo import send_weekly_report
from tools.stack import mailbox as mail_reader

pytestmark = pytest.mark.integration


def reports(mailbox):
    return [
        m
        for m in mail_reader.list_messages(mailbox)
        if m["X-Finemeca-Customer"] == "finemeca" and str(m["X-Finemeca-Report"]).startswith("weekly ")
    ]


def wait_for_count(mailbox, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(found := reports(mailbox)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_each_demo_run_mails_one_report_for_the_demo_customer(es, smtp_settings, mailbox):
    prefix = f"test-demo-report-{datetime.now(UTC):%H%M%S%f}"
    already = len(reports(mailbox))  # earlier demo runs on this stack
    try:
        first = send_weekly_report(es, prefix, smtp_settings)
        assert [(o.customer, o.status) for o in first] == [("finemeca", "sent")]
        label = first[0].week
        assert len(wait_for_count(mailbox, already + 1)) == already + 1
        second = send_weekly_report(
            es, prefix, smtp_settings
        )  # the next demo run: its sent record is forgotten
        assert [(o.week, o.status) for o in second] == [(label, "sent")]
        mails = wait_for_count(mailbox, already + 2)
        assert len(mails) == already + 2
        assert mails[-1]["X-Finemeca-Report"] == f"weekly {label}"
        assert "maintenance@finemeca.example" in mails[-1]["To"]
        assert (
            es.get(index=f"{prefix}-report-sent-demo", id=f"finemeca-{label}")["_source"]["status"] == "sent"
        )
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
