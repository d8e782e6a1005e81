"""The figures of one customer's weekly report, from Elasticsearch aggregations (no reading pulled whole)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from finemeca import naming
from report.costs import LineModel, ReportConfig, line_model
from report.episodes import LOOKBACK, Episode, air_lines, leak_episodes
from report.settings import ReportSettings
from report.week import Week
from sensors.registry import available_sensors

HEALTH_LOOKBACK = timedelta(days=28)  # a device seen in the 4 weeks before the week end is expected


@dataclass
class LineReport:
    device_key: str
    line: str
    leaks: int
    leak_time: timedelta
    longest: timedelta
    open_at_end: bool
    previous_leaks: int
    previous_leak_time: timedelta
    model: LineModel
    episodes: list[Episode] = field(default_factory=list)

    @property
    def air_lost_m3(self) -> float:
        return self.model.leak_flow_m3_per_min * self.leak_time.total_seconds() / 60

    @property
    def energy_kwh(self) -> float:
        return self.air_lost_m3 * self.model.specific_energy_kwh_per_m3

    @property
    def cost(self) -> float:
        return self.energy_kwh * self.model.energy_price_per_kwh

    @property
    def cost_source(self) -> str:
        measured = self.model.flow_source == self.model.specific_energy_source == "measured"
        return "measured" if measured else "estimated"


@dataclass
class Health:
    devices: int
    silent: list[tuple[str, datetime]]  # (device name, last seen)
    received: int
    expected: int
    dead_letters: dict[str, int]

    @property
    def share_received(self) -> float:
        return min(1.0, self.received / self.expected) if self.expected else 1.0


@dataclass
class WeeklyReport:
    customer: str
    week: Week
    lines: list[LineReport]
    energy_per_day: dict[str, float]  # local day -> kWh measured by the customer's centrale meters
    energy_week_kwh: float
    energy_previous_week_kwh: float
    energy_incomplete_days: int
    health: Health
    chart_line: LineReport | None

    @property
    def total_cost(self) -> float:
        return sum(line.cost for line in self.lines)

    @property
    def total_air_m3(self) -> float:
        return sum(line.air_lost_m3 for line in self.lines)

    @property
    def currency(self) -> str:
        return self.lines[0].model.currency if self.lines else "EUR"


def _overlaps(episode: Episode, start: datetime, end: datetime) -> bool:
    return episode.start < end and (episode.end is None or episode.end > start)


def air_indices(prefix: str, start: datetime, end: datetime) -> str:
    """The daily air indices that can hold [start, end) (UTC days, naming.daily_index): searching them, not
    the alias over a year of indices, keeps each of the episode walk's small searches to a few shards."""
    days, moment = [], start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while moment < end:
        days.append(naming.daily_index("air", moment, prefix))
        moment += timedelta(days=1)
    return ",".join(days)


def line_reports(
    es: Elasticsearch, config: ReportConfig, settings: ReportSettings, customer: str, week: Week
) -> list[LineReport]:
    previous = week.previous()
    index = air_indices(settings.index_prefix, previous.start - LOOKBACK, week.end)
    names = air_lines(es, index, customer, previous.start, week.end)
    found = leak_episodes(es, index, customer, previous.start, week.end, settings.max_episodes_per_line)
    out = []
    for key, name in sorted(names.items(), key=lambda item: item[1]):
        episodes = found.get(key, [])
        this = [e for e in episodes if _overlaps(e, week.start, week.end)]
        before = [e for e in episodes if _overlaps(e, previous.start, previous.end)]
        out.append(
            LineReport(
                device_key=key,
                line=name,
                leaks=len(this),
                leak_time=sum((e.clipped(week.start, week.end) for e in this), timedelta(0)),
                longest=max((e.clipped(week.start, week.end) for e in this), default=timedelta(0)),
                open_at_end=any(e.end is None for e in this),
                previous_leaks=len(before),
                previous_leak_time=sum(
                    (e.clipped(previous.start, previous.end) for e in before), timedelta(0)
                ),
                model=line_model(config, customer, name),
                episodes=this,
            )
        )
    return out


def energy(
    es: Elasticsearch, settings: ReportSettings, customer: str, week: Week
) -> tuple[dict[str, float], float, float, int]:
    """(kWh per local day of the week, week total, previous week total, incomplete days) from centrale-daily."""
    previous = week.previous()
    body = es.search(
        index=naming.extra_index("centrale-daily", settings.index_prefix),
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"customer": customer}},
                    {
                        "range": {
                            "day": {"gte": previous.monday.isoformat(), "lte": week.days()[-1].isoformat()}
                        }
                    },
                ]
            }
        },
        aggs={
            "days": {
                "terms": {"field": "day", "size": 14, "format": "yyyy-MM-dd"},
                "aggs": {
                    "kwh": {"sum": {"field": "consumption_kwh"}},
                    "incomplete": {"filter": {"term": {"complete": False}}},
                },
            }
        },
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    buckets = {b["key_as_string"]: b for b in body.get("aggregations", {}).get("days", {}).get("buckets", [])}
    per_day = {
        d.isoformat(): buckets[d.isoformat()]["kwh"]["value"] if d.isoformat() in buckets else 0.0
        for d in week.days()
    }
    before = sum(buckets[d.isoformat()]["kwh"]["value"] for d in previous.days() if d.isoformat() in buckets)
    incomplete = sum(
        1
        for d in week.days()
        if d.isoformat() in buckets and buckets[d.isoformat()]["incomplete"]["doc_count"]
    )
    return per_day, sum(per_day.values()), before, incomplete


