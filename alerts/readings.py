"""New readings of a rule, in the order they were indexed: the slice `ingested_at` in [start, end).

Every document has exactly one `ingested_at` (the ingestor's clock), so slices that follow each other
hand every reading to the job exactly once, however late its device time is. Per device the readings
are then ordered by their evaluation time:
- device time (`@timestamp`) normally, so durations are device durations;
- the receive time (`received_at`, else `ingested_at`) when the device clock is ahead of it by more than
  `future_tolerance`: a reading cannot come from the future, and waiting for the clock to catch up would
  delay the alert by the skew.
A reading whose device time is older than `ingested_at - late_horizon` is *past*: it goes to the dated
`occurred` path instead of the live lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan

from alerts.rule_kinds.base import CONTEXT_FIELDS, device_buckets, parse_time

TIME_FIELDS = ["@timestamp", "received_at", "ingested_at"]


@dataclass(frozen=True)
class Reading:
    device_key: str
    doc: dict[str, Any]
    device_time: datetime
    arrived: datetime  # gateway receive time, else ingest time
    ingested: datetime

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Reading:
        device_time = parse_time(doc["@timestamp"])
        ingested = parse_time(doc["ingested_at"]) if doc.get("ingested_at") else device_time
        arrived = parse_time(doc["received_at"]) if doc.get("received_at") else ingested
        return cls(str(doc["device_key"]), doc, device_time, arrived, ingested)

    def evaluation_time(self, future_tolerance: timedelta) -> datetime:
        """Device time, or the receive time when the device clock is ahead by more than the tolerance."""
        return self.arrived if self.device_time - self.arrived > future_tolerance else self.device_time

    def is_past(self, late_horizon: timedelta) -> bool:
        return self.ingested - self.device_time > late_horizon


def ingest_filter(rule: Any, start: datetime, end: datetime) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"range": {"ingested_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}
    ]
    filters += [{"term": {name: value}} for name, value in rule.filter.items()]
    return {"bool": {"filter": filters}}


def candidate_devices(
    es: Elasticsearch,
    index: str,
    query: dict[str, Any],
    bounds: dict[str, Any],
    keep: Any,
    page_size: int,
) -> tuple[list[str], int, int]:
    """Devices with new readings that may matter (`keep(bucket)`), the count of readings skipped because
    their device's bounds prove every one of them healthy, and the count of readings in the slice."""
    devices, skipped, total = [], 0, 0
    for bucket in device_buckets(es, index, query, bounds, page_size):
        total += int(bucket["doc_count"])
        if keep(bucket):
            devices.append(bucket["key"]["device_key"])
        else:
            skipped += int(bucket["doc_count"])
    return devices, skipped, total


def readings_of_devices(
    es: Elasticsearch,
    index: str,
    query: dict[str, Any],
    devices: list[str],
    fields: list[str],
    page_size: int,
) -> Iterator[Reading]:
    """Every reading of the listed devices matching `query` (scroll, sorted by device time)."""
    includes = [*TIME_FIELDS, "device_key", *fields, *CONTEXT_FIELDS]
    for offset in range(0, len(devices), page_size):
        chunk = devices[offset : offset + page_size]
        narrowed = {"bool": {"filter": [query, {"terms": {"device_key": chunk}}]}}
        body = {"query": narrowed, "sort": [{"@timestamp": "asc"}], "_source": {"includes": includes}}
        for hit in scan(
            es,
            index=index,
            query=body,
            size=page_size,
            preserve_order=True,
            ignore_unavailable=True,
            allow_no_indices=True,
        ):
            yield Reading.of(hit["_source"])
