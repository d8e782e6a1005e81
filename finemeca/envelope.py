"""The batch envelope: many MQTT messages carried in one persistent broker message (pure logic).

The broker's cost is per message, not per byte, so the gateway packs one transaction's messages into one
STOMP message (docs/CONTRACTS.md, "Envelope"). Each item keeps what a message sent alone would carry in its
headers: the MQTT topic and the gateway's receive time. Layout, length-prefixed so that a body is never
parsed or escaped to be packed (any bytes, newlines included):

    <received_ms> <topic bytes> <body bytes>\\n<topic><body>\\n     (repeated, ASCII decimal numbers)

The message carries `ENVELOPE_HEADER: ENVELOPE_KIND` and `ITEMS_HEADER: <count>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

ENVELOPE_HEADER = "finemeca-envelope"
ENVELOPE_KIND = "items-v1"
ITEMS_HEADER = "finemeca-items"
CONTENT_TYPE = "application/x-finemeca-items"
MAX_PREFIX_BYTES = 64  # "<ms> <n> <n>\n": far below this


class EnvelopeError(ValueError):
    """The envelope cannot be read (truncated, lengths that do not add up, a wrong count)."""


class Item(NamedTuple):
    topic: str
    received_ms: int
    body: bytes


def pack(items: Iterable[tuple[str, int, bytes]]) -> tuple[bytes, int]:
    """(body, item count) of one envelope holding `(topic, received_ms, body)` items."""
    parts: list[bytes] = []
    count = 0
    for topic, received_ms, body in items:
        encoded = topic.encode("utf-8", "backslashreplace")
        parts.append(b"%d %d %d\n" % (received_ms, len(encoded), len(body)))
        parts.append(encoded)
        parts.append(body)
        parts.append(b"\n")
        count += 1
    return b"".join(parts), count


def unpack(data: bytes, expected: int | None = None) -> list[Item]:
    """The items of an envelope, in order; `EnvelopeError` names the first inconsistency."""
    items: list[Item] = []
    view = memoryview(data)
    pos, end = 0, len(data)
    while pos < end:
        newline = data.find(b"\n", pos, pos + MAX_PREFIX_BYTES)
        if newline < 0:
            raise EnvelopeError(f"item {len(items) + 1}: no length line at byte {pos}")
        fields = data[pos:newline].split(b" ")
        if len(fields) != 3 or not all(f.isdigit() for f in fields):
            raise EnvelopeError(
                f"item {len(items) + 1}: length line {bytes(data[pos:newline])!r} at byte {pos}"
            )
        received_ms, topic_len, body_len = (int(f) for f in fields)
        topic_end = newline + 1 + topic_len
        body_end = topic_end + body_len
        if body_end + 1 > end or data[body_end : body_end + 1] != b"\n":
            raise EnvelopeError(f"item {len(items) + 1}: lengths run past the end or miss the separator")
        topic = bytes(view[newline + 1 : topic_end]).decode("utf-8", "replace")
        items.append(Item(topic, received_ms, bytes(view[topic_end:body_end])))
        pos = body_end + 1
    if expected is not None and len(items) != expected:
        raise EnvelopeError(f"{len(items)} items where the {ITEMS_HEADER} header says {expected}")
    if not items:
        raise EnvelopeError("empty envelope")
    return items


def is_envelope(headers: Mapping[str, object]) -> bool:
    return headers.get(ENVELOPE_HEADER) == ENVELOPE_KIND


def unpack_message(body: bytes, headers: Mapping[str, object]) -> list[Item]:
    """The items of a broker message marked as an envelope, checked against its item count header."""
    count = str(headers.get(ITEMS_HEADER, ""))
    if not count.isdigit():
        raise EnvelopeError(f"no item count: header {ITEMS_HEADER} is {count!r}")
    return unpack(body, int(count))


def problem(body: bytes, headers: Mapping[str, object]) -> str:
    """The dead-letter reason of an envelope that cannot be read."""
    try:
        unpack_message(body, headers)
    except EnvelopeError as exc:
        return f"unreadable batch envelope ({ENVELOPE_KIND}): {exc}"
    return f"batch envelope ({ENVELOPE_KIND}) reached validation unpacked"
