"""What the gateway tells the ingestor about a message (pure logic): when it was received and on which
topic. Used for three rules (sensors/README.md, "Time" and "Identity"):

- identity: the topic's `<idGateway>/<idDevice>` must equal the payload's ids, else the message is
  dead-lettered (stage `validate`) with both in the reason; a message without an `mqtt-topic` header
  (sent to the queue by another producer) is identified by its payload alone;
- clock skew: `clock_skew_s` = device time - gateway receive time (positive: the device clock is ahead);
  beyond INGESTOR_CLOCK_SKEW_TOLERANCE the document is flagged `clock_skewed` and counted, but kept as sent:
  never dead-lettered, never corrected (the device time is the measurement's time, the skew is a fact);
- the repeated DST hour: the receive time chooses which occurrence a zone-less `Time` means.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from finemeca import naming


def received_at(headers: Mapping[str, Any]) -> datetime | None:
    """The gateway's receive time (header in epoch ms), or None when absent or not a number."""
    value = str(headers.get(naming.HEADER_RECEIVED_AT, ""))
    if not value.isdigit() or len(value) > 15:
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def identity_problem(headers: Mapping[str, Any], gateway_id: object, device_id: object) -> str | None:
    """Why the topic and the payload name different devices, or None when they agree (or no topic)."""
    topic = headers.get(naming.HEADER_MQTT_TOPIC)
    if topic is None:
        return None
    topic = str(topic)
    shown = topic[: naming.MAX_TOPIC_SHOWN]
    ids = naming.topic_device_ids(topic)
    if ids is None:
        return f"topic {shown!r} does not end in <idGateway>/<idDevice>: cannot tell which device sent it"
    if ids != (gateway_id, device_id):
        return (
            f"topic {shown!r} names device {ids[0]}-{ids[1]} but the payload says idGateway {gateway_id}, "
            f"idDevice {device_id}: fix the device's topic or ids, then re-drive (identity rule: topic and "
            "payload must agree)"
        )
    return None


def clock_skew_s(device_time: datetime, received: datetime) -> float:
    """Device time minus receive time, in seconds (ms precision): > 0 when the device clock is ahead."""
    return round((device_time - received).total_seconds(), 3)
