"""Weekly report over many lines: index N air lines for D days (bulk helper), time `build_report`.

Each line reads every `interval` minutes and leaks `leaks_per_week` times a week for 1-3 h; one centrale
meter per 10 lines writes its daily documents. The report reads the reported week and the one before
(episodes, per line aggregations) and 4 weeks for data health, so data older than that only adds indices
the range filter skips (see docs/BENCHMARKS.md for the extrapolation to a year).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import parallel_bulk

from finemeca import naming
from finemeca.es import ensure_index, make_client
from report.costs import ReportConfig
from report.data import build_report
from report.settings import ReportSettings
from report.week import last_full_week
from sensors.registry import get_sensor

CUSTOMER = "bench"
ZONE = "Europe/Brussels"


def _air(
    prefix: str, lines: int, start: datetime, days: int, interval: int, leaks_per_week: int
) -> Iterator[dict[str, Any]]:
    steps = days * 24 * 60 // interval
    week_steps = 7 * 24 * 60 // interval
    for line in range(lines):
        # leak windows: evenly spread, line-dependent phase, 1-3 h long
        period = week_steps // leaks_per_week
        length = (60 + (line % 3) * 60) // interval
        for n in range(steps):
            moment = start + timedelta(minutes=n * interval)
            leak = (n + line * 7) % period < length
            yield {
                "_index": naming.daily_index("air", moment, prefix),
                "_id": f"{line}-{n}",
                "_source": {
                    "@timestamp": moment.isoformat(),
                    "sensor": "air",
                    "customer": CUSTOMER,
                    "device_key": f"{line // 250}-{line % 250}",
                    "device_name": f"line-{line}",
                    "line": f"line-{line}",
                    "msg_count": n,
                    "pressure": 5.0 if leak else 6.4,
                    "opening_pressure": 5.9,
                    "leak": leak,
                },
            }


def _history(prefix: str, lines: int, start: datetime, days: int) -> Iterator[dict[str, Any]]:
    """One reading per line and day for `days` days before `start`: a year of daily indices, sparsely."""
    for day in range(days, 0, -1):
        moment = start - timedelta(days=day)
        for line in range(lines):
            yield {
                "_index": naming.daily_index("air", moment, prefix),
                "_id": f"h{line}-{day}",
                "_source": {
                    "@timestamp": moment.isoformat(),
                    "sensor": "air",
                    "customer": CUSTOMER,
                    "device_key": f"{line // 250}-{line % 250}",
                    "line": f"line-{line}",
                    "pressure": 6.4,
                    "opening_pressure": 5.9,
                    "leak": False,
                },
            }


def _daily(prefix: str, meters: int, start: datetime, days: int) -> Iterator[dict[str, Any]]:
    index = naming.extra_index("centrale-daily", prefix)
    for meter in range(meters):
        for day in range(days):
            local = (start + timedelta(days=day)).date()
            yield {
                "_index": index,
                "_id": f"30-{meter}-{local}",
                "_source": {
                    "day": local.isoformat(),
                    "customer": CUSTOMER,
                    "device_key": f"30-{meter}",
                    "consumption_kwh": 240.0,
                    "complete": True,
                },
            }


def run(
    lines: int = 1000,
    days: int = 14,
    interval: int = 15,
    leaks_per_week: int = 3,
    history_days: int = 0,
    es: Elasticsearch | None = None,
    cleanup: bool = True,
) -> dict[str, Any]:
    es = es or make_client()
    prefix = f"bench-report-{secrets.token_hex(3)}"
    week = last_full_week(datetime.now(UTC), ZONE)
    start = week.end - timedelta(days=days)
    template = naming.template_name("air", prefix)
    es.indices.put_index_template(
        name=template,
        index_patterns=[naming.data_index_pattern("air", prefix)],
        template={
            "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
            "mappings": get_sensor("air").index_mappings(),
            "aliases": {naming.data_index_alias("air", prefix): {}},
        },
    )
    ensure_index(
        es,
        naming.extra_index("centrale-daily", prefix),
        get_sensor("centrale").extra_indices()["centrale-daily"],
    )
    try:
        began = time.perf_counter()
        documents = 0
        for stream in (
            _history(prefix, lines, start, history_days),
            _air(prefix, lines, start, days, interval, leaks_per_week),
            _daily(prefix, lines // 10, start, days),
        ):
            for ok, item in parallel_bulk(es, stream, chunk_size=5000, thread_count=2):
                if not ok:
                    raise RuntimeError(f"bench indexing failed: {item}")
                documents += 1
        es.indices.refresh(index=f"{prefix}-*")
        index_seconds = time.perf_counter() - began
        config = ReportConfig.model_validate(
            {"customers": {CUSTOMER: {"recipients": ["bench@example.org"], "timezone": ZONE}}}
        )
        settings = ReportSettings(index_prefix=prefix, air_interval_s=interval * 60)
        timings = []
        report = None
        for _ in range(3):
            began = time.perf_counter()
            report = build_report(es, config, settings, CUSTOMER, week)
            timings.append(time.perf_counter() - began)
        assert report is not None
        return {
            "lines": lines,
            "days": days,
            "interval_min": interval,
            "history_days": history_days,
            "air_indices": len(es.indices.get(index=naming.data_index_pattern("air", prefix))),
            "documents": documents,
            "index_seconds": round(index_seconds, 1),
            "episodes_in_week": sum(line.leaks for line in report.lines),
            "report_seconds_first": round(timings[0], 2),
            "report_seconds_best": round(min(timings), 2),
        }
    finally:
        if cleanup:
            es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
            es.indices.delete_index_template(name=template)
