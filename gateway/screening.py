"""What the gateway refuses to forward: oversized or non-JSON-object messages (pure logic)."""

from __future__ import annotations

import json


def rejection_reason(payload: bytes, max_bytes: int) -> str | None:
    """Reason to dead-letter `payload`, or None when it may be forwarded.

    The gateway checks only what it must to protect the queue; full validation is the ingestor's job.
    """
    if len(payload) > max_bytes:
        return (
            f"message of {len(payload)} bytes exceeds the {max_bytes}-byte limit (GATEWAY_MAX_MESSAGE_BYTES)"
        )
    if not payload.strip():
        return "empty message"
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return "not JSON this service can read: nested too deeply"
    if not isinstance(data, dict):
        return f"JSON must be an object, got {type(data).__name__}"
    return None
