"""The weekly report against a known week in the real Elasticsearch: every figure computed by hand."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from finemeca.config import SmtpSettings
from report.data import build_report, pressure_series
from report.job import run_weekly
from report.reference import CFM_TO_M3_PER_MIN
from report.render import render_bodies
from report.week import parse_week
from tests.report.conftest import WEEK, at
from tests.statuspage.chromium import Browser, locate_chromium
from tools.stack import mailbox as mail_reader

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture(scope="module")
def report(es, known_week):
    week = parse_week(WEEK, "Europe/Brussels")
    return build_report(es, known_week.config, known_week.settings, known_week.customer, week)


def test_week_is_local_monday_to_monday(report):
    assert report.week.start == at(16, 0)
    assert report.week.end == at(23, 0)


def test_leaks_per_line(report):
    lines = {line.line: line for line in report.lines}
    assert sorted(lines) == ["line-1", "line-2", "line-3"]  # not the other customer's line
    one, two, three = lines["line-1"], lines["line-2"], lines["line-3"]
    # line-1: Tue 10:00-12:30 and Sat 23:00 -> Sun 01:10 (across midnight); previous week 1 h
    assert (one.leaks, one.leak_time, one.longest, one.open_at_end) == (
        2,
        4 * H + 40 * M,
        2 * H + 30 * M,
        False,
    )
    assert (one.previous_leaks, one.previous_leak_time) == (1, H)
    # line-2: from Sun 20:00, still open at the week end (midnight): 4 h
    assert (two.leaks, two.leak_time, two.longest, two.open_at_end) == (1, 4 * H, 4 * H, True)
    assert (two.previous_leaks, two.previous_leak_time) == (0, timedelta(0))
    assert (three.leaks, three.leak_time) == (0, timedelta(0))
    assert report.chart_line is one  # the most leak time in the week (4 h 40 > 4 h)


def test_chart_series_is_the_customers_line_only(es, known_week, report):
    """Another customer's device with the same key (10-101) leaks on the 18th: not in our chart."""
    series = pressure_series(es, known_week.settings, known_week.customer, "10-101", report.week)
    assert len(series) == 7 * 48
    pressures = [p for _, p, _ in series if p is not None]
    assert min(pressures) == pytest.approx(5.1) and max(pressures) == pytest.approx(6.4)
    night = {moment: p for moment, p, _ in series if at(18, 2) <= moment < at(18, 4)}
    assert list(night.values()) == [pytest.approx(6.4)] * 4  # theirs read 1.0 at 02:00 and 03:00
    assert all(o == pytest.approx(5.9) for _, _, o in series)


def test_air_lost_and_cost(report):
    lines = {line.line: line for line in report.lines}
    one, two = lines["line-1"], lines["line-2"]
    flow_one = 25.2 * CFM_TO_M3_PER_MIN  # DOE tip sheet #3, 1/8 in at 100 psig
    assert one.air_lost_m3 == pytest.approx(280 * flow_one)
    assert one.energy_kwh == pytest.approx(280 * flow_one * 0.12)
    assert one.cost == pytest.approx(280 * flow_one * 0.12 * 0.25)
    assert (one.model.flow_source, one.cost_source) == ("estimated", "estimated")
    assert two.air_lost_m3 == pytest.approx(120.0)  # 240 min x 0.5 m3/min measured
    assert two.energy_kwh == pytest.approx(14.4)
    assert two.cost == pytest.approx(3.6)
    assert two.model.flow_source == "measured"
    assert two.cost_source == "estimated"  # the specific energy is not measured
    assert report.total_cost == pytest.approx(280 * flow_one * 0.03 + 3.6)


def test_centrale_energy(report):
    assert report.energy_per_day == {f"2026-11-{16 + i}": pytest.approx(24 * (10 + i)) for i in range(7)}
    assert report.energy_week_kwh == pytest.approx(24 * (10 + 11 + 12 + 13 + 14 + 15 + 16))  # 2184
    assert report.energy_previous_week_kwh == pytest.approx(7 * 24 * 8)  # 1344
    assert report.energy_incomplete_days == 0


