"""Watches Elasticsearch while the benchmark runs: when each sampled message becomes searchable,
and the searchable document count over time.

Latency is measured from the publisher handing the message to the MQTT client to the moment a
search (not a realtime GET) finds it, so it includes the index refresh interval. Resolution: `interval`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from elasticsearch import Elasticsearch

from tools.bench.workload import Workload

IDS_PER_SEARCH = 1000


@dataclass
class VisibilityProbe:
    es: Elasticsearch
    index: str
    workload: Workload
    interval: float = 0.05
    count_every: float = 1.0
    sample: bool = True  # False: count only (no latency figures)
    seen_at: dict[str, float] = field(default_factory=dict)  # doc id -> wall time first searchable
    ingested_at: dict[str, float] = field(default_factory=dict)  # doc id -> the ingestor's timestamp
    counts: list[tuple[float, int]] = field(default_factory=list)  # (wall time, searchable docs)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="visibility-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        if self.sample:
            self._check_samples()
        self.count_now()

    def _loop(self) -> None:
        next_count = 0.0
        while not self._stop.wait(self.interval):
            try:
                if self.sample:
                    self._check_samples()
                if time.monotonic() >= next_count:
                    self.count_now()
                    next_count = time.monotonic() + self.count_every
            except Exception:  # a slow/failed probe must not end the run; counted and reported
                self.errors += 1

    def count_now(self) -> int:
        response = self.es.count(index=self.index, ignore_unavailable=True, allow_no_indices=True)
        n = int(response["count"])
        self.counts.append((time.time(), n))
        return n

    def _check_samples(self) -> None:
        pending = [doc_id for doc_id in self.workload.sampled() if doc_id not in self.seen_at]
        for start in range(0, len(pending), IDS_PER_SEARCH):
            chunk = pending[start : start + IDS_PER_SEARCH]
            response = self.es.search(
                index=self.index,
                query={"ids": {"values": chunk}},
                size=len(chunk),
                source_includes=["ingested_at"],
                ignore_unavailable=True,
                allow_no_indices=True,
            )
            now = time.time()
            for hit in response["hits"]["hits"]:
                self.seen_at[hit["_id"]] = now
                stamp = hit["_source"].get("ingested_at")
                if stamp:
                    self.ingested_at[hit["_id"]] = datetime.fromisoformat(stamp).timestamp()

    def latencies(self) -> list[float]:
        """Publish -> searchable, seconds, for every sampled message seen."""
        published = self.workload.sampled()
        return sorted(self.seen_at[i] - published[i] for i in self.seen_at if i in published)

    def ingest_latencies(self) -> list[float]:
        """Publish -> the ingestor's `ingested_at` (before the bulk request and the refresh)."""
        published = self.workload.sampled()
        return sorted(self.ingested_at[i] - published[i] for i in self.ingested_at if i in published)
