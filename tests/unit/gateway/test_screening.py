"""Gateway screening (pure): malformed topics, strict JSON (duplicate keys), the UTF-8 BOM rule."""

from __future__ import annotations

import json

import pytest

from gateway.screening import forwarded_body, rejection_reason, topic_rejection

LIMIT = 65_536
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
    reason = rejection_reason(b'{"Pres": 6.1, "Pres": 1.0, "idGateway": 10}', LIMIT)
    assert reason is not None and "duplicate key 'Pres'" in reason


def test_duplicate_keys_in_a_nested_object_are_refused_too():
    reason = rejection_reason(b'{"a": {"b": 1, "b": 2}}', LIMIT)
    assert reason is not None and "duplicate key 'b'" in reason


def test_a_leading_bom_is_dropped_and_the_rest_forwarded_unchanged():
    body = forwarded_body(b"\xef\xbb\xbf" + GOOD)
    assert body == GOOD and rejection_reason(body, LIMIT) is None
    assert forwarded_body(GOOD) is GOOD


def test_a_bom_anywhere_else_is_not_json():
    reason = rejection_reason(forwarded_body(b"\xef\xbb\xbf\xef\xbb\xbf" + GOOD), LIMIT)
    assert reason is not None and reason.startswith("not JSON")
