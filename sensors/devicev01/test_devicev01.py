"""devicev01: the real samples, 'NULL' values, units kept without values, DST, plausibility."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sensors.devicev01 import PLUGIN

BRUSSELS = ZoneInfo("Europe/Brussels")
HERE = Path(__file__).parent
MESSAGE_237 = json.loads((HERE / "sample.json").read_text())
# Real field messages (project notes, figures 4 and 5), verbatim, in testdata/.
TESTDATA = HERE / "testdata"
FIELD_STREAM = (TESTDATA / "devicev01-mqtt-stream.jsonl").read_text().splitlines()
FIELD_PAYLOAD = (TESTDATA / "devicev01-mqtt-payload.json").read_text()


def test_message_237_keeps_the_temperature_and_gets_the_right_utc_time():
    payload = PLUGIN.parse(json.dumps(MESSAGE_237))
    doc = PLUGIN.to_document(payload, BRUSSELS)
    assert doc["@timestamp"] == "2022-04-17T21:54:41Z"  # Belgian summer time is UTC+2
    assert doc["local_time"] == "2022-04-17 23:54:41"
    assert doc["temperature"] == 14.51
    assert doc["temperature_unit"] == "C"
    assert doc["pressure_unit"] == "hPa"  # unit sent without its value: kept
    assert "pressure_hpa" not in doc  # value absent
    assert "humidity" not in doc and "humidity_unit" not in doc  # 'NULL'
    assert doc["device_key"] == "170-100"
    assert PLUGIN.document_id(payload) == "devicev01-170-100-20220417T235441-237"
    assert PLUGIN.timestamp(payload, BRUSSELS).isoformat() == "2022-04-17T21:54:41+00:00"


def test_real_field_samples_parse():
    docs = [PLUGIN.to_document(PLUGIN.parse(line), BRUSSELS) for line in FIELD_STREAM]
    assert [d["msg_count"] for d in docs] == [232, 233]
    assert docs[0]["temperature"] == 14.51 and docs[0]["pressure_unit"] == "hPa"
    single = PLUGIN.to_document(PLUGIN.parse(FIELD_PAYLOAD), BRUSSELS)
    assert single["pressure_hpa"] == 1015.0 and single["temperature"] == 14.51
    assert "humidity" not in single  # Hum: null


def test_same_message_same_id_when_resent():
    assert PLUGIN.document_id(PLUGIN.parse(MESSAGE_237)) == PLUGIN.document_id(
        PLUGIN.parse(dict(MESSAGE_237))
    )


def test_units_are_normalised_and_the_sent_unit_kept():
    doc = PLUGIN.to_document(
        PLUGIN.parse({**MESSAGE_237, "Temp": "50", "Temp-U": "F", "Pres": 101.3, "Pres-U": "kPa", "Hum": 40}),
        BRUSSELS,
    )
    assert doc["temperature"] == pytest.approx(10.0)
    assert doc["temperature_unit"] == "F"
    assert doc["pressure_hpa"] == pytest.approx(1013.0)
    assert doc["humidity"] == 40.0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Pres": 1e9}, "Pres 1e\\+09 hPa is outside the plausible range"),
        ({"Temp": 400}, "Temp 400 C is outside"),
        ({"Hum": 180}, "Hum 180 % is outside"),
        ({"Temp-U": "furlong"}, "unknown temperature unit 'furlong'"),
        ({"Temp": "warm"}, "valid number"),
    ],
)
def test_absurd_values_are_rejected_with_a_reason(change, reason):
    with pytest.raises(ValidationError, match=reason):
        PLUGIN.parse({**MESSAGE_237, **change})


@pytest.mark.parametrize(
    ("local", "utc"),
    [("2022-03-27 02:30:00", "2022-03-27T01:30:00Z"), ("2022-10-30 02:30:00", "2022-10-30T00:30:00Z")],
)
def test_dst_switch_nights(local, utc):
    assert PLUGIN.to_document(PLUGIN.parse({**MESSAGE_237, "Time": local}), BRUSSELS)["@timestamp"] == utc
