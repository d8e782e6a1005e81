"""ISO weeks on the site's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from report.week import last_full_week, parse_week


def test_week_bounds_are_local_midnights():
    week = parse_week("2026-W47", "Europe/Brussels")
    assert week.start == datetime(2026, 11, 15, 23, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 22, 23, tzinfo=UTC)
    assert week.previous().label == "2026-W46"


def test_dst_week_is_one_hour_short():
    week = parse_week("2026-W13", "Europe/Brussels")  # clocks go forward on Sunday 29 March 2026
    assert week.end - week.start == timedelta(days=7, hours=-1)


def test_year_boundary():
    assert parse_week("2027-W01", "Europe/Brussels").previous().label == "2026-W53"
    assert parse_week("2026-W01", "UTC").monday.isoformat() == "2025-12-29"


def test_last_full_week_follows_the_site_clock():
    # Monday 00:30 in Brussels is still Sunday 23:30 UTC: the last full week there is the one just ended
    moment = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert last_full_week(moment, "Europe/Brussels").label == "2026-W47"
    assert last_full_week(moment, "UTC").label == "2026-W46"


@pytest.mark.parametrize("text", ["2026-47", "2026-W54", "W47", "2025-W53"])
def test_bad_weeks_are_refused(text):
    with pytest.raises(ValueError, match=text):
        parse_week(text, "UTC")
