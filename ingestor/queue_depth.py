"""Depth of the sensor's data queue and DLQ, read periodically from ActiveMQ's statistics plugin:
in /metrics (`finemeca_queue_depth`) and, for the operations dashboard, as one document per queue and
sample in the daily queue-depth index (`INGESTOR_QUEUE_DEPTH_SAMPLE_S`).

Best effort on a daemon thread: a broker or Elasticsearch that does not answer is a warning, never a
stop or a delay of ingestion.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from elasticsearch import Elasticsearch, helpers

from finemeca import naming
from finemeca.config import StompSettings
from finemeca.logs import get_logger
from finemeca.queue_stats import QueueStats, QueueStatsClient, depth_document
from ingestor import metrics
from ingestor.indices import ensure_queue_depth_template

log = get_logger(__name__)
KINDS = ("data", "dlq")


class QueueStatsMissingError(RuntimeError):
    """The broker answered without the data queue's statistics (a queue the ingestor consumes)."""


def queue_names(sensor: str, prefix: str) -> dict[str, str]:
    """Kind (`data`, `dlq`) to queue name as the statistics plugin writes it (no /queue/ prefix)."""
    return {
        "data": naming.data_queue(sensor, prefix).removeprefix("/queue/"),
        "dlq": naming.dead_letter_queue(sensor, prefix).removeprefix("/queue/"),
    }


def read_stats(client: QueueStatsClient, sensor: str, prefix: str) -> dict[str, QueueStats]:
    """Statistics per kind. A DLQ the broker does not know yet (nothing dead-lettered so far) is empty;
    a missing data queue is an error (no answer is not a depth of 0)."""
    names = queue_names(sensor, prefix)
    found = {s.name: s for s in client.query(*names.values(), timeout=3.0)}
    if names["data"] not in found:
        raise QueueStatsMissingError(f"ActiveMQ sent no statistics for queue {names['data']}")
    empty = QueueStats(names["dlq"], 0, 0, 0, 0)
    return {"data": found[names["data"]], "dlq": found.get(names["dlq"], empty)}


class QueueDepthSampler:
    """Reads the depths every tick; sets the gauges (`metrics_every` > 0) and writes one document per
    queue once per `sample_every` slot (> 0) into the daily queue-depth index.

    A document's `_id` is its queue and slot, so ingestor replicas of one sensor write one sample per
    slot between them."""

    def __init__(
        self,
        sensor: str,
        stomp: StompSettings,
        es: Elasticsearch | None,
        index_prefix: str,
        metrics_every: float,
        sample_every: float,
        replicas: int | None = None,
    ) -> None:
        self.sensor, self.stomp, self.es, self.index_prefix = sensor, stomp, es, index_prefix
        self.metrics_every = metrics_every
        self.sample_every = sample_every if es is not None else 0.0
        self.replicas = replicas
        self.client: QueueStatsClient | None = None
        self._template_ready = False
        self._last_slot: int | None = None

    @property
    def tick(self) -> float:
        """Seconds between reads; 0 when there is nothing to do."""
        return min((s for s in (self.metrics_every, self.sample_every) if s > 0), default=0.0)

    def sample_once(self, now: float | None = None) -> dict[str, QueueStats]:
        """One read: gauges, and the documents when this slot has none yet. Raises what failed."""
        now = time.time() if now is None else now
        if self.client is None:
            self.client = QueueStatsClient(self.stomp, client_name=f"queue-depth-{self.sensor}")
        stats = read_stats(self.client, self.sensor, self.stomp.queue_prefix)
        if self.metrics_every > 0:
            for one in stats.values():
                metrics.QUEUE_DEPTH.labels(self.sensor, one.name).set(one.depth)
            metrics.QUEUE_DEPTH_AGE.labels(self.sensor).set(now)
        if self.sample_every > 0:
            slot = int(now // self.sample_every)
            if slot != self._last_slot:
                self._write(stats, now, slot)
                self._last_slot = slot
        return stats

    def _write(self, stats: dict[str, QueueStats], now: float, slot: int) -> None:
        assert self.es is not None
        if not self._template_ready:
            ensure_queue_depth_template(self.es, self.index_prefix, self.replicas)
            self._template_ready = True
        at = datetime.fromtimestamp(now, UTC)
        index = naming.queue_depth_index(at, self.index_prefix)
        actions = [
            {
                "_index": index,
                "_id": f"{one.name}@{slot}",
                "_source": depth_document(one, self.sensor, kind, at),
            }
            for kind, one in stats.items()
        ]
        helpers.bulk(self.es, actions)

    def run(self, stop: threading.Event) -> None:
        """Until `stop`: one read per tick, aligned on the clock (slots of replicas coincide)."""
        tick = self.tick
        while not stop.is_set():
            try:
                self.sample_once()
            except Exception as exc:  # broker or Elasticsearch away: the ingestor's own links report it
                log.warning("ingestor.queue_depth_failed", sensor=self.sensor, error=str(exc))
            stop.wait(tick - time.time() % tick)
        if self.client is not None:
            self.client.close()

    def start(self, stop: threading.Event) -> threading.Thread | None:
        """A daemon thread running `run`; None when both intervals are 0."""
        if self.tick <= 0:
            return None
        thread = threading.Thread(
            target=self.run, args=(stop,), name=f"queue-depth-{self.sensor}", daemon=True
        )
        thread.start()
        return thread
