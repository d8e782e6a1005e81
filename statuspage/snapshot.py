"""What the page shows, read from Elasticsearch: the latest reading per air line, and rates per sensor.

Two searches per refresh, whatever the number of viewers: a `terms` on `device_key` with a `top_hits`
(latest reading) on the air alias, and a `terms` on `sensor` over the sensor aliases.

Liveness is receive time: "latest" is the last reading *received* (`received_at`, the gateway's clock;
`@timestamp` only for documents without it), and ages count from it. A device clock running ahead can
neither pin a stale reading on the page (a correct later reading replaces it) nor make a feed look alive.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from statuspage.settings import StatusPageSettings

LINE_FIELDS = [
    "@timestamp",
    "received_at",
    "device_key",
    "device_name",
    "line",
    "pressure",
    "opening_pressure",
    "pressure_unit",
    "leak",
]
MAX_LINES = 1000


def line_state(leak: bool | None, age_seconds: float, stale_after_seconds: float) -> str:
    """STALE when the line went silent (its last value may be outdated), else LEAK or OK."""
    if age_seconds > stale_after_seconds:
        return "STALE"
    return "LEAK" if leak else "OK"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def received_since(since: str) -> dict[str, Any]:
    """Received after `since` (date math); documents without `received_at` count by device time."""
    return {
        "bool": {
            "should": [
                {"range": {"received_at": {"gte": since}}},
                {
                    "bool": {
                        "must_not": {"exists": {"field": "received_at"}},
                        "filter": {"range": {"@timestamp": {"gte": since}}},
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


LATEST_FIRST = [
    {"received_at": {"order": "desc", "missing": "_last"}},
    {"@timestamp": {"order": "desc"}},
]


def air_query(settings: StatusPageSettings) -> dict[str, Any]:
    return {
        "size": 0,
        "query": received_since(f"now-{settings.lookback}"),
        "aggs": {
            "lines": {
                "terms": {"field": "device_key", "size": MAX_LINES},
                "aggs": {
                    "latest": {
                        "top_hits": {
                            "size": 1,
                            "sort": LATEST_FIRST,
                            "_source": {"includes": LINE_FIELDS},
                        }
                    }
                },
            }
        },
    }


def sensors_query() -> dict[str, Any]:
    return {
        "size": 0,
        "aggs": {
            "sensors": {
                "terms": {"field": "sensor", "size": 100},
                "aggs": {
                    "last_minute": {"filter": received_since("now-1m")},
                    "last_seen": {"max": {"field": "received_at"}},
                    "last_device_time": {"max": {"field": "@timestamp"}},
                },
            }
        },
    }


def lines_from(response: dict[str, Any], now: datetime, stale_after_seconds: float) -> list[dict[str, Any]]:
    rows = []
    for bucket in response.get("aggregations", {}).get("lines", {}).get("buckets", []):
        hits = bucket["latest"]["hits"]["hits"]
        if not hits:
            continue
        doc = hits[0]["_source"]
        device_time = parse_time(doc["@timestamp"])
        at = parse_time(doc["received_at"]) if doc.get("received_at") else device_time
        age = max(0.0, (now - at).total_seconds())
        rows.append(
            {
                "device_key": bucket["key"],
                "line": doc.get("line") or doc.get("device_name") or bucket["key"],
                "pressure": doc.get("pressure"),
                "opening_pressure": doc.get("opening_pressure"),
                "unit": doc.get("pressure_unit") or "bar",
                "leak": doc.get("leak"),
                "at": at.isoformat(),
                "device_time": device_time.isoformat(),
                "clock_skew_seconds": round((device_time - at).total_seconds(), 1),
                "age_seconds": round(age, 1),
                "state": line_state(doc.get("leak"), age, stale_after_seconds),
            }
        )
    return sorted(rows, key=lambda row: (natural_key(str(row["line"])), row["device_key"]))


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key reading digit runs as numbers: line-2 before line-10, case-insensitive."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text.lower()) if part
    )


def sensors_from(response: dict[str, Any], sensors: list[str], now: datetime) -> list[dict[str, Any]]:
    buckets = {b["key"]: b for b in response.get("aggregations", {}).get("sensors", {}).get("buckets", [])}
    rows = []
    for sensor in sorted(set(sensors) | set(buckets)):
        bucket = buckets.get(sensor)
        last_seen = None
        if bucket:
            last_seen = bucket["last_seen"].get("value_as_string") or bucket["last_device_time"].get(
                "value_as_string"
            )
        at = parse_time(last_seen) if last_seen else None
        rows.append(
            {
                "sensor": sensor,
                "last_minute": bucket["last_minute"]["doc_count"] if bucket else 0,
                "total": bucket["doc_count"] if bucket else 0,
                "last_seen": at.isoformat() if at else None,
                "age_seconds": round(max(0.0, (now - at).total_seconds()), 1) if at else None,
            }
        )
    return rows


def take_snapshot(es: Elasticsearch, settings: StatusPageSettings) -> dict[str, Any]:
    common: dict[str, Any] = {"ignore_unavailable": True, "allow_no_indices": True, "request_cache": False}
    sensors = settings.sensor_names()
    air_body, rates_body = air_query(settings), sensors_query()
    air = es.search(
        index=settings.air_index_name(), size=0, query=air_body["query"], aggs=air_body["aggs"], **common
    )
    indices = ",".join(settings.sensor_index(s) for s in sensors) or settings.air_index_name()
    rates = es.search(index=indices, size=0, aggs=rates_body["aggs"], **common)
    now = datetime.now(UTC)
    lines = lines_from(dict(air), now, settings.stale_after_seconds)
    return {
        "now": now.isoformat(),
        "stale_after_seconds": settings.stale_after_seconds,
        "lines": lines,
        "counts": {state: sum(1 for r in lines if r["state"] == state) for state in ("LEAK", "STALE", "OK")},
        "sensors": sensors_from(dict(rates), sensors, now),
        "error": None,
    }
