"""The batch envelope's layout (pure logic)."""

from __future__ import annotations

import pytest

from finemeca import envelope

ITEMS = [
    ("finemeca/air/1/2", 1_700_000_000_000, b'{"a": 1}'),
    ("finemeca/air/1/3", 1_700_000_000_001, b'{\n  "pretty": "printed"\n}'),  # newlines inside a body
    ("finemeca/air/1/\u00e9", 0, b""),
]


def test_pack_then_unpack_gives_back_every_item_in_order():
    body, count = envelope.pack(ITEMS)
    assert count == 3
    assert [tuple(item) for item in envelope.unpack(body, 3)] == ITEMS


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (lambda b: b[:-1], "separator"),
        (lambda b: b + b"x", "no length line"),
        (lambda b: b"1 2\n" + b, "length line"),
        (lambda b: b"", "empty envelope"),
    ],
)
def test_a_damaged_envelope_names_what_is_wrong(cut, expected):
    body, _count = envelope.pack(ITEMS)
    with pytest.raises(envelope.EnvelopeError, match=expected):
        envelope.unpack(cut(body))


def test_the_item_count_header_must_match():
    body, _count = envelope.pack(ITEMS)
    headers = {envelope.ENVELOPE_HEADER: envelope.ENVELOPE_KIND, envelope.ITEMS_HEADER: "4"}
    assert "3 items where" in envelope.problem(body, headers)
    assert len(envelope.unpack_message(body, {**headers, envelope.ITEMS_HEADER: "3"})) == 3
