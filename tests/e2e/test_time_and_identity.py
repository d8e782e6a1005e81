"""Issue 16, ingest side, on the real stack: identity (topic vs payload), strict JSON, clock skew, the
repeated DST hour and bounded sizes. Messages go over MQTT through the gateway and ingestor processes,
except where a chosen receive time is needed: then they are sent to the data queue with the headers the
gateway would have set (`gateway-received-at`), and the same ingestor process handles them."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from finemeca import naming
from finemeca.config import MqttSettings, StompSettings
from finemeca.stomp_link import StompLink
from ingestor.dlq import DeadLetter, browse
from tests.e2e.helpers import all_docs, publish, wait_for_count
from tools.pipeline import RoleProcess
from tools.simulate.publisher import MqttPublisher

pytestmark = pytest.mark.e2e
AIR: dict[str, Any] = json.loads(Path("sensors/air/sample.json").read_text())
BRUSSELS = ZoneInfo("Europe/Brussels")


def _reading(**changes: Any) -> dict[str, Any]:
    return {**AIR, **changes}


def _publish_on(prefix: str, items: list[tuple[str, bytes]]) -> None:
    """Publish raw (topic suffix, body) pairs: topics the `publish` helper would never build."""
    with MqttPublisher(MqttSettings(topic_prefix=prefix)) as publisher:
        for suffix, body in items:
            publisher.publish(f"{prefix}/{suffix}", body)
        assert publisher.wait_for_acks(60), "Mosquitto did not acknowledge every QoS 1 publish"


def _dead_letters(prefix: str, expected: int, timeout: float = 30.0) -> list[DeadLetter]:
    settings = StompSettings(queue_prefix=prefix)
    deadline = time.monotonic() + timeout
    letters = browse("air", settings, limit=1000, idle_timeout=3)
    while len(letters) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        letters = browse("air", settings, limit=1000, idle_timeout=3)
    assert len(letters) == expected, [(d.stage, d.reason) for d in letters]
    return letters


def _metric(proc: RoleProcess, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/metrics", timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_topic_and_payload_ids_must_agree_and_malformed_topics_stop_at_the_gateway(
    start_pipeline, prefix, es_client
):
    """Finding 4: before, the mismatch was indexed as the payload's device and the bad topics accepted."""
    start_pipeline(["air"])
    body = json.dumps(_reading(idGateway=20, idDevice=200, msgCount=1)).encode()
    good = json.dumps(_reading(idGateway=10, idDevice=100, msgCount=2)).encode()
    _publish_on(
        prefix,
        [
            ("air/10/100", body),  # payload says 20-200
            ("air/10/100/x", good),
            ("air/abc/100", good),
            ("air/10", good),
            ("air/10/100", good),  # agrees: indexed
        ],
    )
    alias = naming.data_index_alias("air", prefix)
    assert wait_for_count(es_client, alias, 1) == 1
    assert [d["device_key"] for d in all_docs(es_client, alias)] == ["10-100"]

    letters = _dead_letters(prefix, 4)
    by_topic = {d.headers["mqtt-topic"]: d for d in letters}
    mismatch = by_topic[f"{prefix}/air/10/100"]
    assert mismatch.stage == "validate"
    assert (
        "10-100" in mismatch.reason
        and "idGateway 20" in mismatch.reason
        and "idDevice 200" in mismatch.reason
    )
    for suffix in ("air/10/100/x", "air/abc/100", "air/10"):
        letter = by_topic[f"{prefix}/{suffix}"]
        assert letter.stage == "gateway", (suffix, letter.reason)
        assert f"{prefix}/{suffix}" in letter.reason and "<idGateway>/<idDevice>" in letter.reason


def test_duplicate_keys_are_refused_with_the_key_named_and_a_bom_is_accepted(
    start_pipeline, prefix, es_client
):
    """Finding 5: before, `{"Pres": 6.1, "Pres": 1.0}` stored 1.0 (a false leak) and nothing said so."""
    start_pipeline(["air"])
    fields = ", ".join(f'"{k}": {json.dumps(v)}' for k, v in _reading(msgCount=10).items() if k != "Pres")
    duplicated = ('{"Pres": 6.1, "Pres": 1.0, ' + fields + "}").encode()
    with_bom = b"\xef\xbb\xbf" + json.dumps(_reading(msgCount=11)).encode()
    publish(prefix, "air", [duplicated, with_bom])

    alias = naming.data_index_alias("air", prefix)
    assert wait_for_count(es_client, alias, 1) == 1
    (doc,) = all_docs(es_client, alias)
    assert doc["msg_count"] == 11 and doc["pressure"] == 5.12, "the BOM message is indexed as sent"
    (letter,) = _dead_letters(prefix, 1)
    assert letter.stage == "gateway"
    assert "duplicate key 'Pres'" in letter.reason
    assert letter.body == duplicated


def test_clock_skew_is_measured_for_every_reading_and_flagged_beyond_the_tolerance(
    start_pipeline, prefix, es_client
):
    """Clock skew as a fact: before, no document said how far its device clock was from receive time."""
    pipeline = start_pipeline(["air"], INGESTOR_CLOCK_SKEW_TOLERANCE="60")
    now = datetime.now(BRUSSELS).replace(microsecond=0, tzinfo=None)
    readings = {  # msgCount -> device clock error
        1: timedelta(0),
        2: timedelta(minutes=-2),  # slow clock
        3: timedelta(hours=2),  # clock in the future
    }
    publish(prefix, "air", [_reading(msgCount=n, Time=str(now + error)) for n, error in readings.items()])

    alias = naming.data_index_alias("air", prefix)
    assert wait_for_count(es_client, alias, 3) == 3
    docs = {d["msg_count"]: d for d in all_docs(es_client, alias)}
    for n, error in readings.items():
        skew = docs[n]["clock_skew_s"]
        assert error.total_seconds() - 15 <= skew <= error.total_seconds() + 1, (n, skew)
    assert [docs[n]["clock_skewed"] for n in (1, 2, 3)] == [False, True, True]
    ingestor = pipeline.get("ingestor", "air")
    assert _metric(ingestor, 'finemeca_ingestor_clock_skewed_total{sensor="air"}') == 2


