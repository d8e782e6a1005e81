"""What the gateway refuses to forward (pure logic): a malformed topic, an oversized message, a body that is
not one strict JSON object (UTF-8, no duplicate key). Full validation is the ingestor's job.

Rules (sensors/README.md, "Identity and strict JSON"):
- the topic must be `<prefix>/<sensor>/<idGateway>/<idDevice>` with decimal ids; the ingestor then checks
  that the payload's ids agree with it;
- a duplicate key is refused with the key named: keeping either value would be a silent guess;
- a leading UTF-8 byte order mark is accepted and dropped (RFC 8259 lets parsers ignore it); it is the only
  byte the gateway ever removes, so that no later parser (stdlib json, orjson) has to know about it.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from finemeca import naming

UTF8_BOM = codecs.BOM_UTF8
MAX_KEY_SHOWN = 60


class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        shown = key if len(key) <= MAX_KEY_SHOWN else f"{key[:MAX_KEY_SHOWN]}… ({len(key):,} chars)"
        super().__init__(f"duplicate key {shown!r} in a JSON object: refused rather than keeping one value")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKeyError(key)
        obj[key] = value
    return obj


_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_refuse_duplicate_keys)  # built once, not per message


def forwarded_body(payload: bytes) -> bytes:
    """The body sent to ActiveMQ: the MQTT payload unchanged, minus a leading UTF-8 BOM if any."""
    return payload[len(UTF8_BOM) :] if payload.startswith(UTF8_BOM) else payload


def topic_rejection(topic: str, sensor: str, prefix: str) -> str | None:
    """Reason to dead-letter a message published on a topic that names no device, or None."""
    return naming.device_topic_problem(topic, sensor, prefix)


def rejection_reason(body: bytes, max_bytes: int) -> str | None:
    """Reason to dead-letter `body` (already through `forwarded_body`), or None when it may be forwarded."""
    if len(body) > max_bytes:
        return f"message of {len(body)} bytes exceeds the {max_bytes}-byte limit (GATEWAY_MAX_MESSAGE_BYTES)"
    if not body.strip():
        return "empty message"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    try:
        data = _STRICT_DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except DuplicateKeyError as exc:
        return f"not strict JSON: {exc}"
    except RecursionError:
        return "not JSON this service can read: nested too deeply"
    if not isinstance(data, dict):
        return f"JSON must be an object, got {type(data).__name__}"
    return None
