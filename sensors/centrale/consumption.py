"""Centrale daily consumption: max(energy index) - min(energy index) per device and LOCAL day.

The day is the site's calendar day (the device's wall clock, `local_time`), because "consumption on
Tuesday" means Tuesday in Belgium, including the 23 h and 25 h days of the DST switches. Using
min/max (not first/last by arrival) makes the result independent of message order, and recomputing
it from Elasticsearch (where redelivered messages collapse onto one `_id`) makes it idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypedDict
from zoneinfo import ZoneInfo

from sensors.base import DerivedStore, Document
from sensors.fields import iso_utc

INDEX_FIELD = "energy_index_kwh"
DAILY = "centrale-daily"  # the extra index (key of CentraleSensor.extra_indices)


class Reading(NamedTuple):
    device_key: str
    day: date
    index_kwh: float
    doc_id: str | None = None  # when given, a redelivered reading (same id) counts once


class DailyConsumption(TypedDict):
    first_index_kwh: float
    last_index_kwh: float
    consumption_kwh: float
    readings: int


def local_day(document: dict[str, Any]) -> date:
    """Site-local day of a centrale document: the date of `local_time` as the device sent it."""
    return date.fromisoformat(str(document["local_time"])[:10])


def summary(min_kwh: float, max_kwh: float, readings: int) -> DailyConsumption:
    return {
        "first_index_kwh": min_kwh,
        "last_index_kwh": max_kwh,
        "consumption_kwh": round(max_kwh - min_kwh, 6),
        "readings": readings,
    }


def daily_consumption(readings: Iterable[Reading]) -> dict[tuple[str, date], DailyConsumption]:
    """Pure version: per (device_key, day) the min/max index, their difference and the reading count."""
    seen: set[str] = set()
    bounds: dict[tuple[str, date], tuple[float, float, int]] = {}
    for reading in readings:
        if reading.doc_id is not None:
            if reading.doc_id in seen:
                continue
            seen.add(reading.doc_id)
        key = (reading.device_key, reading.day)
        low, high, count = bounds.get(key, (reading.index_kwh, reading.index_kwh, 0))
        bounds[key] = (min(low, reading.index_kwh), max(high, reading.index_kwh), count + 1)
    return {key: summary(low, high, count) for key, (low, high, count) in bounds.items()}


def day_start_utc(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day` as UTC (midnight always exists in Europe/Brussels; DST switches at 2-3 h)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def aggregation_query(device_keys: list[str], day: date) -> dict[str, Any]:
    """Search body: min/max/count of the index per device for one local day."""
    next_day = day + timedelta(days=1)
    return {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    {"terms": {"device_key": device_keys}},
                    # exact local day on the wall clock as sent (keyword range, zone-independent) ...
                    {"range": {"local_time": {"gte": day.isoformat(), "lt": next_day.isoformat()}}},
                    # ... and a loose UTC window so Elasticsearch can skip the other daily indices
                    {
                        "range": {
                            "@timestamp": {
                                "gte": (day - timedelta(days=1)).isoformat(),
                                "lt": (next_day + timedelta(days=1)).isoformat(),
                            }
                        }
                    },
                ]
            }
        },
        "aggs": {
            "devices": {
                "terms": {"field": "device_key", "size": max(len(device_keys), 1)},
                "aggs": {
                    "min_index": {"min": {"field": INDEX_FIELD}},
                    "max_index": {"max": {"field": INDEX_FIELD}},
                    "readings": {"value_count": {"field": INDEX_FIELD}},
                    "latest": {
                        "top_hits": {
                            "size": 1,
                            "sort": [{"@timestamp": "desc"}],
                            "_source": ["device_name", "customer", "gateway_id", "device_id"],
                        }
                    },
                },
            }
        },
    }


def daily_docs(
    store: DerivedStore, device_days: Iterable[tuple[str, date]], tz: ZoneInfo
) -> dict[str, Document]:
    """Recompute the daily docs of (device_key, day) pairs from the stored readings; `{_id: doc}` with
    `_id` `<device_key>-<day>` (written with overwrite: recomputing replaces)."""
    by_day: dict[date, set[str]] = {}
    for key, day in device_days:
        by_day.setdefault(day, set()).add(key)
    docs: dict[str, Document] = {}
    for day, keys in sorted(by_day.items()):
        response = store.search(aggregation_query(sorted(keys), day))
        for bucket in response["aggregations"]["devices"]["buckets"] if "aggregations" in response else []:
            readings = int(bucket["readings"]["value"])
            if readings == 0:  # only messages without an index that day
                continue
            hits = bucket["latest"]["hits"]["hits"]
            identity = hits[0]["_source"] if hits else {}
            docs[f"{bucket['key']}-{day.isoformat()}"] = {
                "@timestamp": iso_utc(day_start_utc(day, tz)),
                "day": day.isoformat(),
                "timezone": str(tz),
                "device_key": bucket["key"],
                **{
                    k: identity[k]
                    for k in ("device_name", "customer", "gateway_id", "device_id")
                    if k in identity
                },
                **summary(bucket["min_index"]["value"], bucket["max_index"]["value"], readings),
            }
    return docs


def touched_device_days(documents: Iterable[dict[str, Any]]) -> set[tuple[str, date]]:
    """(device_key, local day) pairs of the indexed documents that carry an energy index."""
    return {(doc["device_key"], local_day(doc)) for doc in documents if doc.get(INDEX_FIELD) is not None}