def test_data_health(report):
    health = report.health
    assert health.devices == 4
    assert [name for name, _ in health.silent] == ["line-3"]
    assert health.silent[0][1] == at(20, 11, 50)
    # expected: 3 air lines x 1008 (10 min) + 672 meter readings; line-3 sent 4 x 144 + 72 before it fell silent
    assert health.expected == 3 * 1008 + 672
    assert health.received == 1008 + 1008 + (4 * 144 + 72) + 672
    assert health.dead_letters == {"invalid JSON": 2, "Pres out of range": 1}


def test_text_mail_shows_the_figures(report):
    subject, text, html = render_bodies(report)
    assert f"{WEEK}" in subject and "2 line(s) leaked" in subject
    assert (
        "line-1: 2 leak(s); total 4 h 40 min, longest 2 h 30 min; previous week 1 leak(s), 1 h 00 min (+367%)"
        in text
    )
    assert "line-2: 1 leak(s), still open; total 4 h 00 min" in text
    assert "air lost 120.0 m3 (measured: 0.500 m3/min" in text
    assert "2026-11-22: 384.0 kWh" in text
    assert "week: 2184.0 kWh; previous week 1344.0 kWh (+62%)" in text
    assert "silent at week end: line-3 (last Fri 20 Nov 11:50)" in text
    assert "<script" not in html and "cid:leak-chart" in html


def test_sends_once_through_the_real_smtp_sink(es, known_week, smtp_settings: SmtpSettings, mailbox):
    def ours(message):
        return message["X-Finemeca-Customer"] == known_week.customer

    first = run_weekly(es, known_week.config, known_week.settings, smtp_settings, week=WEEK)
    assert [(o.week, o.status) for o in first] == [(WEEK, "sent")]
    mail = mail_reader.wait_for_message(ours, mailbox)
    assert mail["Subject"].startswith(f"Weekly leak report {WEEK}")
    assert "plant@customer.example" in mail["To"]
    html = mail.get_body(("html",))
    assert html is not None and "line-2" in html.get_content()
    images = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<leak-chart>"
    assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    again = run_weekly(es, known_week.config, known_week.settings, smtp_settings, week=WEEK)
    assert [(o.week, o.status) for o in again] == [(WEEK, "already sent")]
    assert len([m for m in mail_reader.list_messages(mailbox) if ours(m)]) == 1


def test_default_week_is_the_last_full_one_and_dry_run_writes_files(es, known_week, smtp_settings, tmp_path):
    outcomes = run_weekly(
        es,
        known_week.config,
        known_week.settings,
        smtp_settings,
        dry_run_dir=tmp_path,
        now=datetime(2026, 11, 25, 9, tzinfo=at(1, 0).tzinfo),
    )
    assert [(o.week, o.status) for o in outcomes] == [(WEEK, "written")]
    stem = f"{known_week.customer}-{WEEK}"
    assert "line-1: 2 leak(s)" in (tmp_path / f"{stem}.txt").read_text()
    assert f"{stem}-chart.png" in (tmp_path / f"{stem}.html").read_text()
    assert (tmp_path / f"{stem}-chart.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_mail_renders_in_headless_chromium(es, known_week, smtp_settings, tmp_path):
    """The HTML part as a mail client shows it (chart inline); FINEMECA_UPDATE_SCREENSHOT=1 refreshes
    docs/weekly-report.png, the README's picture."""
    out = tmp_path / "mail"
    run_weekly(es, known_week.config, known_week.settings, smtp_settings, week=WEEK, dry_run_dir=out)
    page = out / f"{known_week.customer}-{WEEK}.html"
    browser = Browser(locate_chromium(), tmp_path / "profile", width=800, height=900)
    try:
        browser.send("Page.enable")
        browser.send("Page.navigate", url=page.as_uri())
        browser.wait_for("document.readyState === 'complete' && document.images[0].complete", 20, "the page")
        assert browser.evaluate("document.images[0].naturalWidth") == 700  # the chart PNG loaded
        text = browser.evaluate("document.body.innerText")
        assert "line-2 still open" in text and "4 h 00 min" in text and "2184.0" in text
        assert (
            browser.evaluate("getComputedStyle(document.querySelector('.open')).color") == "rgb(192, 57, 43)"
        )
        shot = tmp_path / "weekly-report.png"
        browser.screenshot(shot)
        assert shot.read_bytes()[:4] == b"\x89PNG"
        if os.environ.get("FINEMECA_UPDATE_SCREENSHOT") == "1":
            shutil.copy(shot, REPO / "docs" / "weekly-report.png")
    finally:
        browser.close()
