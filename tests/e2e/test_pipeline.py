"""MQTT -> gateway -> ActiveMQ -> ingestor -> Elasticsearch, per sensor, on the real local stack."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import stomp

from finemeca import naming
from finemeca.config import StompSettings
from ingestor.settings import IngestorSettings
from sensors.registry import get_sensor
from tests.e2e.helpers import all_docs, publish, wait_for_count

pytestmark = pytest.mark.e2e
SAMPLES = Path(__file__).resolve().parents[2] / "sensors" / "devicev01" / "testdata"
VOLATILE = {
    "received_at",
    "ingested_at",
    "ingest_lag_ms",
    "clock_skew_s",
    "clock_skewed",
    "_index",
    "_id",
}  # receive-time


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in VOLATILE}


def _samples() -> list[dict[str, Any]]:
    stream = [json.loads(line) for line in (SAMPLES / "devicev01-mqtt-stream.jsonl").read_text().splitlines()]
    return [json.loads((SAMPLES / "devicev01-mqtt-payload.json").read_text()), *stream]


def test_devicev01_field_samples_become_exact_documents(start_pipeline, prefix, es_client):
    start_pipeline(["devicev01"])
    publish(prefix, "devicev01", _samples())
    alias = naming.data_index_alias("devicev01", prefix)
    assert wait_for_count(es_client, alias, 3) == 3
    docs = all_docs(es_client, alias)
    assert all(d["clock_skewed"] and d["clock_skew_s"] < -3 * 365 * 86400 for d in docs)  # 2022 samples
    common = {
        "sensor": "devicev01",
        "customer": "finemeca",
        "gateway_id": 170,
        "device_id": 100,
        "device_key": "170-100",
        "device_name": "testBroker",
        "length": 94,
        "rssi": -47.0,
        "snr": 10.0,
        "modulation": "weath",
    }
    assert [_strip(d) for d in docs] == [
        {
            **common,
            "@timestamp": "2022-04-09T13:05:06Z",
            "local_time": "2022-04-09 15:05:06",
            "msg_count": 202,
            "temperature": 14.51,
            "pressure_hpa": 1015.0,
        },
        # summer time: 23:52:11 in Brussels is 21:52:11 UTC (the old system was one hour off)
        {
            **common,
            "@timestamp": "2022-04-17T21:52:11Z",
            "local_time": "2022-04-17 23:52:11",
            "msg_count": 232,
            "temperature": 14.51,
            "temperature_unit": "C",
            "pressure_unit": "hPa",
        },
        {
            **common,
            "@timestamp": "2022-04-17T21:52:41Z",
            "local_time": "2022-04-17 23:52:41",
            "msg_count": 233,
            "temperature": 14.51,
            "temperature_unit": "C",
            "pressure_unit": "hPa",
        },
    ]
    assert docs[1]["_index"] == f"{prefix}-devicev01-data-2022.04.17"
    assert docs[1]["_id"] == "devicev01-170-100-20220417T235211-232"
    assert docs[1]["received_at"] <= docs[1]["ingested_at"]
    assert 0 <= docs[1]["ingest_lag_ms"] < 60_000


def _air(time: str, msg_count: int, pres: Any = 6.4, open_: Any = 5.9, **extra: Any) -> dict[str, Any]:
    return {
        "Customer": "finemeca",
        "idGateway": 10,
        "idDevice": 102,
        "Device": "line-3",
        "Time": time,
        "msgCount": msg_count,
        "Length": 102,
        "RSSI": -93,
        "SNR": 10,
        "Mod": "air",
        "Pres": pres,
        "Pres-U": "bar",
        "PresOpen": open_,
        "PresOpen-U": "bar",
        **extra,
    }


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2022-01-15 12:00:00", "2022-01-15T11:00:00Z"),  # winter, UTC+1
        ("2022-07-01 12:00:00", "2022-07-01T10:00:00Z"),  # summer, UTC+2
        ("2022-03-27 01:59:59", "2022-03-27T00:59:59Z"),  # spring-forward night, just before
        ("2022-03-27 02:30:00", "2022-03-27T01:30:00Z"),  # does not exist locally: read as +01:00
        ("2022-03-27 03:00:00", "2022-03-27T01:00:00Z"),  # first summer second
        ("2022-10-30 02:30:00", "2022-10-30T00:30:00Z"),  # happens twice: first occurrence
        ("2022-10-30 03:00:00", "2022-10-30T02:00:00Z"),  # back in winter time
    ],
)
def test_air_timestamps_are_utc_across_dst(local, utc):
    """Pure check of the same transform the ingestor runs (the e2e test below runs it through the stack)."""
    plugin = get_sensor("air")
    doc = plugin.to_document(plugin.parse(json.dumps(_air(local, 1))), IngestorSettings().zone)
    assert doc["@timestamp"] == utc


def test_air_documents_through_the_stack_summer_winter_and_dst_nights(start_pipeline, prefix, es_client):
    start_pipeline(["air"])
    messages = [
        _air("2022-01-15 12:00:00", 1, pres=6.4),
        _air("2022-07-01 12:00:00", 2, pres=5.1),  # below the opening pressure: leak
        _air("2022-03-27 02:30:00", 3, pres="NULL"),  # value missing, unit present
        _air("2022-10-30 02:30:00", 4, pres=6350, **{"Pres-U": "mbar"}),
        _air("2022-10-30 03:00:00", 5),
    ]
    publish(prefix, "air", messages)
    alias = naming.data_index_alias("air", prefix)
    assert wait_for_count(es_client, alias, 5) == 5
    docs = {d["msg_count"]: d for d in all_docs(es_client, alias)}
    assert docs[1]["@timestamp"] == "2022-01-15T11:00:00Z"
    assert (docs[1]["pressure"], docs[1]["opening_pressure"], docs[1]["leak"]) == (6.4, 5.9, False)
    assert docs[2]["@timestamp"] == "2022-07-01T10:00:00Z" and docs[2]["leak"] is True
    assert docs[3]["@timestamp"] == "2022-03-27T01:30:00Z"
    assert "pressure" not in docs[3] and docs[3]["pressure_unit"] == "bar" and "leak" not in docs[3]
    # 02:30 happens twice that night; received years later, the closest occurrence is the second (CET)
    assert docs[4]["@timestamp"] == "2022-10-30T01:30:00Z" and docs[4]["pressure"] == pytest.approx(6.35)
    assert docs[5]["@timestamp"] == "2022-10-30T02:00:00Z"
    assert docs[5]["_index"] == f"{prefix}-air-data-2022.10.30"
    assert docs[5]["line"] == "line-3"


def test_centrale_documents_and_daily_consumption(start_pipeline, prefix, es_client):
    start_pipeline(["centrale"])
    base = json.loads(Path("sensors/centrale/sample.json").read_text())
    readings = [
        ("2022-04-19 00:05:00", 57_100_000),
        ("2022-04-19 12:00:00", 57_150_500),
        ("2022-04-19 23:55:00", 57_190_250),
        ("2022-04-20 00:10:00", 57_190_900),
    ]
    messages = [{**base, "Time": t, "msgCount": i, "Index": idx} for i, (t, idx) in enumerate(readings)]
    # out of order and redelivered: the daily figure must not change
    publish(prefix, "centrale", [messages[2], messages[0], messages[3], messages[1], messages[2]])
    alias = naming.data_index_alias("centrale", prefix)
    assert wait_for_count(es_client, alias, 4) == 4
    doc = next(d for d in all_docs(es_client, alias) if d["msg_count"] == 1)
    assert doc["energy_index_kwh"] == pytest.approx(57_150.5) and doc["power_kw"] == pytest.approx(71.086)
    daily_index = f"{prefix}-centrale-daily"
    assert wait_for_count(es_client, daily_index, 2) == 2
    # end of the 19th = midnight, 5 of the 15 minutes between 23:55 (57,190.25) and 00:10 (57,190.9)
    expected = 57_190.25 + 0.65 * 5 / 15 - 57_100.0
    deadline = time.monotonic() + 20
    while True:  # the last batch's recompute may land a moment after the second daily doc
        daily = es_client.get(index=daily_index, id="30-100-2022-04-19")["_source"]
        if daily["consumption_kwh"] == pytest.approx(expected, abs=1e-5) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert daily["consumption_kwh"] == pytest.approx(expected, abs=1e-5)
    assert (daily["readings"], daily["complete"]) == (3, True)


def test_duplicate_mqtt_deliveries_and_stomp_redeliveries_make_one_document(
    start_pipeline, prefix, es_client, stomp_settings
):
    start_pipeline(["devicev01"])
    samples = _samples()
    publish(prefix, "devicev01", samples * 3)  # the same three messages, three times over MQTT
    # and once more straight into the queue, as a redelivery after an ingestor crash would
    conn = stomp.Connection12(StompSettings().hosts())  # this stack instance, not a fixed port
    conn.connect(wait=True)
    for sample in samples:
        conn.send(naming.data_queue("devicev01", prefix), json.dumps(sample), headers={"persistent": "true"})
    conn.disconnect()
    alias = naming.data_index_alias("devicev01", prefix)
    assert wait_for_count(es_client, alias, 3, timeout=20) == 3
    time.sleep(2)  # let every duplicate reach Elasticsearch, then check nothing grew
    assert wait_for_count(es_client, alias, 4, timeout=2) == 3
