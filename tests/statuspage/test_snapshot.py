"""Pure logic of the status page: state of a line, shaping of the Elasticsearch answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from statuspage.settings import StatusPageSettings
from statuspage.snapshot import air_query, line_state, lines_from, sensors_from

NOW = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("leak", "age", "expected"),
    [(False, 10, "OK"), (True, 10, "LEAK"), (None, 10, "OK"), (True, 301, "STALE"), (False, 301, "STALE")],
)
def test_line_state(leak, age, expected):
    assert line_state(leak, age, stale_after_seconds=300) == expected


def bucket(key: str, age_s: float, **doc):
    ts = (NOW - timedelta(seconds=age_s)).isoformat().replace("+00:00", "Z")
    return {
        "key": key,
        "doc_count": 3,
        "latest": {"hits": {"hits": [{"_source": {"@timestamp": ts, **doc}}]}},
    }


def test_lines_from_sorts_by_line_and_computes_state_and_age():
    response = {
        "aggregations": {
            "lines": {
                "buckets": [
                    bucket("1-2", 5, line="Press B", pressure=4.1, opening_pressure=5.0, leak=True),
                    bucket("1-1", 12, line="press A", pressure=6.2, opening_pressure=5.0, leak=False),
                    bucket("1-3", 900, device_name="Old", pressure=6.0, opening_pressure=5.0, leak=False),
                ]
            }
        }
    }
    rows = lines_from(response, NOW, stale_after_seconds=300)
    assert [(r["line"], r["state"], r["age_seconds"]) for r in rows] == [
        ("Old", "STALE", 900.0),
        ("press A", "OK", 12.0),
        ("Press B", "LEAK", 5.0),
    ]
    assert rows[2]["unit"] == "bar"


def test_lines_sort_numbers_as_numbers():
    names = ["line-10", "line-2", "Line-1", "line-2b", "line-100"]
    response = {
        "aggregations": {
            "lines": {"buckets": [bucket(f"1-{i}", 5, line=n, leak=False) for i, n in enumerate(names)]}
        }
    }
    assert [r["line"] for r in lines_from(response, NOW, 300)] == [
        "Line-1",
        "line-2",
        "line-2b",
        "line-10",
        "line-100",
    ]


def test_lines_from_empty_answer():
    assert lines_from({}, NOW, 300) == []


def test_sensors_from_lists_silent_sensors_too():
    response = {
        "aggregations": {
            "sensors": {
                "buckets": [
                    {
                        "key": "air",
                        "doc_count": 40,
                        "last_minute": {"doc_count": 7},
                        "last_seen": {"value": 1, "value_as_string": "2026-01-10T11:59:50.000Z"},
                    }
                ]
            }
        }
    }
    rows = sensors_from(response, ["air", "centrale"], NOW)
    assert rows == [
        {
            "sensor": "air",
            "last_minute": 7,
            "total": 40,
            "last_seen": "2026-01-10T11:59:50+00:00",
            "age_seconds": 10.0,
        },
        {"sensor": "centrale", "last_minute": 0, "total": 0, "last_seen": None, "age_seconds": None},
    ]


def test_settings_default_air_alias_and_prefix(monkeypatch):
    monkeypatch.setenv("STATUS_PAGE_INDEX_PREFIX", "fmtest")
    settings = StatusPageSettings()
    assert settings.air_index_name() == "fmtest-air-data"
    assert settings.sensor_index("centrale") == "fmtest-centrale-data"
    assert air_query(settings)["aggs"]["lines"]["terms"]["field"] == "device_key"
