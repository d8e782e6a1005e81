"""A frame -> the messages to process: items of an envelope look like messages sent alone (pure logic)."""

from __future__ import annotations

from finemeca import envelope, naming
from ingestor.unpacking import unpack_frame


def _envelope_headers(count: int) -> dict[str, str]:
    return {
        envelope.ENVELOPE_HEADER: envelope.ENVELOPE_KIND,
        envelope.ITEMS_HEADER: str(count),
        "content-type": envelope.CONTENT_TYPE,
        "message-id": "ID:m-1",
        naming.HEADER_SENSOR: "air",
    }


def test_items_carry_the_headers_of_a_lone_message_and_ack_once_with_the_last():
    body, count = envelope.pack([("p/air/1/2", 5, b"{}"), ("p/air/1/3", 6, b"[]")])
    first, second = unpack_frame("ack-1", 3, body, _envelope_headers(count))
    assert first.body == b"{}" and second.body == b"[]"
    assert first.headers[naming.HEADER_MQTT_TOPIC] == "p/air/1/2"
    assert second.headers[naming.HEADER_RECEIVED_AT] == "6"
    assert first.headers["message-id"] == "ID:m-1#1" and second.headers["message-id"] == "ID:m-1#2"
    assert (
        envelope.ENVELOPE_HEADER not in first.headers and first.headers["content-type"] == "application/json"
    )
    assert first.delivery is second.delivery and first.ack_id == "ack-1" and first.generation == 3
    assert first.delivery is not None
    assert first.delivery.item_done() is False
    assert second.delivery is not None and second.delivery.item_done() is True


def test_a_lone_message_and_an_unreadable_envelope_come_back_whole():
    [alone] = unpack_frame("a", 1, b"{}", {"message-id": "x"})
    assert alone.delivery is None and alone.body == b"{}"
    [whole] = unpack_frame("b", 1, b"garbage", _envelope_headers(1))
    assert whole.delivery is None and whole.body == b"garbage"
