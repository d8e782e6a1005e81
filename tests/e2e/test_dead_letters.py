"""Issue 10, findings 6, 7 and 8: what a dead letter keeps, and that every rejection is seen.

Real gateway and ingestor processes, real Mosquitto, ActiveMQ and Elasticsearch.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from finemeca import naming
from finemeca.config import StompSettings
from ingestor.dlq import redrive
from tests.e2e.helpers import (
    all_docs,
    dead_letter_records,
    publish,
    wait_for_count,
    wait_for_dead_letters,
)

pytestmark = pytest.mark.e2e
SENSOR = "devicev01"
GOOD: dict[str, Any] = json.loads(Path("sensors/devicev01/sample.json").read_text())


def _records(es_client, prefix: str, stage: str, expected: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    found = [r for r in dead_letter_records(es_client, prefix) if r["stage"] == stage]
    while len(found) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        found = [r for r in dead_letter_records(es_client, prefix) if r["stage"] == stage]
    return found


def test_oversized_message_kept_whole_and_redriven_verbatim(start_pipeline, prefix):
    """Finding 6: the DLQ kept 64 KB only and a re-drive dropped `dlq_truncated_from`."""
    start_pipeline([SENSOR], GATEWAY_DEAD_LETTER_MAX_BYTES="200000")
    big = json.dumps({**GOOD, "Padding": "x" * 150_000}).encode()  # > 64 KB: refused, kept whole
    huge = json.dumps({**GOOD, "Padding": "y" * 300_000}).encode()  # > the dead-letter maximum
    publish(prefix, SENSOR, [big, huge])

    letters = {len(d.body): d for d in wait_for_dead_letters(prefix, SENSOR, 2)}
    assert set(letters) == {len(big), 200_000}
    assert letters[len(big)].body == big and "dlq_truncated_from" not in letters[len(big)].headers
    assert letters[200_000].body == huge[:200_000]
    assert letters[200_000].headers["dlq_truncated_from"] == str(len(huge))
    topic = letters[len(big)].headers["mqtt-topic"]

    assert redrive(SENSOR, StompSettings(queue_prefix=prefix), stage="gateway") == 2
    deadline = time.monotonic() + 30
    again = wait_for_dead_letters(prefix, SENSOR, 2)
    while {d.stage for d in again} != {"validate", "parse"} and time.monotonic() < deadline:
        time.sleep(0.5)
        again = wait_for_dead_letters(prefix, SENSOR, 2)
    by_stage = {d.stage: d for d in again}
    assert set(by_stage) == {"validate", "parse"}, [(d.stage, d.reason) for d in again]
    replayed = by_stage["validate"]  # the original bytes reached the ingestor: Padding is unknown
    assert replayed.body == big and "Padding" in replayed.reason
    assert replayed.headers["mqtt-topic"] == topic and replayed.headers["redriven_from_stage"] == "gateway"
    truncated = by_stage["parse"]  # the truncated copy says so instead of a confusing JSON error
    assert truncated.headers["dlq_truncated_from"] == str(len(huge))
    assert "truncated copy" in truncated.reason and str(len(huge)) in truncated.reason


def test_same_identity_different_content_is_dead_lettered(start_pipeline, prefix, es_client):
    """Finding 7: a second message with the same Time + msgCount but another value vanished."""
    pipeline = start_pipeline([SENSOR])
    first = {**GOOD, "msgCount": 500, "Temp": 14.5}
    publish(prefix, SENSOR, [first])
    alias = naming.data_index_alias(SENSOR, prefix)
    assert wait_for_count(es_client, alias, 1) == 1
    publish(prefix, SENSOR, [first, {**first, "Temp": 21.0}])  # a plain redelivery, then a conflict

    [letter] = wait_for_dead_letters(prefix, SENSOR, 1)
    assert letter.stage == "conflict"
    assert "temperature: stored 14.5, this message 21.0" in letter.reason, letter.reason
    assert json.loads(letter.body)["Temp"] == 21.0
    [record] = _records(es_client, prefix, "conflict", 1)
    assert record["device_key"] == "170-100" and "temperature" in record["reason"]
    assert [doc["temperature"] for doc in all_docs(es_client, alias)] == [14.5]
    ingestor = pipeline.get("ingestor", SENSOR)
    state = ingestor.health()
    assert state is not None and state["duplicates"] == 1 and state["conflicts"] == 1, state
    warnings = [
        json.loads(line)
        for line in ingestor.log_path.read_text().splitlines()
        if line.startswith("{") and '"conflict"' in line
    ]
    assert any(w["level"] == "warning" and w["stage"] == "conflict" for w in warnings), warnings


def test_gateway_rejections_are_in_the_deadletters_index(start_pipeline, prefix, es_client):
    """Finding 8: the operations dashboard counts the dead-letters index; gateway refusals were missing."""
    start_pipeline([SENSOR])
    publish(prefix, SENSOR, [b"not json at all", b"[1, 2]", {**GOOD, "msgCount": 77}])
    assert wait_for_count(es_client, naming.data_index_alias(SENSOR, prefix), 1) == 1
    records = _records(es_client, prefix, "gateway", 2)
    assert sorted(r["body_preview"] for r in records) == ["[1, 2]", "not json at all"]
    assert all(r["sensor"] == SENSOR and r["reason"] for r in records)
    assert len(wait_for_dead_letters(prefix, SENSOR, 2)) == 2  # the DLQ copies are still there