def _send_as_gateway(prefix: str, items: list[tuple[dict[str, Any], datetime]]) -> None:
    """Messages on the data queue exactly as the gateway sends them, with a chosen receive time."""
    link = StompLink(StompSettings(queue_prefix=prefix), client_name=f"{prefix}-as-gateway")
    link.ensure_connected(give_up_after=15)
    try:
        for payload, received in items:
            headers = {
                "persistent": "true",
                "content-type": "application/json",
                "sensor": "air",
                "mqtt-topic": naming.mqtt_device_topic(
                    "air", payload["idGateway"], payload["idDevice"], prefix
                ),
                "gateway-received-at": str(int(received.timestamp() * 1000)),
            }
            link.send_confirmed(naming.data_queue("air", prefix), json.dumps(payload).encode(), headers)
    finally:
        link.close()


def test_the_receive_time_chooses_the_occurrence_of_the_repeated_dst_hour(start_pipeline, prefix, es_client):
    """Finding 6: a device sends every minute from 01:50 summer time to 02:40 of the SECOND 02:00-03:00
    (winter time) on 2022-10-30, zone-less. Before, the second 02:xx hour was mapped onto the first: the
    series folded back on itself. Now every reading lands at its true instant. The spring gap keeps its rule."""
    start_pipeline(["air"])
    start = datetime(2022, 10, 29, 23, 50, tzinfo=UTC)  # 01:50 CEST
    true_times = [start + timedelta(minutes=i) for i in range(111)]  # to 01:40Z = 02:40 CET
    items = []
    for n, moment in enumerate(true_times):
        wall = moment.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")
        items.append((_reading(msgCount=1000 + n, Time=wall), moment + timedelta(seconds=3)))
    # spring gap: 02:30 does not exist on 2022-03-27; the documented rule reads it as 01:30Z, whatever
    # the receive time says
    gap = _reading(msgCount=5000, Time="2022-03-27 02:30:00")
    items.append((gap, datetime(2022, 3, 27, 0, 31, tzinfo=UTC)))
    # a redelivery of the first 02:30 (first occurrence) received an hour later: same id, no second copy
    first_0230 = items[40][0]
    assert first_0230["Time"] == "2022-10-30 02:30:00"
    items.append((first_0230, datetime(2022, 10, 30, 1, 30, 3, tzinfo=UTC)))
    _send_as_gateway(prefix, items)

    alias = naming.data_index_alias("air", prefix)
    assert wait_for_count(es_client, alias, 112) == 112
    time.sleep(2)  # the redelivery must not add a document
    docs = {d["msg_count"]: d for d in all_docs(es_client, alias)}
    assert len(docs) == 112
    stamps = [datetime.fromisoformat(docs[1000 + n]["@timestamp"]) for n in range(111)]
    assert stamps == true_times, "every reading at its true instant, both occurrences of 02:xx included"
    assert stamps[-1] - stamps[0] == timedelta(hours=1, minutes=50)
    assert docs[1040]["@timestamp"] == "2022-10-30T00:30:00Z"  # 02:30 first occurrence (CEST)
    assert docs[1100]["@timestamp"] == "2022-10-30T01:30:00Z"  # 02:30 second occurrence (CET)
    assert docs[1040]["local_time"] == docs[1100]["local_time"] == "2022-10-30 02:30:00"
    assert docs[1040]["_id"] == "air-10-102-20221030T023000-1040"
    assert all(abs(docs[1000 + n]["clock_skew_s"] + 3) < 0.01 for n in range(111))
    assert docs[5000]["@timestamp"] == "2022-03-27T01:30:00Z"


def test_sizes_are_bounded_and_a_long_name_never_costs_a_reading(start_pipeline, prefix, es_client):
    """Finding 7: before, 5,000 unknown keys gave a 34,010-character reason and log line, and a 40 KB
    `Device` name made Elasticsearch refuse the document, so its pressure never reached alerting."""
    pipeline = start_pipeline(["air"])
    long_name = "L" * 40_000
    unknown = _reading(msgCount=21, **{f"x{i:04d}": 1 for i in range(5000)})
    publish(prefix, "air", [_reading(msgCount=20, Device=long_name, Pres=4.0), unknown])

    alias = naming.data_index_alias("air", prefix)
    assert wait_for_count(es_client, alias, 1) == 1
    (doc,) = all_docs(es_client, alias)
    assert doc["pressure"] == 4.0 and doc["leak"] is True
    assert doc["device_name"] == doc["line"] == "L" * 256
    assert sorted(doc["truncated_fields"]) == ["device_name", "line"]

    (letter,) = _dead_letters(prefix, 1)
    assert letter.stage == "validate"
    assert len(letter.reason) <= 900
    assert "x0000, x0001" in letter.reason and "… and 4,990 more" in letter.reason
    ingestor = pipeline.get("ingestor", "air")
    lines = [line for line in ingestor.log_path.read_text().splitlines() if "ingestor.dead_letter" in line]
    assert lines and max(len(line) for line in lines) < 2_000
    assert _metric(ingestor, 'finemeca_ingestor_truncated_total{field="device_name",sensor="air"}') == 1
