"""Queue depths from ActiveMQ's statistics plugin, over STOMP (no JMX, no Jolokia, no web console).

A message sent to `/queue/ActiveMQ.Statistics.Destination.<name>` (wildcards `*` and `>` allowed) makes
the broker answer one map message per matching queue on the reply-to destination; the
`jms-map-json` transformation turns each into JSON. Both broker configs enable `<statisticsBrokerPlugin/>`.
"""

from __future__ import annotations

import json
import queue
import uuid
from dataclasses import dataclass
from typing import Any

from stomp.utils import Frame

from finemeca.config import StompSettings
from finemeca.stomp_link import StompLink

STATISTICS = "/queue/ActiveMQ.Statistics.Destination."


@dataclass(frozen=True)
class QueueStats:
    name: str  # without the /queue/ prefix
    depth: int  # messages waiting (not yet acknowledged)
    enqueued: int
    dequeued: int
    consumers: int


def parse_statistics(body: bytes) -> QueueStats:
    """One statistics map message (jms-map-json: `{"map": {"entry": [...]}}`) to QueueStats."""
    values: dict[str, Any] = {}
    for entry in json.loads(body)["map"]["entry"]:
        key = entry["string"]
        if isinstance(key, list):  # a string value: ["key", "value"]
            values[key[0]] = key[1]
        else:
            values[key] = next(v for k, v in entry.items() if k != "string")
    name = str(values["destinationName"]).split("://", 1)[-1]
    return QueueStats(
        name,
        int(values["size"]),
        int(values["enqueueCount"]),
        int(values["dequeueCount"]),
        int(values["consumerCount"]),
    )


class QueueStatsClient:
    """Asks the broker for the statistics of the queues matching a pattern; keeps one connection."""

    def __init__(self, settings: StompSettings, client_name: str = "queue-stats") -> None:
        self._inbox: queue.Queue[Frame] = queue.Queue()
        self._reply = f"/temp-queue/{client_name}-{uuid.uuid4().hex[:8]}"
        self.link = StompLink(settings, client_name, on_message=lambda frame, _g: self._inbox.put(frame))
        self.link.subscribe(self._reply, "stats", ack="auto", headers={"transformation": "jms-map-json"})

    def query(self, *patterns: str, timeout: float = 5.0, settle: float = 0.3) -> list[QueueStats]:
        """Statistics of every queue matching the patterns (e.g. `finemeca.>`), sorted by name.

        Raises StompUnavailableError when the broker cannot be reached within `timeout`."""
        self.link.ensure_connected(give_up_after=timeout)
        while not self._inbox.empty():  # late answers of an earlier query
            self._inbox.get_nowait()
        for pattern in patterns:
            self.link.send(STATISTICS + pattern, b"", {"reply-to": self._reply, "persistent": "false"})
        found: dict[str, QueueStats] = {}
        wait = timeout
        while True:  # one answer per matching queue, no end marker: stop once they stop coming
            try:
                frame = self._inbox.get(timeout=wait)
            except queue.Empty:
                break
            stats = parse_statistics(
                frame.body if isinstance(frame.body, bytes) else str(frame.body).encode()
            )
            found[stats.name] = stats
            wait = settle
        return sorted(found.values(), key=lambda s: s.name)

    def close(self) -> None:
        self.link.close()
