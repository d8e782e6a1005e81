"""A frame from the data queue -> the messages to process: itself, or the items of a gateway envelope.

Each item gets the headers it would have had if the gateway had sent it alone (topic, receive time,
sensor), so validation, dead letters and re-drive treat it exactly like a single message; its dead letter
holds the item's own body. `message-id` becomes `<envelope id>#<n>` so each item's dead-letter record has
its own deterministic id (a redelivered envelope records each bad item once).
"""

from __future__ import annotations

from typing import Any

from finemeca import envelope, naming
from finemeca.deadletter import header_value
from ingestor.delivery import Delivery
from ingestor.prepare import Incoming

_ENVELOPE_ONLY = {envelope.ENVELOPE_HEADER, envelope.ITEMS_HEADER, "content-type", "content-length"}


def unpack_frame(ack_id: str, generation: int, body: bytes, headers: dict[str, Any]) -> list[Incoming]:
    """The messages a frame carries; an envelope that cannot be read is returned whole (`prepare`
    dead-letters it with `envelope.problem`'s reason)."""
    if not envelope.is_envelope(headers):
        return [Incoming(ack_id, generation, body, headers)]
    try:
        items = envelope.unpack_message(body, headers)
    except envelope.EnvelopeError:
        return [Incoming(ack_id, generation, body, headers)]
    delivery = Delivery(ack_id, generation, len(items))
    common = {k: v for k, v in headers.items() if k not in _ENVELOPE_ONLY}
    common["content-type"] = "application/json"
    message_id = str(headers.get("message-id", ""))
    incoming = []
    for n, item in enumerate(items, 1):
        item_headers = {
            **common,
            naming.HEADER_MQTT_TOPIC: header_value(item.topic),
            naming.HEADER_RECEIVED_AT: str(item.received_ms),
            "message-id": f"{message_id}#{n}",
        }
        incoming.append(Incoming(ack_id, generation, item.body, item_headers, delivery))
    return incoming
