"""Issue 10, finding 1: one poison message must not stop a sensor (real gateway, ingestor, ActiveMQ, ES).

A msgCount of 2^70 (or ids above 2^63) used to pass validation and then break the bulk body's
serialisation: the worker died with its whole batch, good messages included, and with one worker the
process exited 0. Now such values are refused at validation with the field named, the good messages of
the same batch are indexed, and the ingestor stays alive and healthy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from finemeca import naming
from finemeca.config import MqttSettings
from tests.e2e.helpers import publish, wait_for_count, wait_for_dead_letters
from tools.simulate.publisher import MqttPublisher

pytestmark = pytest.mark.e2e
SENSOR = "devicev01"
GOOD: dict[str, Any] = json.loads(Path("sensors/devicev01/sample.json").read_text())
POISON = {
    "msgCount 2^70": ({"msgCount": 2**70}, "msgCount"),
    "idGateway 2^64": ({"idGateway": 2**64}, "idGateway"),
    "idDevice 2^63": ({"idDevice": 2**63}, "idDevice"),
}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_poisoned_queue_drains(start_pipeline, prefix, es_client, workers):
    pipeline = start_pipeline([SENSOR], INGESTOR_WORKERS=workers, INGESTOR_BATCH_TIMEOUT_MS="1000")
    good = [{**GOOD, "msgCount": 1000 + i} for i in range(12)]
    payloads: list[dict[str, Any]] = []
    for i, (change, _field) in enumerate(POISON.values()):  # poison between good messages, one batch
        payloads += [*good[4 * i : 4 * i + 4], {**GOOD, **change}]
    publish(prefix, SENSOR, payloads)

    alias = naming.data_index_alias(SENSOR, prefix)
    assert wait_for_count(es_client, alias, len(good)) == len(good), "good messages of the batch lost"
    letters = wait_for_dead_letters(prefix, SENSOR, len(POISON))
    assert len(letters) == len(POISON)
    for name, (change, field) in POISON.items():
        [letter] = [d for d in letters if json.loads(d.body)[field] == change[field]]
        assert letter.stage == "validate", name
        assert field in letter.reason and "less than or equal" in letter.reason, letter.reason
    ingestor = pipeline.get("ingestor", SENSOR)
    assert ingestor.alive(), "the ingestor died on a poison message"
    state = ingestor.health()
    assert state is not None and state["ok"] is True and state["dead_lettered"] == len(POISON), state
    assert state["indexed"] == len(good)


def test_a_12kb_topic_does_not_block_the_gateway(start_pipeline, prefix, es_client):
    """ActiveMQ drops a STOMP connection whose header line exceeds 10 KiB: a huge MQTT topic copied into the
    `mqtt-topic` header made the gateway retry its batch forever. It is dead-lettered, its header capped."""
    pipeline = start_pipeline([SENSOR])
    long_topic = naming.mqtt_device_topic(SENSOR, 170, 100, prefix).replace("/170/", "/" + "9" * 12_000 + "/")
    publisher = MqttPublisher(MqttSettings(topic_prefix=prefix))
    publisher.connect()
    publisher.publish(long_topic, json.dumps(GOOD).encode())
    assert publisher.wait_for_acks(30)
    publisher.close()
    good = [{**GOOD, "msgCount": 3000 + i} for i in range(4)]
    publish(prefix, SENSOR, good)

    alias = naming.data_index_alias(SENSOR, prefix)
    assert wait_for_count(es_client, alias, len(good)) == len(good), "the gateway is stuck on the topic"
    [letter] = wait_for_dead_letters(prefix, SENSOR, 1)
    assert letter.stage == "gateway" and "idGateway level" in letter.reason, letter.reason
    assert len(letter.headers["mqtt-topic"]) <= 1000
    assert all(proc.alive() for proc in pipeline.processes)
