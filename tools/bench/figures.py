"""Figures of one benchmark run and the small statistics they need (pure logic)."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of an already sorted list; None when empty."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[rank]


def count_at(counts: list[tuple[float, int]], when: float) -> float:
    """Searchable documents at `when`, linearly interpolated over (time, count) samples."""
    if not counts:
        return 0.0
    if when <= counts[0][0]:
        return float(counts[0][1])
    for (t0, c0), (t1, c1) in itertools.pairwise(counts):
        if t0 <= when <= t1:
            return c0 + (c1 - c0) * ((when - t0) / (t1 - t0) if t1 > t0 else 1.0)
    return float(counts[-1][1])


def window_rates(counts: list[tuple[float, int]], start: float, end: float, windows: int) -> list[float]:
    """Indexing rate (docs/s) in `windows` equal slices of [start, end]."""
    if end <= start or windows < 1:
        return []
    step = (end - start) / windows
    edges = [start + i * step for i in range(windows + 1)]
    return [(count_at(counts, b) - count_at(counts, a)) / step for a, b in itertools.pairwise(edges)]


def delivery_span(counts: list[tuple[float, int]]) -> tuple[float, float] | None:
    """(sample before the first increase, first sample at the final count): when documents were arriving."""
    rises = [(t0, t1) for (t0, c0), (t1, c1) in itertools.pairwise(counts) if c1 > c0]
    return (rises[0][0], rises[-1][1]) if rises else None


@dataclass
class Usage:
    cpu_percent: float  # average over the run, % of one core
    cpu_seconds: float
    peak_rss_mib: float


@dataclass
class RunFigures:
    """What one pipeline (ours or the naive baseline) did with one workload."""

    label: str
    target_rate: float
    published: int = 0
    publish_seconds: float = 0.0
    forwarded: int | None = None  # MQTT -> queue, as counted by the forwarder
    indexed: int | None = None  # created by the indexer (duplicates excluded)
    duplicates: int | None = None  # documents the indexer found already there (redeliveries)
    searchable: int = 0  # documents in Elasticsearch at the end
    missing: int = 0  # expected ids absent at the end
    end_to_end_seconds: float = 0.0  # first publish -> last document searchable
    window_rates: list[float] = field(default_factory=list)
    latency_p50: float | None = None
    latency_p99: float | None = None
    latency_max: float | None = None
    ingest_latency_p50: float | None = None
    ingest_latency_p99: float | None = None
    latency_samples: int = 0
    usage: dict[str, Usage] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # per-stage means from the roles' /metrics
    profiles: dict[str, str] = field(default_factory=dict)  # role -> py-spy collapsed stacks file
    notes: list[str] = field(default_factory=list)

    @property
    def publish_rate(self) -> float:
        return self.published / self.publish_seconds if self.publish_seconds > 0 else 0.0

    @property
    def throughput(self) -> float:
        """Documents searchable per second, from the first publish to the last one searchable."""
        return self.searchable / self.end_to_end_seconds if self.end_to_end_seconds > 0 else 0.0

    @property
    def median_window_rate(self) -> float | None:
        return statistics.median(self.window_rates) if self.window_rates else None

    @property
    def loss_percent(self) -> float:
        return 100 * self.missing / self.published if self.published else 0.0
