"""Daily consumption, pure logic (the Elasticsearch path: tests/integration/test_centrale_daily.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sensors.centrale import PLUGIN
from sensors.centrale.consumption import (
    Point,
    consumption_between,
    day_consumption,
    day_start_utc,
    index_at,
    touched_device_days,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = date(2022, 4, 19)  # summer time: local midnight = 22:00 UTC the day before


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=BRUSSELS).astimezone(UTC)


def test_overnight_energy_is_split_at_midnight_so_days_add_up_to_the_meter_difference():
    # 23:00 -> 01:00 straddles midnight: 20 kWh in 2 h, 10 kWh on each side.
    points = [
        Point(at("2022-04-19 08:00"), 1000.0),
        Point(at("2022-04-19 23:00"), 1100.0),
        Point(at("2022-04-20 01:00"), 1120.0),
        Point(at("2022-04-20 22:00"), 1200.0),
    ]
    day19 = day_consumption(points, DAY, BRUSSELS)
    day20 = day_consumption(points, date(2022, 4, 20), BRUSSELS)
    assert day19 is not None and day20 is not None
    assert (day19["first_index_kwh"], day19["last_index_kwh"], day19["consumption_kwh"]) == (
        1000.0,
        1110.0,
        110.0,
    )
    assert (day20["first_index_kwh"], day20["consumption_kwh"]) == (1110.0, 90.0)
    assert day19["complete"] and not day20["complete"]  # the 20th still runs: latest reading so far
    assert day19["consumption_kwh"] + day20["consumption_kwh"] == 1200.0 - 1000.0  # max - min lost 10+10


def test_a_day_without_readings_between_two_readings_gets_its_share():
    points = [Point(at("2022-04-18 12:00"), 0.0), Point(at("2022-04-20 12:00"), 48.0)]
    day = day_consumption(points, DAY, BRUSSELS)
    assert day is not None and day["consumption_kwh"] == 24.0 and day["readings"] == 0
    assert day_consumption(points, date(2022, 4, 25), BRUSSELS) is None


def test_a_meter_reset_counts_the_new_meter_from_zero():
    points = [
        Point(at("2022-04-19 06:00"), 5000.0),
        Point(at("2022-04-19 12:00"), 5030.0),
        Point(at("2022-04-19 13:00"), 2.0),  # replaced meter: counted 2 kWh since the swap
        Point(at("2022-04-19 18:00"), 12.0),
    ]
    day = day_consumption(points, DAY, BRUSSELS)
    assert day is not None
    assert (day["consumption_kwh"], day["resets"], day["last_index_kwh"]) == (42.0, 1, 12.0)


def test_interpolation_is_linear_and_order_does_not_matter():
    points = [Point(at("2022-04-19 00:00") - timedelta(hours=1), 10.0), Point(at("2022-04-19 03:00"), 50.0)]
    assert index_at(points, at("2022-04-19 00:00")) == 20.0
    assert consumption_between(points, at("2022-04-19 00:00"), at("2022-04-20 00:00")) == 30.0


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2022, 3, 27), 23), (date(2022, 10, 30), 25)],  # DST switches: 23 h and 25 h days
)
def test_dst_days_are_local_days(day, hours):
    start = day_start_utc(day, BRUSSELS)
    points = [
        Point(start - timedelta(hours=1), 0.0),
        Point(start + timedelta(hours=hours + 1), float(hours + 2)),
    ]
    figures = day_consumption(points, day, BRUSSELS)
    assert figures is not None and figures["consumption_kwh"] == float(hours)  # 1 kWh per hour


def test_local_day_is_the_site_calendar_day():
    # 00:30 Brussels summer time on the 20th is still the 19th in UTC: it belongs to the 20th.
    doc = PLUGIN.to_document(PLUGIN.parse(_message("2022-04-20 00:30:00", 1, 500.0)), BRUSSELS)
    assert doc["@timestamp"] == "2022-04-19T22:30:00Z"
    assert touched_device_days([doc]) == {("30-100", date(2022, 4, 20))}
    assert day_start_utc(date(2022, 3, 27), BRUSSELS).isoformat() == "2022-03-26T23:00:00+00:00"
    assert day_start_utc(date(2022, 3, 28), BRUSSELS).isoformat() == "2022-03-27T22:00:00+00:00"  # 23 h day


def _message(local_time: str, count: int, index_kwh: float) -> dict[str, object]:
    return {
        "Customer": "finemeca",
        "idGateway": 30,
        "idDevice": 100,
        "Device": "centrale-1",
        "Time": local_time,
        "msgCount": count,
        "Mod": "meter",
        "Index": index_kwh,
        "Index-U": "kWh",
        "Power": 12.0,
        "Power-U": "kW",
    }
