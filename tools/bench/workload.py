"""The benchmark's messages: simulated, pre-encoded, with every expected document id known in advance."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sensors.registry import get_sensor
from tools.simulate.publisher import encode

Progress = Callable[[int, int], None]


@dataclass
class Workload:
    """`count` messages for one sensor; `sample_every`-th messages get their publish time recorded."""

    sensor: str
    topic_suffixes: list[str]  # "/<sensor>/<idGateway>/<idDevice>": the prefix is chosen per run
    payloads: list[bytes]
    doc_ids: list[str]
    sample_every: int
    published_at: dict[int, float] = field(default_factory=dict)  # message index -> wall time
    topics: list[str] = field(default_factory=list)

    def retarget(self, topic_prefix: str) -> None:
        """Publish under `topic_prefix` (a private namespace); forgets earlier publish times."""
        self.topics = [topic_prefix + suffix for suffix in self.topic_suffixes]
        self.published_at.clear()

    def __len__(self) -> int:
        return len(self.payloads)

    def stream(self, limit: int | None = None) -> Iterator[tuple[str, bytes]]:
        """(topic, payload) in order; records the wall time of each sampled message as it is handed out."""
        for i in range(min(limit or len(self), len(self))):
            if i % self.sample_every == 0:
                self.published_at[i] = time.time()
            yield self.topics[i], self.payloads[i]

    def sampled(self) -> dict[str, float]:
        """Document id -> publish wall time, for the sampled messages published so far."""
        return {self.doc_ids[i]: t for i, t in list(self.published_at.items())}


def build(
    sensor: str,
    count: int,
    devices: int,
    samples: int = 2000,
    seed: int = 7,
    progress: Progress | None = None,
) -> Workload:
    """Simulate `count` messages over `devices` devices and compute their ids with the plugin itself.

    Call `retarget(prefix)` before publishing."""
    plugin = get_sensor(sensor)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    topics: list[str] = []
    payloads: list[bytes] = []
    doc_ids: list[str] = []
    simulated = itertools.islice(plugin.simulate(devices, seed=seed, start=start), count)
    for n, message in enumerate(simulated, 1):
        ((topic, body),) = encode(sensor, [message], prefix="")
        topics.append(topic)
        payloads.append(body)
        doc_ids.append(plugin.document_id(plugin.parse(message.payload)))
        if progress and n % 10_000 == 0:
            progress(n, count)
    if progress:
        progress(count, count)
    return Workload(sensor, topics, payloads, doc_ids, max(1, count // samples))
