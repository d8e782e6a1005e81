"""What the gateway refuses to forward (pure): each reason names the problem and, for size, the setting."""

from __future__ import annotations

import pytest

from gateway.screening import rejection_reason

LIMIT = 100


@pytest.mark.parametrize(
    "payload",
    [b'{"idGateway": 1}', b"  {}  ", '{"Device": "ligne-été"}'.encode()],
)
def test_a_json_object_within_the_limit_is_forwarded(payload: bytes) -> None:
    assert rejection_reason(payload, LIMIT) is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "empty message"),
        (b" \n\t", "empty message"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"{'single': 'quotes'}", "not JSON: Expecting property name"),
        (b'{"a": 1', "not JSON"),
        (b"[1, 2]", "JSON must be an object, got list"),
        (b'"text"', "JSON must be an object, got str"),
        (b"null", "JSON must be an object, got NoneType"),
    ],
)
def test_refused_messages_say_why(payload: bytes, expected: str) -> None:
    reason = rejection_reason(payload, LIMIT)
    assert reason is not None and expected in reason


def test_size_is_checked_first_and_names_the_setting() -> None:
    reason = rejection_reason(b"x" * (LIMIT + 1), LIMIT)  # not JSON either: size wins, nothing is parsed
    assert (
        reason == f"message of {LIMIT + 1} bytes exceeds the {LIMIT}-byte limit (GATEWAY_MAX_MESSAGE_BYTES)"
    )
    assert rejection_reason(b"{" + b" " * (LIMIT - 2) + b"}", LIMIT) is None  # exactly at the limit
