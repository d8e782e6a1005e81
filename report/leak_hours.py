"""Measured electricity of a line's `centrale` meter in its leak hours against comparable hours without a leak.

Definitions (report/README.md):
- hours are the site's clock hours of the reported week; the meter's consumption in an hour is the mean of
  its power readings in that hour (kW = kWh per hour), from one `date_histogram` aggregation per meter;
- a leak hour of a line: an hour the line leaked from start to end (hours it leaked in part count on
  neither side);
- a comparable hour: an hour of the same week in which no line mapped to the same meter leaked at all, at
  the same clock hour and on the same kind of day (Monday-Friday or Saturday-Sunday) as the leak hour;
- each leak hour is set against the mean of its comparable hours; leak hours without any are left out
  (counted as unmatched). Both sides are averaged over the matched leak hours, so the difference is the
  mean extra kWh per leak hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch

from finemeca import naming
from report.episodes import Episode
from report.week import Week

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class LeakHours:
    line: str
    meter: str
    leak_hours: int  # full leak hours with a comparable hour (the ones compared)
    unmatched_hours: int  # full leak hours with a meter reading but no comparable hour
    comparable_hours: int  # distinct hours used as comparison
    leak_kwh_per_h: float | None
    comparable_kwh_per_h: float | None

    @property
    def difference_kwh_per_h(self) -> float | None:
        if self.leak_kwh_per_h is None or self.comparable_kwh_per_h is None:
            return None
        return self.leak_kwh_per_h - self.comparable_kwh_per_h


def meter_hours(
    es: Elasticsearch, prefix: str, customer: str, meter: str, week: Week
) -> dict[datetime, float]:
    """Start of each local clock hour of the week (UTC) -> mean power of the meter in it (kWh per hour)."""
    body = es.search(
        index=naming.data_index_alias("centrale", prefix),
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"customer": customer}},
                    {"term": {"device_name": meter}},
                    {"range": {"@timestamp": {"gte": week.start.isoformat(), "lt": week.end.isoformat()}}},
                ]
            }
        },
        aggs={
            "hours": {
                "date_histogram": {
                    "field": "@timestamp",
                    "calendar_interval": "1h",
                    "time_zone": week.timezone,
                    "min_doc_count": 1,
                },
                "aggs": {"kw": {"avg": {"field": "power_kw"}}},
            }
        },
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    buckets = body.get("aggregations", {}).get("hours", {}).get("buckets", [])
    return {
        datetime.fromtimestamp(b["key"] / 1000, tz=UTC): b["kw"]["value"]
        for b in buckets
        if b["kw"]["value"] is not None
    }


def _leak_seconds(episodes: Iterable[Episode], hour: datetime) -> float:
    return sum(e.clipped(hour, hour + HOUR).total_seconds() for e in episodes)


def compare(
    line: str,
    meter: str,
    own: list[Episode],
    same_meter: list[Episode],
    hours: dict[datetime, float],
    timezone: str,
) -> LeakHours:
    """`own`: the line's episodes; `same_meter`: those of every line mapped to the meter (own included)."""
    zone = ZoneInfo(timezone)

    def slot(hour: datetime) -> tuple[bool, int]:
        local = hour.astimezone(zone)
        return local.weekday() >= 5, local.hour

    quiet: dict[tuple[bool, int], list[float]] = defaultdict(list)
    for hour, kwh in hours.items():
        if _leak_seconds(same_meter, hour) == 0:
            quiet[slot(hour)].append(kwh)
    leaking = [hour for hour in sorted(hours) if _leak_seconds(own, hour) >= HOUR.total_seconds()]
    matched = [hour for hour in leaking if quiet.get(slot(hour))]
    used = {slot(hour) for hour in matched}
    return LeakHours(
        line=line,
        meter=meter,
        leak_hours=len(matched),
        unmatched_hours=len(leaking) - len(matched),
        comparable_hours=sum(len(quiet[s]) for s in used),
        leak_kwh_per_h=fmean(hours[h] for h in matched) if matched else None,
        comparable_kwh_per_h=fmean(fmean(quiet[slot(h)]) for h in matched) if matched else None,
    )
