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
from dataclasses import dataclass
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
NEAR = timedelta(hours=6)  # first search: the day and this much around it; further only where needed
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


@dataclass
class Boundary:
    """What decides one device's day: the last reading before it, the first and last inside it (with
    the day's lowest/highest index and count) and the first after it (sources with `@timestamp`)."""

    before: dict[str, Any] | None = None
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    low: float | None = None
    high: float | None = None
    count: int = 0


def _hit(order: str, fields: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "top_hits": {
            "size": 1,
            "sort": [{"@timestamp": {"order": order}}],
            "_source": ["@timestamp", INDEX_FIELD, *fields],
        }
    }


def _readings_of(device_keys: list[str], gte: datetime, lt: datetime) -> dict[str, Any]:
    return {
        "bool": {
            "filter": [
                {"terms": {"device_key": device_keys}},
                {"exists": {"field": INDEX_FIELD}},
                {"range": {"@timestamp": {"gte": iso_utc(gte), "lt": iso_utc(lt)}}},
            ]
        }
    }


def boundary_query(device_keys: list[str], start: datetime, end: datetime) -> dict[str, Any]:
    """One search for the day and `NEAR` around it; `neighbour_query` looks further for the devices
    that had no reading that close (a search over a short range stays cheap at any reading rate)."""
    return {
        "size": 0,
        "query": _readings_of(device_keys, start - NEAR, end + NEAR),
        "aggs": {
            "devices": {
                "terms": {"field": "device_key", "size": max(len(device_keys), 1)},
                "aggs": {
                    "before": {
                        "filter": {"range": {"@timestamp": {"lt": iso_utc(start)}}},
                        "aggs": {"hit": _hit("desc", IDENTITY)},
                    },
                    "inside": {
                        "filter": {"range": {"@timestamp": {"gte": iso_utc(start), "lt": iso_utc(end)}}},
                        "aggs": {
                            "first": _hit("asc"),
                            "last": _hit("desc", IDENTITY),
                            "low": {"min": {"field": INDEX_FIELD}},
                            "high": {"max": {"field": INDEX_FIELD}},
                        },
                    },
                    "after": {
                        "filter": {"range": {"@timestamp": {"gte": iso_utc(end)}}},
                        "aggs": {"hit": _hit("asc", IDENTITY)},
                    },
                },
            }
        },
    }


def neighbour_query(device_keys: list[str], gte: datetime, lt: datetime, order: str) -> dict[str, Any]:
    """Per device, the latest (`desc`) or earliest (`asc`) reading in [gte, lt)."""
    return {
        "size": 0,
        "query": _readings_of(device_keys, gte, lt),
        "aggs": {
            "devices": {
                "terms": {"field": "device_key", "size": max(len(device_keys), 1)},
                "aggs": {"hit": _hit(order, IDENTITY)},
            }
        },
    }


def _first_source(agg: dict[str, Any]) -> dict[str, Any] | None:
    hits = agg["hits"]["hits"]
    return hits[0]["_source"] if hits else None


def _buckets(response: dict[str, Any]) -> list[dict[str, Any]]:
    return response.get("aggregations", {}).get("devices", {}).get("buckets", [])  # type: ignore[no-any-return]


def boundaries(
    store: DerivedStore, device_keys: list[str], start: datetime, end: datetime
) -> dict[str, Boundary]:
    found = {key: Boundary() for key in device_keys}
    for bucket in _buckets(store.search(boundary_query(device_keys, start, end))):
        inside = bucket["inside"]
        found[bucket["key"]] = Boundary(
            before=_first_source(bucket["before"]["hit"]),
            first=_first_source(inside["first"]),
            last=_first_source(inside["last"]),
            after=_first_source(bucket["after"]["hit"]),
            low=inside["low"]["value"],
            high=inside["high"]["value"],
            count=int(inside["doc_count"]),
        )
    far_before = sorted(key for key, b in found.items() if b.before is None)
    if far_before:
        query = neighbour_query(far_before, start - BOUNDARY_LOOKBACK, start - NEAR, "desc")
        for bucket in _buckets(store.search(query)):
            found[bucket["key"]].before = _first_source(bucket["hit"])
    far_after = sorted(key for key, b in found.items() if b.after is None)
    if far_after and end + NEAR < datetime.now(UTC):  # (no need to look into the future: today's batches)
        query = neighbour_query(far_after, end + NEAR, end + BOUNDARY_LOOKBACK, "asc")
        for bucket in _buckets(store.search(query)):
            found[bucket["key"]].after = _first_source(bucket["hit"])
    return found


