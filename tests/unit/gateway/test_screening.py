"""What the gateway refuses to forward (pure): each reason names the problem and, for size, the setting;
malformed topics, strict JSON (duplicate keys) and the UTF-8 BOM rule."""

from __future__ import annotations

import json

import pytest

from gateway.screening import forwarded_body, rejection_reason, topic_rejection

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


GOOD = json.dumps({"idGateway": 10, "idDevice": 100, "Time": "2022-04-17 23:54:41", "msgCount": 1}).encode()


@pytest.mark.parametrize("topic", ["finemeca/air/10/100", "finemeca/air/0/0", "finemeca/air/0010/9999999999"])
def test_device_topics_pass(topic):
    assert topic_rejection(topic, "air", "finemeca") is None


@pytest.mark.parametrize(
    ("topic", "words"),
    [
        ("finemeca/air/10/100/x", "3 level(s)"),
        ("finemeca/air/abc/100", "idGateway level 'abc'"),
        ("finemeca/air/10/abc", "idDevice level 'abc'"),
        ("finemeca/air/10", "1 level(s)"),
        ("finemeca/air", "is not under"),
        ("finemeca/air/10/", "idDevice level ''"),
        ("finemeca/air/-1/100", "idGateway"),
        ("finemeca/air/12345678901/100", "1-10 digits"),
        ("finemeca/centrale/10/100", "is not under 'finemeca/air/'"),
    ],
)
def test_malformed_topics_are_refused_with_the_topic_and_the_expected_shape(topic, words):
    reason = topic_rejection(topic, "air", "finemeca")
    assert reason is not None and words in reason
    assert "finemeca/air/<idGateway>/<idDevice>" in reason


def test_a_huge_topic_is_quoted_bounded():
    reason = topic_rejection("finemeca/air/" + "9/" * 30_000, "air", "finemeca")
    assert reason is not None and len(reason) < 400 and "60,013 chars" in reason


def test_duplicate_keys_are_refused_with_the_key_named():
    reason = rejection_reason(b'{"Pres": 6.1, "Pres": 1.0, "idGateway": 10}', 65_536)
    assert reason is not None and "duplicate key 'Pres'" in reason


def test_duplicate_keys_in_a_nested_object_are_refused_too():
    reason = rejection_reason(b'{"a": {"b": 1, "b": 2}}', 65_536)
    assert reason is not None and "duplicate key 'b'" in reason


def test_a_leading_bom_is_dropped_and_the_rest_forwarded_unchanged():
    body = forwarded_body(b"\xef\xbb\xbf" + GOOD)
    assert body == GOOD and rejection_reason(body, 65_536) is None
    assert forwarded_body(GOOD) is GOOD


def test_a_second_bom_is_not_json():
    reason = rejection_reason(forwarded_body(b"\xef\xbb\xbf\xef\xbb\xbf" + GOOD), 65_536)
    assert reason is not None and reason.startswith("not JSON")


def test_deeply_nested_json_is_refused_not_a_crash() -> None:
    assert rejection_reason(b"[" * 60_000, 65_536) == "not JSON this service can read: nested too deeply"
