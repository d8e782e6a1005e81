"""Which stored document differs from a redelivered one (pure part of ingestor/conflicts.py)."""

from ingestor.conflicts import differences


def test_delivery_fields_do_not_make_a_conflict():
    stored = {"temperature": 14.5, "ingested_at": "a", "received_at": "b"}
    assert differences(stored, {"temperature": 14.5, "ingested_at": "c", "received_at": "d"}) == []


def test_each_differing_field_is_named():
    stored = {"temperature": 14.5, "humidity": 40.0}
    new = {"temperature": 21.0, "pressure_hpa": 1013.0, "humidity": 40.0}
    assert differences(stored, new) == [
        "pressure_hpa: stored None, this message 1013.0",
        "temperature: stored 14.5, this message 21.0",
    ]