def _point(source: dict[str, Any]) -> Point:
    return Point(parse_time(source["@timestamp"]), float(source[INDEX_FIELD]))


def all_readings(store: DerivedStore, device_key: str, gte: datetime, lte: datetime) -> list[Point]:
    """Every reading of one device in [gte, lte], time order (paged with search_after)."""
    points: list[Point] = []
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {
            "size": PAGE,
            "query": _readings_of(
                [device_key], gte, lte + timedelta(seconds=1)
            ),  # ES dates are ms: make `lte` inclusive
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
    store: DerivedStore, device_key: str, bound: Boundary, day: date, tz: ZoneInfo
) -> DailyConsumption | None:
    """One device's day from its boundary readings; reads every reading of the span only if the index
    dropped somewhere (a reset), since then the four boundary readings are not enough."""
    sources = [s for s in (bound.before, bound.first, bound.last, bound.after) if s is not None]
    if not sources:
        return None
    boundary = [_point(s) for s in sources]
    values = [p.kwh for p in boundary]
    monotonic = values == sorted(values) and (
        bound.low is None
        or bound.high is None
        or (
            (bound.before is None or bound.low >= _point(bound.before).kwh)
            and (bound.last is None or bound.high <= _point(bound.last).kwh)
        )
    )
    if monotonic:
        figures = day_consumption(sorted(set(boundary), key=lambda p: p.at), day, tz)
        if figures is not None:
            figures["readings"] = bound.count
        return figures
    return day_consumption(all_readings(store, device_key, boundary[0].at, boundary[-1].at), day, tz)


def daily_docs(store: DerivedStore, documents: Iterable[Document], tz: ZoneInfo) -> dict[str, Document]:
    """Recompute the days a batch of readings can change, from the stored readings; `{_id: doc}` with
    `_id` `<device_key>-<day>` (written with overwrite: recomputing replaces).

    The readings' own days, then a neighbour day only where the batch holds the reading next to the
    midnight between them (the first or last of its day, or the day had none): one search per batch
    in the common case, whatever the number of meters."""
    written: dict[str, set[datetime]] = {}
    queue: dict[date, dict[str, int]] = {}  # day -> device -> direction (0 own day, -1/+1 neighbour)
    for doc in documents:
        if doc.get(INDEX_FIELD) is None:
            continue
        written.setdefault(doc["device_key"], set()).add(parse_time(str(doc["@timestamp"])))
        queue.setdefault(local_day(doc), {})[doc["device_key"]] = 0
    docs: dict[str, Document] = {}
    done: set[tuple[str, date]] = set()
    while queue:
        day = min(queue)
        todo = {key: way for key, way in queue.pop(day).items() if (key, day) not in done}
        if not todo:
            continue
        start, end = day_bounds(day, tz)
        for key, bound in boundaries(store, sorted(todo), start, end).items():
            done.add((key, day))
            figures = device_day(store, key, bound, day, tz)
            identity = bound.last or bound.after or bound.before or {}
            if figures is not None:
                docs[f"{key}-{day.isoformat()}"] = {
                    "@timestamp": iso_utc(start),
                    "day": day.isoformat(),
                    "timezone": str(tz),
                    "device_key": key,
                    **{k: identity[k] for k in IDENTITY if k in identity},
                    **figures,
                }
            way, mine = todo[key], written.get(key, set())
            edge_first = bound.first is None or parse_time(bound.first["@timestamp"]) in mine
            edge_last = bound.last is None or parse_time(bound.last["@timestamp"]) in mine
            if way <= 0 and edge_first and bound.before is not None:
                queue.setdefault(day - timedelta(days=1), {}).setdefault(key, -1)
            if way >= 0 and edge_last and bound.after is not None:
                queue.setdefault(day + timedelta(days=1), {}).setdefault(key, 1)
    return docs


def touched_device_days(documents: Iterable[dict[str, Any]]) -> set[tuple[str, date]]:
    """(device_key, local day) of the documents that carry an energy index (the neighbours a batch
    can change are found by `daily_docs`)."""
    return {(doc["device_key"], local_day(doc)) for doc in documents if doc.get(INDEX_FIELD) is not None}
