"""Benchmark of one alert cycle: the air-leak rule over N devices (`tools.bench.alerts_cycle.run`, used by `finemeca bench`).

Indexes `devices x readings` air documents into a throw-away index, then times one job cycle (composite
aggregation over the new ingest slice, every new reading of the candidate devices, lifecycle, state
writes, watermark). Events are counted, not sent, so the
figure is the evaluation cost; publishing is one STOMP transaction per window on top.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from alerts.events import AlertEvent
from alerts.job import AlertJob
from alerts.rule_kinds.threshold import ThresholdRule
from alerts.rules import Debounce
from alerts.settings import AlertSettings
from finemeca import naming
from finemeca.es import make_client
from sensors.registry import get_sensor


class CountingPublisher:
    def __init__(self) -> None:
        self.count = 0

    def publish(self, events: list[AlertEvent]) -> None:
        self.count += len(events)

    def close(self) -> None:
        return None


def _documents(index: str, devices: int, readings: int, leak_every: int, start: datetime) -> Any:
    spacing = 120 / readings  # spread over two minutes: the second cycle has fresh data too
    for device in range(devices):
        leaking = device % leak_every == 0
        for n in range(readings):
            yield {
                "_index": index,
                "_source": {
                    "@timestamp": (at := start + timedelta(seconds=n * spacing + device % 7)).isoformat(),
                    "received_at": at.isoformat(),
                    "ingested_at": (at + timedelta(seconds=1)).isoformat(),
                    "sensor": "air",
                    "customer": "bench",
                    "device_key": f"{device // 250}-{device % 250}",
                    "line": f"line-{device}",
                    "msg_count": n,
                    "pressure": 4.0 if leaking else 6.0,
                    "opening_pressure": 5.0,
                },
            }


def run(
    devices: int = 10_000,
    readings: int = 4,
    leak_every: int = 100,
    es: Elasticsearch | None = None,
    cleanup: bool = True,
) -> dict[str, Any]:
    """Index the data, run two cycles (first: new alerts; second: steady state), return the figures."""
    es = es or make_client()
    prefix = f"bench-alerts-{secrets.token_hex(3)}"
    index = naming.data_index_alias("air", prefix)
    es.indices.create(
        index=index,
        mappings=get_sensor("air").index_mappings(),
        settings={"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
    )
    try:
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
        began = time.perf_counter()
        for ok, item in streaming_bulk(
            es, _documents(index, devices, readings, leak_every, start), chunk_size=5000
        ):
            if not ok:
                raise RuntimeError(f"bench indexing failed: {item}")
        es.indices.refresh(index=index)
        index_seconds = time.perf_counter() - began

        settings = AlertSettings(
            no_default_rules=True,
            state_index=naming.alerts_state_index(prefix),
            history_index=naming.alerts_history_index(prefix),
            ingest_slack=timedelta(0),  # the index refreshes by hand (refresh -1 counts as a 30 s margin)
            first_lookback=timedelta(minutes=5),
            catch_up_step=timedelta(minutes=5),
        )
        rule = ThresholdRule(
            name="bench-leak",
            kind="threshold",
            sensor="air",
            index=index,
            field="pressure",
            op="<",
            other_field="opening_pressure",
            debounce=Debounce(readings=1),
        )
        publisher = CountingPublisher()
        job = AlertJob(es, publisher, settings)
        job.ensure_indices()
        figures: dict[str, Any] = {
            "devices": devices,
            "documents": devices * readings,
            "index_seconds": round(index_seconds, 2),
        }
        for label, now in (
            ("first_cycle", start + timedelta(minutes=1, seconds=30)),  # readings indexed in the 1st minute
            ("steady_cycle", start + timedelta(minutes=3)),  # the rest
        ):
            began = time.perf_counter()
            report = job.run_cycle([rule], now)
            if report.errors:
                raise RuntimeError(f"bench cycle failed: {report.errors}")
            figures[f"{label}_seconds"] = round(time.perf_counter() - began, 3)
            figures[f"{label}_devices_read_in_detail"] = report.devices
            figures[f"{label}_events"] = len(report.events)
        return figures
    finally:
        if cleanup:
            es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
