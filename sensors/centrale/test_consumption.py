"""Daily consumption, pure logic (the Elasticsearch path: tests/integration/test_centrale_daily.py)."""

from __future__ import annotations

import random
from datetime import date
from zoneinfo import ZoneInfo

from sensors.centrale import PLUGIN
from sensors.centrale.consumption import (
    Reading,
    daily_consumption,
    day_start_utc,
    touched_device_days,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = date(2022, 4, 19)


def test_min_max_difference_independent_of_order_and_redelivery():
    readings = [Reading("30-100", DAY, 100.0 + i, f"id-{i}") for i in range(10)]
    shuffled = readings + readings[:4]  # four redelivered
    random.Random(1).shuffle(shuffled)
    expected = {("30-100", DAY): daily_consumption(readings)[("30-100", DAY)]}
    assert daily_consumption(shuffled) == expected
    assert expected[("30-100", DAY)] == {
        "first_index_kwh": 100.0,
        "last_index_kwh": 109.0,
        "consumption_kwh": 9.0,
        "readings": 10,
    }


def test_devices_and_days_are_separate():
    result = daily_consumption(
        [
            Reading("a", DAY, 1.0),
            Reading("a", DAY, 4.0),
            Reading("b", DAY, 7.0),
            Reading("a", date(2022, 4, 20), 9.0),
        ]
    )
    assert result[("a", DAY)]["consumption_kwh"] == 3.0
    assert result[("b", DAY)]["consumption_kwh"] == 0.0
    assert result[("a", date(2022, 4, 20))]["readings"] == 1


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
