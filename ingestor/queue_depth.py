"""Depth of the sensor's data queue and DLQ in /metrics (`finemeca_queue_depth`), read periodically."""

from __future__ import annotations

import threading
import time

from finemeca import naming
from finemeca.config import StompSettings
from finemeca.logs import get_logger
from finemeca.queue_stats import QueueStatsClient
from ingestor import metrics

log = get_logger(__name__)


def queue_names(sensor: str, prefix: str) -> list[str]:
    """The data queue and its DLQ, as the statistics plugin names them (no /queue/ prefix)."""
    return [
        naming.data_queue(sensor, prefix).removeprefix("/queue/"),
        naming.dead_letter_queue(sensor, prefix).removeprefix("/queue/"),
    ]


def read_depths(client: QueueStatsClient, sensor: str, prefix: str) -> dict[str, int]:
    """Depth per queue; a queue the broker does not know yet (no DLQ so far) is empty."""
    names = queue_names(sensor, prefix)
    found = {s.name: s.depth for s in client.query(*names, timeout=3.0)}
    return {name: found.get(name, 0) for name in names}


def start_queue_depth_poller(
    sensor: str, settings: StompSettings, interval: float, stop: threading.Event
) -> threading.Thread | None:
    """A daemon thread that refreshes the gauges every `interval` seconds until `stop` is set."""
    if interval <= 0:
        return None

    def poll() -> None:
        client = QueueStatsClient(settings, client_name=f"queue-depth-{sensor}")
        while not stop.is_set():
            try:
                for name, depth in read_depths(client, sensor, settings.queue_prefix).items():
                    metrics.QUEUE_DEPTH.labels(sensor, name).set(depth)
                metrics.QUEUE_DEPTH_AGE.labels(sensor).set(time.time())
            except Exception as exc:  # the broker is away: the ingestor's own link reports it too
                log.warning("ingestor.queue_depth_failed", sensor=sensor, error=str(exc))
            stop.wait(interval)
        client.close()

    thread = threading.Thread(target=poll, name=f"queue-depth-{sensor}", daemon=True)
    thread.start()
    return thread
