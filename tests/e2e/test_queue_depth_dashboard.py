"""The real ingestor process samples its queues into Elasticsearch for the operations dashboard (issue 10,
finding 8), beside ingestion: dead letters show as DLQ depth, good messages are still all indexed.

Before: queue depth was only in the ingestor's /metrics; Kibana had nothing to draw.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from finemeca import naming
from finemeca.config import MqttSettings
from tests.e2e.helpers import assert_exactly_once, publish, simulated_stream
from tools.simulate.publisher import MqttPublisher

pytestmark = [pytest.mark.e2e]
SENSOR = "air"
GOOD = 200


def depth_samples(es: Elasticsearch, prefix: str) -> list[dict[str, Any]]:
    index = naming.queue_depth_index_pattern(prefix)
    es.indices.refresh(index=index, allow_no_indices=True)
    hits = es.search(index=index, size=1000, sort=[{"@timestamp": "asc"}], allow_no_indices=True)
    return [hit["_source"] for hit in hits["hits"]["hits"]]


def test_ingestor_writes_queue_and_dlq_depth_while_it_ingests(start_pipeline, prefix, es_client):
    start_pipeline([SENSOR], INGESTOR_QUEUE_DEPTH_SAMPLE_S="1")
    publish(prefix, SENSOR, [b"not json", b"{}", b"[1, 2]"])  # three dead letters
    stream = simulated_stream(prefix, SENSOR, GOOD, seed=5)
    with MqttPublisher(MqttSettings(topic_prefix=prefix)) as publisher:
        publisher.publish_all(stream.items)
        assert publisher.wait_for_acks(60), publisher.stats.errors
    assert_exactly_once(es_client, naming.data_index_alias(SENSOR, prefix), stream.ids)

    def settled(samples: list[dict[str, Any]]) -> bool:
        data = [d for d in samples if d["kind"] == "data"]
        dlq = [d for d in samples if d["kind"] == "dlq"]
        return bool(data and dlq) and data[-1]["depth"] == 0 and dlq[-1]["depth"] == 3

    deadline, samples = time.monotonic() + 30, depth_samples(es_client, prefix)
    while time.monotonic() < deadline and not settled(samples):
        time.sleep(0.5)
        samples = depth_samples(es_client, prefix)
    assert settled(samples), samples  # the three dead letters wait in the DLQ, the data queue is drained
    assert {(d["kind"], d["queue"]) for d in samples} == {
        ("data", f"{prefix}.{SENSOR}.data"),
        ("dlq", f"DLQ.{prefix}.{SENSOR}.data"),
    }
    data = [d for d in samples if d["kind"] == "data"]
    assert data[-1]["consumers"] >= 1 and {d["sensor"] for d in samples} == {SENSOR}
