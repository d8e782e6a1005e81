"""Mosquitto killed with messages PUBACKed to the gateway's offline session (issue 10, finding 2).

Before: the store was written every 30 s (60 s in deploy), so `kill -9` right after the PUBACKs lost
them all (0 of 5,000 reached Elasticsearch). Now Mosquitto writes its store every N changes
(MOSQUITTO_AUTOSAVE_CHANGES, 1,000 by default): at most those and the last message acknowledged to the publisher (caught in the save after its PUBACK) are lost.
Also: the ingestor's /metrics shows the depth of its data queue and DLQ (finding 8).
"""

from __future__ import annotations

import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from finemeca import naming
from finemeca.config import MqttSettings
from finemeca.queue_stats import QueueStatsClient
from tests.e2e.helpers import all_ids, publish, simulated_stream, wait_for_count
from tools.simulate.publisher import MqttPublisher
from tools.stack import kill_service, start_service
from tools.stack.settings import StackSettings, mosquitto_loss_window

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SENSOR = "air"
MESSAGES = 5_000  # five times the loss window: losing them all cannot pass
# the documented window (RELIABILITY.md): the changes not saved yet + the last PUBACK before a save
BROKER_WINDOW = mosquitto_loss_window(StackSettings().mosquitto_autosave_changes)


def test_kill_9_of_mosquitto_loses_no_pubacked_message(start_pipeline, prefix, es_client):
    stream = simulated_stream(prefix, SENSOR, MESSAGES, seed=41)
    pipeline = start_pipeline([SENSOR])
    gateway = pipeline.get("gateway", SENSOR)
    assert gateway.stop() == 0  # its persistent session stays in Mosquitto, offline
    with MqttPublisher(MqttSettings(topic_prefix=prefix)) as publisher:
        publisher.publish_all(stream.items)
        assert publisher.wait_for_acks(120) and publisher.stats.acked == MESSAGES, publisher.stats.errors
    assert kill_service("mosquitto"), "Mosquitto was not running under `finemeca stack`"
    start_service("mosquitto")
    gateway.start()
    pipeline.wait_healthy(60, procs=[gateway])
    alias = naming.data_index_alias(SENSOR, prefix)
    wait_for_count(es_client, alias, MESSAGES, timeout=90)
    ids = all_ids(es_client, alias)
    assert len(ids) == len(set(ids)) and set(ids) <= stream.ids
    lost = stream.ids - set(ids)
    print(f"PUBACKed {MESSAGES}, lost at kill -9 of Mosquitto: {len(lost)}")
    assert len(lost) <= BROKER_WINDOW, f"{len(lost)} of {MESSAGES} PUBACKed messages lost"


def _metric(port: int, name: str, queue: str) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        for family in text_string_to_metric_families(resp.read().decode()):
            for sample in family.samples:
                if sample.name == name and sample.labels.get("queue") == queue:
                    return float(sample.value)
    return None


def test_ingestor_metrics_show_queue_and_dlq_depth(start_pipeline, prefix, stomp_settings):
    pipeline = start_pipeline([SENSOR], INGESTOR_QUEUE_STATS_INTERVAL_S="1")
    ingestor = pipeline.get("ingestor", SENSOR)
    publish(prefix, SENSOR, [b"not json", b"{}", b"[1, 2]"])
    dlq = naming.dead_letter_queue(SENSOR, prefix).removeprefix("/queue/")
    data = naming.data_queue(SENSOR, prefix).removeprefix("/queue/")
    deadline, shown = time.monotonic() + 30, None
    while time.monotonic() < deadline and shown != 3:
        shown = _metric(ingestor.port, "finemeca_queue_depth", dlq)
        time.sleep(0.5)
    client = QueueStatsClient(stomp_settings.model_copy(update={"queue_prefix": prefix}))
    broker = {s.name: s.depth for s in client.query(dlq, data)}
    client.close()
    assert shown == broker[dlq] == 3, f"/metrics shows {shown}, the broker {broker}"
    assert _metric(ingestor.port, "finemeca_queue_depth", data) == broker.get(data, 0) == 0
