"""Leak hours against comparable hours, pure logic (with Elasticsearch: tests/report/test_weekly.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from report.episodes import Episode
from report.leak_hours import compare, quiet_slots

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # UTC as the site's zone keeps the arithmetic visible
H = timedelta(hours=1)


def hours(kwh_by_offset: dict[int, float]) -> dict[datetime, float]:
    return {MONDAY + n * H: kwh for n, kwh in kwh_by_offset.items()}


def test_partial_hours_count_on_neither_side_and_weekends_compare_with_weekends():
    # Tue 10:00-11:30 leak: 10:00 is a leak hour, 11:00 partial (neither side)
    leak = Episode("k", MONDAY + (24 + 10) * H, MONDAY + (24 + 11.5) * H)
    data = hours({10: 20.0, 24 + 10: 26.0, 24 + 11: 30.0, 48 + 10: 22.0, 5 * 24 + 10: 99.0})
    end = MONDAY + 7 * 24 * H
    result = compare("line-1", "meter", [leak], quiet_slots([leak], data, "UTC", end), data, "UTC", end)
    assert (result.leak_hours, result.unmatched_hours, result.comparable_hours) == (1, 0, 2)
    assert result.comparable_kwh_per_h == pytest.approx(21.0)  # Mon and Wed 10:00, not Sat 10:00 (99)
    assert result.difference_kwh_per_h == pytest.approx(5.0)


def test_another_line_of_the_same_meter_spoils_a_comparable_hour():
    own = Episode("a", MONDAY + 10 * H, MONDAY + 11 * H)
    other = Episode("b", MONDAY + (24 + 10) * H, MONDAY + (24 + 10.25) * H)
    data = hours({10: 30.0, 24 + 10: 20.0})
    end = MONDAY + 7 * 24 * H
    result = compare("line-1", "meter", [own], quiet_slots([own, other], data, "UTC", end), data, "UTC", end)
    assert (result.leak_hours, result.unmatched_hours, result.leak_kwh_per_h) == (0, 1, None)
    assert result.difference_kwh_per_h is None
