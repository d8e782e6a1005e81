"""The ingestor's prepare step (pure): messages -> bulk-ready documents or dead-letter verdicts.

Runs with the real `air` plugin: the plugin is the component under the engine, not something to mock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from finemeca import naming
from ingestor.prepare import Incoming, prepare
from sensors.air import AirSensor
from sensors.registry import get_sensor

AIR = get_sensor("air")
BRUSSELS = ZoneInfo("Europe/Brussels")
SAMPLE: dict[str, Any] = json.loads((AIR.folder / "sample.json").read_text())


def _incoming(body: bytes | dict[str, Any], headers: dict[str, Any] | None = None, n: int = 1) -> Incoming:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return Incoming(ack_id=f"ack-{n}", generation=1, body=raw, headers=headers or {})


def test_a_valid_message_becomes_a_document_in_its_daily_index() -> None:
    received_ms = 1_650_239_681_000
    batch = prepare([_incoming(SAMPLE, {naming.HEADER_RECEIVED_AT: str(received_ms)})], AIR, BRUSSELS, "acme")
    assert batch.rejected == []
    [ready] = batch.ready
    # Time 2022-04-17 23:54:41 in Brussels (CEST, UTC+2) is 21:54:41 UTC, still the 17th
    assert ready.index == "acme-air-data-2022.04.17"
    assert ready.doc_id == AIR.document_id(AIR.parse(SAMPLE))
    assert ready.document["@timestamp"] == "2022-04-17T21:54:41Z"
    assert ready.document["received_at"] == datetime.fromtimestamp(received_ms / 1000, UTC).isoformat()
    assert "ingested_at" in ready.document
    ingested_ms = datetime.fromisoformat(ready.document["ingested_at"]).timestamp() * 1000
    assert ready.document["ingest_lag_ms"] == pytest.approx(ingested_ms - received_ms, abs=1)


def test_the_configured_zone_is_handed_to_the_plugin() -> None:
    [ready] = prepare([_incoming(SAMPLE)], AIR, ZoneInfo("UTC")).ready
    assert ready.document["@timestamp"] == "2022-04-17T23:54:41Z"


@pytest.mark.parametrize(
    ("body", "stage", "reason"),
    [
        (b"not json", "parse", "not a JSON object"),
        (b"[1]", "parse", "payload must be a JSON object, got list"),
        (b"\xff", "parse", "not a JSON object"),
        ({**SAMPLE, "Pres-U": "atm"}, "validate", "unknown pressure unit 'atm'"),
        ({k: v for k, v in SAMPLE.items() if k != "Time"}, "validate", "Time: Field required"),
        ({**SAMPLE, "Vibration": 3.2}, "validate", "unknown field(s) Vibration not in the air contract"),
    ],
)
def test_bad_messages_are_rejected_with_stage_and_reason(body: Any, stage: str, reason: str) -> None:
    batch = prepare([_incoming(body)], AIR, BRUSSELS)
    assert batch.ready == []
    [rejected] = batch.rejected
    assert (rejected.stage, reason in rejected.reason) == (stage, True), rejected.reason


def test_validation_rejections_carry_the_device_key() -> None:
    [rejected] = prepare([_incoming({**SAMPLE, "Pres-U": "atm"})], AIR, BRUSSELS).rejected
    assert rejected.device_key == "10-102"


def test_unknown_fields_are_dropped_when_the_engine_says_ignore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSOR_UNKNOWN_FIELDS", "reject")  # the plugin must not read it any more
    batch = prepare([_incoming({**SAMPLE, "Vibration": 3.2})], AIR, BRUSSELS, unknown_fields="ignore")
    assert batch.rejected == []
    assert "Vibration" not in batch.ready[0].document


class _BrokenTransform(AirSensor):
    def to_document(
        self, payload: BaseModel, tz: ZoneInfo, received_at: datetime | None = None
    ) -> dict[str, Any]:
        raise KeyError("pressure")


def test_a_transform_bug_is_dead_lettered_and_the_batch_goes_on() -> None:
    batch = prepare([_incoming(SAMPLE, n=1), _incoming(b"{", n=2)], _BrokenTransform(), BRUSSELS)
    assert batch.ready == []
    assert [(r.incoming.ack_id, r.stage) for r in batch.rejected] == [
        ("ack-1", "transform"),
        ("ack-2", "parse"),
    ]
    assert batch.rejected[0].reason == "KeyError: 'pressure'"


def test_every_message_gets_exactly_one_verdict_in_order() -> None:
    bodies: list[Any] = [SAMPLE, b"x", {**SAMPLE, "idDevice": 7}, {**SAMPLE, "Pres": "oops"}]
    batch = prepare([_incoming(b, n=i) for i, b in enumerate(bodies)], AIR, BRUSSELS)
    assert [p.incoming.ack_id for p in batch.ready] == ["ack-0", "ack-2"]
    assert [r.incoming.ack_id for r in batch.rejected] == ["ack-1", "ack-3"]
