"""Issue 14: the batch envelope (GATEWAY_ENVELOPE=batch, the default) keeps the per-message promises.

A bad item inside an envelope is dead-lettered alone with its own body and the headers it would have had
alone; re-driving it reproduces it; a redelivered envelope makes no duplicates; an unreadable envelope is
dead-lettered whole. Real gateway and ingestor processes, real Mosquitto, ActiveMQ and Elasticsearch.
"""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any

import pytest

from finemeca import envelope, naming
from finemeca.config import StompSettings
from finemeca.stomp_link import StompLink
from ingestor.dlq import redrive
from tests.e2e.helpers import (
    all_ids,
    assert_exactly_once,
    publish,
    simulated_stream,
    wait_for_count,
    wait_for_dead_letters,
)

pytestmark = pytest.mark.e2e
SENSOR = "devicev01"
GOOD: dict[str, Any] = json.loads(Path("sensors/devicev01/sample.json").read_text())


def _browse_data_queue(prefix: str, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
    """The messages waiting in the sensor's data queue (not consumed)."""
    inbox: queue.Queue[Any] = queue.Queue()
    settings = StompSettings(queue_prefix=prefix)
    link = StompLink(settings, client_name="e2e-browse", on_message=lambda f, g: inbox.put(f))
    link.subscribe(naming.data_queue(SENSOR, prefix), "e2e-browse", ack="auto", headers={"browser": "true"})
    link.ensure_connected(give_up_after=15)
    found = []
    try:
        while True:
            frame = inbox.get(timeout=timeout)
            if frame.headers.get("browser") == "end":
                return found
            found.append((dict(frame.headers), frame.body))
    finally:
        link.close()


def _send_to_data_queue(prefix: str, body: bytes, headers: dict[str, str], times: int = 1) -> None:
    link = StompLink(StompSettings(queue_prefix=prefix), client_name="e2e-sender")
    link.ensure_connected(give_up_after=15)
    try:
        for _ in range(times):
            link.send_confirmed(naming.data_queue(SENSOR, prefix), body, headers)
    finally:
        link.close()


def test_bad_item_in_an_envelope_is_dead_lettered_alone_and_redriven(start_pipeline, prefix, es_client):
    goods = [{**GOOD, "msgCount": n} for n in range(1, 10)]
    bad = json.dumps({**GOOD, "msgCount": 99, "Temp": "warm"}).encode()  # strict JSON: passes the gateway
    # the gateway alone first, with a long batch window: the ten messages travel in ONE broker message
    gateway_only = start_pipeline([SENSOR], ingestors=0, GATEWAY_BATCH_TIMEOUT_MS="3000")
    publish(prefix, SENSOR, [*goods[:5], bad, *goods[5:]])
    deadline = time.monotonic() + 30
    waiting = _browse_data_queue(prefix, timeout=3)
    while not waiting and time.monotonic() < deadline:
        waiting = _browse_data_queue(prefix, timeout=3)
    [(headers, body)] = waiting
    assert (
        headers[envelope.ENVELOPE_HEADER] == envelope.ENVELOPE_KIND and headers[envelope.ITEMS_HEADER] == "10"
    )
    assert [item.body for item in envelope.unpack(body)][5] == bad
    gateway_only.stop()

    start_pipeline([SENSOR], gateways=0)
    alias = naming.data_index_alias(SENSOR, prefix)
    assert wait_for_count(es_client, alias, 9) == 9
    [letter] = wait_for_dead_letters(prefix, SENSOR, 1)
    assert letter.body == bad, "the dead letter holds the item's own body, not the envelope"
    assert letter.stage == "validate" and "Temp" in letter.reason
    assert letter.headers["mqtt-topic"] == naming.mqtt_device_topic(SENSOR, 170, 100, prefix)
    assert letter.headers[naming.HEADER_RECEIVED_AT].isdigit()
    assert envelope.ENVELOPE_HEADER not in letter.headers and envelope.ITEMS_HEADER not in letter.headers

    assert redrive(SENSOR, StompSettings(queue_prefix=prefix)) == 1
    deadline = time.monotonic() + 30
    [again] = wait_for_dead_letters(prefix, SENSOR, 1)
    while "redriven_from_stage" not in again.headers and time.monotonic() < deadline:
        time.sleep(0.5)
        [again] = wait_for_dead_letters(prefix, SENSOR, 1)
    assert again.body == bad and again.stage == "validate" and again.reason == letter.reason
    assert again.headers["redriven_from_stage"] == "validate"
    assert again.headers["mqtt-topic"] == letter.headers["mqtt-topic"]
    assert len(all_ids(es_client, alias)) == 9


def test_a_redelivered_envelope_makes_no_duplicates(start_pipeline, prefix, es_client):
    stream = simulated_stream(prefix, SENSOR, 300)
    now = int(time.time() * 1000)
    body, count = envelope.pack((topic, now, payload) for topic, payload in stream.items)
    headers = {
        envelope.ENVELOPE_HEADER: envelope.ENVELOPE_KIND,
        envelope.ITEMS_HEADER: str(count),
        naming.HEADER_SENSOR: SENSOR,
    }
    start_pipeline([SENSOR], gateways=0)
    _send_to_data_queue(prefix, body, headers, times=3)  # what ActiveMQ does after an ingestor crash
    assert_exactly_once(es_client, naming.data_index_alias(SENSOR, prefix), stream.ids)


def test_an_unreadable_envelope_is_dead_lettered_whole(start_pipeline, prefix):
    body, _count = envelope.pack([(naming.mqtt_device_topic(SENSOR, 170, 100, prefix), 1, b"{}")])
    headers = {envelope.ENVELOPE_HEADER: envelope.ENVELOPE_KIND, envelope.ITEMS_HEADER: "2"}
    start_pipeline([SENSOR], gateways=0)
    _send_to_data_queue(prefix, body[:-3], headers)
    [letter] = wait_for_dead_letters(prefix, SENSOR, 1)
    assert letter.stage == "parse" and "unreadable batch envelope" in letter.reason
    assert letter.body == body[:-3]
