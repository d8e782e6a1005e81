"""prepare() (pure): the identity rule, clock skew, the repeated DST hour and the keyword length policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ingestor.prepare import Incoming, prepare
from sensors.registry import get_sensor

AIR = get_sensor("air")
SAMPLE: dict[str, Any] = json.loads(Path("sensors/air/sample.json").read_text())  # 2022-04-17 23:54:41 CEST
BRUSSELS = ZoneInfo("Europe/Brussels")
SAMPLE_UTC = datetime(2022, 4, 17, 21, 54, 41, tzinfo=UTC)


def _incoming(payload: dict[str, Any], topic: str | None = "finemeca/air/10/102", received=None) -> Incoming:
    headers: dict[str, Any] = {}
    if topic is not None:
        headers["mqtt-topic"] = topic
    if received is not None:
        headers["gateway-received-at"] = str(int(received.timestamp() * 1000))
    return Incoming("ack-1", 1, json.dumps(payload).encode(), headers)


def _one(incoming: Incoming, **options: Any):
    batch = prepare([incoming], AIR, BRUSSELS, **options)
    return batch.ready, batch.rejected


def test_topic_and_payload_agree():
    ready, rejected = _one(_incoming(SAMPLE))
    assert len(ready) == 1 and not rejected


def test_topic_and_payload_disagree_and_both_are_in_the_reason():
    ready, (rejected,) = _one(_incoming(SAMPLE, topic="finemeca/air/20/200"))
    assert not ready and rejected.stage == "validate"
    assert (
        "20-200" in rejected.reason
        and "idGateway 10" in rejected.reason
        and "idDevice 102" in rejected.reason
    )


def test_without_a_topic_header_the_payload_is_the_identity():
    ready, rejected = _one(_incoming(SAMPLE, topic=None))
    assert len(ready) == 1 and not rejected


def test_clock_skew_is_device_time_minus_receive_time_and_flagged_beyond_the_tolerance():
    on_time = _incoming(SAMPLE, received=SAMPLE_UTC.replace(second=50))
    slow = _incoming({**SAMPLE, "msgCount": 2}, received=SAMPLE_UTC.replace(hour=22, minute=0))
    ready, _ = _one(on_time, clock_skew_tolerance_s=60)
    assert ready[0].document["clock_skew_s"] == -9.0 and ready[0].document["clock_skewed"] is False
    ready, _ = _one(slow, clock_skew_tolerance_s=60)
    assert ready[0].document["clock_skew_s"] == -360.0 and ready[0].document["clock_skewed"] is True
    assert ready[0].document["@timestamp"] == "2022-04-17T21:54:41Z"  # kept as sent, not corrected


def test_without_a_receive_time_there_is_no_skew():
    ready, _ = _one(_incoming(SAMPLE))
    assert "clock_skew_s" not in ready[0].document and "received_at" not in ready[0].document


def test_second_occurrence_of_the_repeated_hour_keeps_the_id_and_index_of_a_redelivery():
    payload = {**SAMPLE, "Time": "2022-10-30 02:30:00"}
    (first,), _ = _one(_incoming(payload, received=datetime(2022, 10, 30, 0, 30, 2, tzinfo=UTC)))
    (second,), _ = _one(_incoming(payload, received=datetime(2022, 10, 30, 1, 30, 2, tzinfo=UTC)))
    assert first.document["@timestamp"] == "2022-10-30T00:30:00Z"
    assert second.document["@timestamp"] == "2022-10-30T01:30:00Z"
    assert (first.doc_id, first.index) == (second.doc_id, second.index)


def test_a_long_device_name_is_cut_to_its_keyword_limit_and_flagged():
    (ready,), _ = _one(_incoming({**SAMPLE, "Device": "L" * 40_000}))
    assert ready.document["device_name"] == ready.document["line"] == "L" * 256
    assert sorted(ready.document["truncated_fields"]) == ["device_name", "line"]
    assert ready.document["pressure"] == 5.12


def test_a_name_within_the_limit_is_untouched():
    (ready,), _ = _one(_incoming({**SAMPLE, "Device": "L" * 256}))
    assert len(ready.document["device_name"]) == 256 and "truncated_fields" not in ready.document


def test_five_thousand_unknown_fields_give_a_bounded_reason():
    _, (rejected,) = _one(_incoming({**SAMPLE, **{f"x{i:04d}": 1 for i in range(5000)}}))
    assert len(rejected.reason) < 400
    assert "x0000, x0001" in rejected.reason and "… and 4,990 more" in rejected.reason
