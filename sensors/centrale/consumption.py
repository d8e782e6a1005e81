"""Centrale daily consumption: the energy index at the end of the day minus the index at the end of
the day before, per device and LOCAL day.

The day is the site's calendar day (local midnight to local midnight in the configured zone), because
"consumption on Tuesday" means Tuesday in Belgium, including the 23 h and 25 h days of the DST switches.

Readings rarely fall on midnight: the index at midnight is interpolated linearly between the last
reading before it and the first one after it, so the energy used overnight is split between the two
days and the days of a month add up to the meter's own difference. A drop of the index is a meter
reset (replacement, rollover): the new meter counted from 0, so that step adds the new reading.

Equivalently: every pair of consecutive readings contributes its increment, prorated by the part of
its time span inside the day (`consumption_between`). Computed from the readings Elasticsearch holds
(redeliveries collapse onto one `_id`), so message order and redelivery change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, NamedTuple, TypedDict
from zoneinfo import ZoneInfo

from sensors.base import DerivedStore, Document
from sensors.fields import iso_utc

INDEX_FIELD = "energy_index_kwh"
DAILY = "centrale-daily"  # the extra index (key of CentraleSensor.extra_indices)
IDENTITY = ("device_name", "customer", "gateway_id", "device_id")
# How far from a midnight the neighbouring reading is looked for; beyond it (a meter silent for a week)
# the day starts at its first reading / ends at its last one.
BOUNDARY_LOOKBACK = timedelta(days=7)
PAGE = 5000


class Point(NamedTuple):
    at: datetime  # aware UTC
    kwh: float


class DailyConsumption(TypedDict):
    first_index_kwh: float  # index at the start of the day (interpolated at midnight when possible)
    last_index_kwh: float  # index at the end of the day (or the latest reading while the day runs)
    consumption_kwh: float
    readings: int  # readings inside the day
    resets: int  # index drops (meter resets) inside the day's span
    complete: bool  # a reading after the day's end exists: the figure will not change any more


def increment(previous: float, current: float) -> float:
    """Energy between two consecutive readings; a drop is a reset (the new meter counted from 0)."""
    return current - previous if current >= previous else current


def index_at(points: Sequence[Point], moment: datetime) -> float:
    """Index at `moment`: interpolated between the readings around it, else the nearest reading.

    Across a reset the interpolation runs from 0 on the new meter (the index it showed at the reset)."""
    before = [p for p in points if p.at <= moment]
    after = [p for p in points if p.at > moment]
    if not before:
        return after[0].kwh
    if not after:
        return before[-1].kwh
    p, q = before[-1], after[0]
    span = (q.at - p.at).total_seconds()
    share = (moment - p.at).total_seconds() / span
    if q.kwh >= p.kwh:
        return p.kwh + (q.kwh - p.kwh) * share
    return q.kwh * share  # reset in between: the new meter, from 0


def consumption_between(points: Sequence[Point], start: datetime, end: datetime) -> float:
    """Energy used in [start, end): each step between consecutive readings (time order) adds its
    increment, prorated by the part of its time span inside the interval."""
    total = 0.0
    for p, q in pairwise(points):
        if q.at <= start or p.at >= end:
            continue
        span = (q.at - p.at).total_seconds()
        inside = (min(q.at, end) - max(p.at, start)).total_seconds()
        total += increment(p.kwh, q.kwh) * (inside / span if span > 0 else 1.0)
    return total


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return day_start_utc(day, tz), day_start_utc(day + timedelta(days=1), tz)


def day_consumption(points: Sequence[Point], day: date, tz: ZoneInfo) -> DailyConsumption | None:
    """The day's figures from readings in time order (those around the day included); None when the
    readings say nothing about the day (none inside it, and it is not straddled)."""
    start, end = day_bounds(day, tz)
    inside = [p for p in points if start <= p.at < end]
    straddled = any(p.at < start for p in points) and any(p.at >= end for p in points)
    if not inside and not straddled:
        return None
    span = [p for p in points if p.at < end] + [p for p in points if p.at >= end][:1]
    relevant = [p for p in span if p.at >= start] + [p for p in span if p.at < start][-1:]
    relevant.sort(key=lambda p: p.at)
    return {
        "first_index_kwh": round(index_at(relevant, start), 6),
        "last_index_kwh": round(index_at(relevant, end), 6),
        "consumption_kwh": round(consumption_between(relevant, start, end), 6),
        "readings": len(inside),
        "resets": sum(q.kwh < p.kwh for p, q in pairwise(relevant)),
        "complete": any(p.at >= end for p in points),
    }


def local_day(document: dict[str, Any]) -> date:
    """Site-local day of a centrale document: the date of `local_time` as the device sent it."""
    return date.fromisoformat(str(document["local_time"])[:10])


def day_start_utc(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day` as UTC (midnight always exists in Europe/Brussels; DST switches at 2-3 h)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


# ---- Elasticsearch side (through the engine's DerivedStore) ----------------------------------------


def _hit(size: int, order: str, fields: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "top_hits": {
            "size": size,
            "sort": [{"@timestamp": {"order": order}}],
            "_source": ["@timestamp", INDEX_FIELD, *fields],
        }
    }


def boundary_query(device_keys: list[str], start: datetime, end: datetime) -> dict[str, Any]:
    """Per device: the last reading before the day, the first/last inside (with min/max/count), the
    first after. Four readings decide a day whose index never drops; a drop makes it read everything."""
    around = {"gte": iso_utc(start - BOUNDARY_LOOKBACK), "lt": iso_utc(end + BOUNDARY_LOOKBACK)}
    return {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    {"terms": {"device_key": device_keys}},
                    {"exists": {"field": INDEX_FIELD}},
                    {"range": {"@timestamp": around}},
                ]
            }
        },
        "aggs": {
            "devices": {
                "terms": {"field": "device_key", "size": max(len(device_keys), 1)},
                "aggs": {
                    "before": {
                        "filter": {"range": {"@timestamp": {"lt": iso_utc(start)}}},
                        "aggs": {"hit": _hit(1, "desc", IDENTITY)},
                    },
                    "inside": {
                        "filter": {"range": {"@timestamp": {"gte": iso_utc(start), "lt": iso_utc(end)}}},
                        "aggs": {
                            "first": _hit(1, "asc"),
                            "last": _hit(1, "desc", IDENTITY),
                            "low": {"min": {"field": INDEX_FIELD}},
                            "high": {"max": {"field": INDEX_FIELD}},
                        },
                    },
                    "after": {
                        "filter": {"range": {"@timestamp": {"gte": iso_utc(end)}}},
                        "aggs": {"hit": _hit(1, "asc", IDENTITY)},
                    },
                },
            }
        },
    }


def _point(source: dict[str, Any]) -> Point:
    return Point(parse_time(source["@timestamp"]), float(source[INDEX_FIELD]))


def _sources(agg: dict[str, Any]) -> list[dict[str, Any]]:
    return [hit["_source"] for hit in agg["hits"]["hits"]]


def all_readings(store: DerivedStore, device_key: str, gte: datetime, lte: datetime) -> list[Point]:
    """Every reading of one device in [gte, lte], time order (paged with search_after)."""
    points: list[Point] = []
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {
            "size": PAGE,
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"device_key": device_key}},
                        {"exists": {"field": INDEX_FIELD}},
                        {"range": {"@timestamp": {"gte": iso_utc(gte), "lte": iso_utc(lte)}}},
                    ]
                }
            },
            "sort": [{"@timestamp": "asc"}, {"msg_count": "asc"}],
            "_source": ["@timestamp", INDEX_FIELD],
        }
        if after is not None:
            body["search_after"] = after
        hits = store.search(body)["hits"]["hits"]
        points += [_point(hit["_source"]) for hit in hits]
        if len(hits) < PAGE:
            return points
        after = hits[-1]["sort"]


def device_day(
    store: DerivedStore, device_key: str, bucket: dict[str, Any], day: date, tz: ZoneInfo
) -> tuple[DailyConsumption | None, dict[str, Any]]:
    """One device's day from its boundary bucket; reads every reading of the span only if the index
    dropped somewhere (a reset), since then the four boundary readings are not enough."""
    before, after = _sources(bucket["before"]["hit"]), _sources(bucket["after"]["hit"])
    inside = bucket["inside"]
    first, last = _sources(inside["first"]), _sources(inside["last"])
    boundary = [_point(s) for s in before + first + last + after]
    values = [p.kwh for p in boundary]
    low, high = inside["low"]["value"], inside["high"]["value"]
    monotonic = values == sorted(values) and (
        low is None or ((not before or low >= values[0]) and high <= _point(last[0]).kwh)
    )
    if monotonic:
        points = sorted(set(boundary), key=lambda p: p.at)
        counted = int(inside["doc_count"])
    else:
        points = all_readings(store, device_key, boundary[0].at, boundary[-1].at)
        counted = -1  # recount from the readings
    figures = day_consumption(points, day, tz)
    if figures is not None and counted >= 0:
        figures["readings"] = counted
    identity = (last or after or before or [{}])[0]
    return figures, {k: identity[k] for k in IDENTITY if k in identity}


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
        start, end = day_bounds(day, tz)
        response = store.search(boundary_query(sorted(keys), start, end))
        for bucket in response.get("aggregations", {}).get("devices", {}).get("buckets", []):
            figures, identity = device_day(store, bucket["key"], bucket, day, tz)
            if figures is None:
                continue
            docs[f"{bucket['key']}-{day.isoformat()}"] = {
                "@timestamp": iso_utc(start),
                "day": day.isoformat(),
                "timezone": str(tz),
                "device_key": bucket["key"],
                **identity,
                **figures,
            }
    return docs


def touched_device_days(documents: Iterable[dict[str, Any]]) -> set[tuple[str, date]]:
    """(device_key, local day) pairs whose figures a batch can change: the readings' own days and the
    days on either side (a reading next to midnight moves the interpolated index there)."""
    days = {(doc["device_key"], local_day(doc)) for doc in documents if doc.get(INDEX_FIELD) is not None}
    return {(key, day + timedelta(days=shift)) for key, day in days for shift in (-1, 0, 1)}