def health(es: Elasticsearch, settings: ReportSettings, customer: str, week: Week) -> Health:
    """Silent devices at week end, share of expected messages received, dead letters by reason."""
    indices = ",".join(naming.data_index_alias(s, settings.index_prefix) for s in available_sensors())
    body = es.search(
        index=indices,
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"customer": customer}},
                    {
                        "range": {
                            "@timestamp": {
                                "gte": (week.end - HEALTH_LOOKBACK).isoformat(),
                                "lt": week.end.isoformat(),
                            }
                        }
                    },
                ]
            }
        },
        aggs={
            "devices": {
                "terms": {"field": "device_key", "size": 65_000},
                "aggs": {
                    "last": {"max": {"field": "@timestamp"}},
                    "sensor": {"terms": {"field": "sensor", "size": 1}},
                    "name": {"terms": {"field": "device_name", "size": 1}},
                    "week": {"filter": {"range": {"@timestamp": {"gte": week.start.isoformat()}}}},
                },
            }
        },
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    seconds = (week.end - week.start).total_seconds()
    silent, received, expected, keys = [], 0, 0, []
    quiet_since = week.end - timedelta(minutes=settings.silent_after_minutes)
    for bucket in body.get("aggregations", {}).get("devices", {}).get("buckets", []):
        keys.append(bucket["key"])
        sensor = bucket["sensor"]["buckets"][0]["key"] if bucket["sensor"]["buckets"] else "air"
        name = bucket["name"]["buckets"][0]["key"] if bucket["name"]["buckets"] else bucket["key"]
        last = datetime.fromisoformat(bucket["last"]["value_as_string"].replace("Z", "+00:00"))
        if last < quiet_since:
            silent.append((name, last))
        received += bucket["week"]["doc_count"]
        expected += round(seconds / settings.expected_interval_s(sensor))
    return Health(len(keys), sorted(silent), received, expected, _dead_letters(es, settings, keys, week))


def _dead_letters(es: Elasticsearch, settings: ReportSettings, keys: list[str], week: Week) -> dict[str, int]:
    """Dead letters of the customer's devices (by device_key) in the week, by reason."""
    if not keys:
        return {}
    body = es.search(
        index=naming.deadletter_index(settings.index_prefix),
        size=0,
        query={
            "bool": {
                "filter": [
                    {"terms": {"device_key": keys}},
                    {"range": {"@timestamp": {"gte": week.start.isoformat(), "lt": week.end.isoformat()}}},
                ]
            }
        },
        aggs={"reasons": {"terms": {"field": "reason.keyword", "size": 10}}},
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    return {
        b["key"]: b["doc_count"] for b in body.get("aggregations", {}).get("reasons", {}).get("buckets", [])
    }


def pressure_series(
    es: Elasticsearch, settings: ReportSettings, customer: str, device_key: str, week: Week
) -> list[tuple[datetime, float | None, float | None]]:
    """(bucket start, mean pressure, mean opening pressure) per 30 minutes of the week, for the chart."""
    body = es.search(
        index=naming.data_index_alias("air", settings.index_prefix),
        size=0,
        query={
            "bool": {
                "filter": [
                    {"term": {"device_key": device_key}},
                    {"term": {"customer": customer}},  # device keys are only unique per customer
                    {"range": {"@timestamp": {"gte": week.start.isoformat(), "lt": week.end.isoformat()}}},
                ]
            }
        },
        aggs={
            "t": {
                "date_histogram": {"field": "@timestamp", "fixed_interval": "30m"},
                "aggs": {"p": {"avg": {"field": "pressure"}}, "o": {"avg": {"field": "opening_pressure"}}},
            }
        },
    )
    out: list[tuple[datetime, float | None, float | None]] = []
    for b in body["aggregations"]["t"]["buckets"]:
        moment = datetime.fromisoformat(b["key_as_string"].replace("Z", "+00:00"))
        out.append((moment, b["p"]["value"], b["o"]["value"]))
    return out


def build_report(
    es: Elasticsearch, config: ReportConfig, settings: ReportSettings, customer: str, week: Week
) -> WeeklyReport:
    lines = line_reports(es, config, settings, customer, week)
    per_day, total, before, incomplete = energy(es, settings, customer, week)
    leaked = [line for line in lines if line.longest > timedelta(0)]
    chart_line = max(leaked, key=lambda line: line.leak_time) if leaked else None  # most leak time
    return WeeklyReport(
        customer=customer,
        week=week,
        lines=lines,
        energy_per_day=per_day,
        energy_week_kwh=total,
        energy_previous_week_kwh=before,
        energy_incomplete_days=incomplete,
        health=health(es, settings, customer, week),
        chart_line=chart_line,
    )
