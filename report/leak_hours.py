"""Measured electricity of a line's `centrale` meter in its leak hours against comparable hours without a leak.

Definitions (report/README.md):
- hours are the site's clock hours of the reported week; the meter's consumption in an hour is the mean of
  its power readings in that hour (kW = kWh per hour), from one aggregation for all the customer's meters;
- a leak hour of a line: an hour the line leaked from start to end (hours it leaked in part count on
  neither side);
- a comparable hour: an hour of the same week in which no line mapped to the same meter leaked at all, at
  the same clock hour and on the same kind of day (Monday-Friday or Saturday-Sunday) as the leak hour;
- each leak hour is set against the mean of its comparable hours; leak hours without any are left out
  (counted as unmatched). Both sides are averaged over the matched leak hours, so the difference is the
  mean extra kWh per leak hour.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
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
    es: Elasticsearch, prefix: str, customer: str, meters: list[str], week: Week
) -> dict[str, dict[datetime, float]]:
    """Per meter: start of each local clock hour of the week (UTC) -> mean power in it (kWh per hour).

    One search for all meters (`terms` on the device name, then an hourly `date_histogram`)."""
    if not meters:
        return {}
    body = es.search(
        index=naming.data_index_alias("centrale", prefix),
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"customer": customer}},
                    {"terms": {"device_name": meters}},
                    {"range": {"@timestamp": {"gte": week.start.isoformat(), "lt": week.end.isoformat()}}},
                ]
            }
        },
        aggs={
            "meters": {
                "terms": {"field": "device_name", "size": len(meters)},
                "aggs": {
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
            }
        },
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    out: dict[str, dict[datetime, float]] = {meter: {} for meter in meters}
    for meter in body.get("aggregations", {}).get("meters", {}).get("buckets", []):
        out[meter["key"]] = {
            datetime.fromtimestamp(b["key"] / 1000, tz=UTC): b["kw"]["value"]
            for b in meter["hours"]["buckets"]
            if b["kw"]["value"] is not None
        }
    return out


Slot = tuple[bool, int]  # (weekend, local clock hour)


def leak_seconds(episodes: Iterable[Episode], hours: list[datetime], end: datetime) -> dict[datetime, float]:
    """Leak seconds per hour start of `hours` (sorted), only the hours the episodes touch (bisect)."""
    out: dict[datetime, float] = defaultdict(float)
    for episode in episodes:
        stop = episode.end or end
        for hour in hours[max(0, bisect_right(hours, episode.start) - 1) : bisect_left(hours, stop)]:
            out[hour] += episode.clipped(hour, hour + HOUR).total_seconds()
    return out


def quiet_slots(
    same_meter: list[Episode], hours: dict[datetime, float], timezone: str, end: datetime
) -> dict[Slot, list[float]]:
    """kWh/h of the hours without any leak on the meter's lines, by slot (computed once per meter)."""
    starts = sorted(hours)
    leaking = leak_seconds(same_meter, starts, end)
    quiet: dict[Slot, list[float]] = defaultdict(list)
    for hour in starts:
        if not leaking.get(hour):
            quiet[slot(hour, timezone)].append(hours[hour])
    return quiet


def slot(hour: datetime, timezone: str) -> Slot:
    local = hour.astimezone(ZoneInfo(timezone))
    return local.weekday() >= 5, local.hour


def compare(
    line: str,
    meter: str,
    own: list[Episode],
    quiet: dict[Slot, list[float]],
    hours: dict[datetime, float],
    timezone: str,
    end: datetime,
) -> LeakHours:
    """The line's full leak hours (`own` episodes) against the quiet hours of its meter (`quiet_slots`)."""
    starts = sorted(hours)
    leaking = [h for h, sec in sorted(leak_seconds(own, starts, end).items()) if sec >= HOUR.total_seconds()]
    matched = [hour for hour in leaking if quiet.get(slot(hour, timezone))]
    used = {slot(hour, timezone) for hour in matched}
    return LeakHours(
        line=line,
        meter=meter,
        leak_hours=len(matched),
        unmatched_hours=len(leaking) - len(matched),
        comparable_hours=sum(len(quiet[s]) for s in used),
        leak_kwh_per_h=fmean(hours[h] for h in matched) if matched else None,
        comparable_kwh_per_h=fmean(fmean(quiet[slot(h, timezone)]) for h in matched) if matched else None,
    )
