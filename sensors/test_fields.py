"""Family helpers: 'NULL' handling, local time -> UTC across DST, units, ids, mappings vs documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sensors.fields import (
    FamilyPayload,
    UnitTable,
    document_id,
    is_ambiguous,
    local_to_utc,
    null_to_none,
    parse_local_time,
)
from sensors.registry import available_sensors, get_sensor

BRUSSELS = ZoneInfo("Europe/Brussels")
BASE = {"idGateway": 170, "idDevice": 100, "Time": "2022-04-17 23:54:41", "msgCount": 237}


@pytest.mark.parametrize("value", ["NULL", "null", "", "  ", None, "NaN"])
def test_null_markers_become_none(value):
    assert null_to_none(value) is None


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2022-04-17 23:54:41", "2022-04-17T21:54:41+00:00"),  # summer time (+02:00), sample message 237
        ("2022-01-15 12:00:00", "2022-01-15T11:00:00+00:00"),  # winter time (+01:00)
        ("2022-03-27 01:59:59", "2022-03-27T00:59:59+00:00"),  # just before spring-forward
        ("2022-03-27 02:30:00", "2022-03-27T01:30:00+00:00"),  # in the gap: read with the old offset
        ("2022-03-27 03:00:00", "2022-03-27T01:00:00+00:00"),  # just after spring-forward
        ("2022-10-30 02:30:00", "2022-10-30T00:30:00+00:00"),  # ambiguous: first occurrence (summer)
        ("2022-10-30 03:00:00", "2022-10-30T02:00:00+00:00"),  # after fall-back
        ("2022-04-17T23:54:41+02:00", "2022-04-17T21:54:41+00:00"),  # explicit offset wins
    ],
)
def test_local_time_to_utc(local, utc):
    assert local_to_utc(parse_local_time(local), BRUSSELS).isoformat() == utc


AUTUMN_0230 = "2022-10-30 02:30:00"  # Brussels: 00:30Z (summer time), then again 01:30Z (winter time)


@pytest.mark.parametrize(
    ("local", "received", "utc"),
    [
        (AUTUMN_0230, "2022-10-30T00:30:04+00:00", "2022-10-30T00:30:00+00:00"),  # first occurrence
        (AUTUMN_0230, "2022-10-30T01:30:04+00:00", "2022-10-30T01:30:00+00:00"),  # second occurrence
        (AUTUMN_0230, "2022-10-30T01:00:00+00:00", "2022-10-30T00:30:00+00:00"),  # equal distance: first
        (AUTUMN_0230, "2022-10-30T01:00:01+00:00", "2022-10-30T01:30:00+00:00"),  # just past the middle
        (AUTUMN_0230, "2026-01-01T00:00:00+00:00", "2022-10-30T01:30:00+00:00"),  # backfill: the later one
        ("2022-10-30 01:59:00", "2022-10-30T01:59:00+00:00", "2022-10-29T23:59:00+00:00"),  # not ambiguous
        ("2022-03-27 02:30:00", "2022-03-27T00:30:00+00:00", "2022-03-27T01:30:00+00:00"),  # gap: rule kept
        ("2022-03-27 02:30:00", "2022-03-27T02:30:00+00:00", "2022-03-27T01:30:00+00:00"),
        ("2022-10-30T02:30:00+01:00", "2022-10-30T00:30:00+00:00", "2022-10-30T01:30:00+00:00"),  # offset
    ],
)
def test_the_receive_time_chooses_the_occurrence_of_an_ambiguous_time(local, received, utc):
    moment = local_to_utc(parse_local_time(local), BRUSSELS, datetime.fromisoformat(received))
    assert moment.isoformat() == utc


def test_only_the_repeated_hour_is_ambiguous():
    assert is_ambiguous(parse_local_time(AUTUMN_0230), BRUSSELS)
    assert is_ambiguous(parse_local_time("2022-10-30 02:00:00"), BRUSSELS)
    assert not is_ambiguous(parse_local_time("2022-10-30 03:00:00"), BRUSSELS)
    assert not is_ambiguous(parse_local_time("2022-03-27 02:30:00"), BRUSSELS)  # a gap, not a repeat
    assert not is_ambiguous(parse_local_time("2022-07-01 12:00:00"), BRUSSELS)


def test_document_id_does_not_depend_on_the_receive_time():
    plugin = get_sensor("air")
    payload = plugin.parse((plugin.folder / "sample.json").read_bytes())
    first = plugin.to_document(payload, BRUSSELS, datetime(2022, 4, 17, 21, 55, tzinfo=UTC))
    later = plugin.to_document(payload, BRUSSELS, datetime(2030, 1, 1, tzinfo=UTC))
    assert first == later  # not ambiguous: receive time plays no part
    assert plugin.document_id(payload) == "air-10-102-20220417T235441-4361"


def test_gap_time_is_after_the_last_time_before_the_gap():
    before = local_to_utc(parse_local_time("2022-03-27 01:59:59"), BRUSSELS)
    in_gap = local_to_utc(parse_local_time("2022-03-27 02:00:00"), BRUSSELS)
    assert in_gap > before


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2022-02-30 10:00:00", "not a valid date"),
        ("17/04/2022 23:54", "is not 'YYYY-MM-DD HH:MM:SS'"),
        ("2022-04-17", "is not 'YYYY-MM-DD HH:MM:SS'"),
        ("1970-01-01 00:00:00", "device clock not set"),
    ],
)
def test_bad_times_are_rejected_with_a_reason(text, reason):
    with pytest.raises(ValidationError, match=reason):
        FamilyPayload.model_validate({**BASE, "Time": text})


def test_required_identity_fields_have_readable_errors():
    with pytest.raises(ValidationError) as info:
        FamilyPayload.model_validate({"Time": "2022-04-17 23:54:41"})
    missing = {error["loc"][0] for error in info.value.errors() if error["type"] == "missing"}
    assert missing == {"idGateway", "idDevice", "msgCount"}


@pytest.mark.parametrize(
    "change",
    [{"msgCount": -1}, {"msgCount": True}, {"idGateway": "abc"}, {"RSSI": "strong"}, {"Time": 20220417}],
)
def test_wrong_types_and_negative_counters_are_rejected(change):
    with pytest.raises(ValidationError):
        FamilyPayload.model_validate({**BASE, **change})


def test_numbers_sent_as_strings_and_extra_keys_are_accepted():
    payload = FamilyPayload.model_validate({**BASE, "msgCount": "237", "RSSI": "-47", "Battery": 3.1})
    assert payload.msg_count == 237
    assert payload.rssi == -47.0
    assert payload.model_extra == {"Battery": 3.1}


def test_unit_table_normalises_and_rejects_unknown_units():
    table = UnitTable("pressure", "bar", {"bar": 1.0, "mbar": 0.001})
    assert table.to_canonical(6500, "mbar") == pytest.approx(6.5)
    assert table.to_canonical(6.5, None) == 6.5  # no unit: already canonical
    assert table.to_canonical(None, "mbar") is None
    with pytest.raises(ValueError, match="unknown pressure unit 'atm'"):
        table.check("atm")


def test_document_id_is_readable_and_independent_of_the_zone():
    payload = FamilyPayload.model_validate(BASE)
    assert document_id("devicev01", payload) == "devicev01-170-100-20220417T235441-237"
    aware = FamilyPayload.model_validate({**BASE, "Time": "2022-04-17T23:54:41+02:00"})
    assert document_id("devicev01", aware) == "devicev01-170-100-20220417T215441Z-237"


@pytest.mark.parametrize("name", available_sensors())
def test_sample_documents_only_use_mapped_fields(name):
    """The mappings are `dynamic: strict`: every field a transform emits must be mapped."""
    plugin = get_sensor(name)
    mapping = plugin.index_mappings()
    assert mapping["dynamic"] == "strict"
    doc = plugin.to_document(plugin.parse((plugin.folder / "sample.json").read_bytes()), BRUSSELS)
    assert set(doc) <= set(mapping["properties"])
    added_by_the_ingestor = {"received_at", "ingested_at", "clock_skew_s", "clock_skewed", "truncated_fields"}
    assert added_by_the_ingestor <= set(mapping["properties"])
    assert "received_at" not in doc
    assert doc["sensor"] == name
    assert datetime.fromisoformat(doc["@timestamp"]).tzinfo == UTC


def test_common_fields_are_mapped_identically_by_every_sensor():
    common = [
        "@timestamp", "local_time", "sensor", "customer", "gateway_id", "device_id", "device_key",
        "device_name", "msg_count", "length", "rssi", "snr", "modulation", "received_at", "ingested_at",
        "clock_skew_s", "clock_skewed", "truncated_fields",
    ]  # fmt: skip
    mappings = [get_sensor(name).index_mappings()["properties"] for name in available_sensors()]
    for field in common:
        assert len({json.dumps(m[field], sort_keys=True) for m in mappings}) == 1, field


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"msgCount": 2**70}, "msgCount", "less than or equal to 9223372036854775807"),
        ({"msgCount": 2**63}, "msgCount", "less than or equal"),
        ({"idGateway": 2**31}, "idGateway", "less than or equal to 2147483647"),
        ({"idDevice": 2**64}, "idDevice", "less than or equal"),
        ({"Customer": "\ud800"}, "Customer", "unicode"),
    ],
)
def test_bounds_elasticsearch_enforces_are_refused_with_the_field_named(changes, field, words):
    with pytest.raises(ValidationError) as info:
        FamilyPayload.model_validate({**BASE, **changes})
    [error] = info.value.errors()
    assert error["loc"] == (field,)
    assert words.lower() in error["msg"].lower()


def test_largest_values_elasticsearch_accepts_pass():
    payload = FamilyPayload.model_validate(
        {**BASE, "msgCount": 2**63 - 1, "idGateway": 2**31 - 1, "Device": "d" * 5000}
    )
    assert payload.msg_count == 2**63 - 1 and payload.id_gateway == 2**31 - 1


@pytest.mark.parametrize("name", available_sensors())
def test_every_keyword_field_declares_its_length_limit(name):
    """A long name must never cost a reading: the ingestor cuts keywords to their `ignore_above`."""
    properties = get_sensor(name).index_mappings()["properties"]
    keywords = {field: spec for field, spec in properties.items() if spec["type"] == "keyword"}
    assert keywords and all(spec.get("ignore_above") == 256 for spec in keywords.values()), keywords
