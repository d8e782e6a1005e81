"""The STOMP link's generation logic and its connect loop.

A message id is only valid on the connection it came from: acks tagged with an older generation must
not be sent (the broker already redelivers those messages). The connection is a recording stand-in
here (the decision is pure); the connect loop runs against a real closed port.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from stomp.utils import Frame

from finemeca.config import StompSettings
from finemeca.errors import StopRequested, TransientError
from finemeca.stomp_link import StompLink, StompUnavailableError, ack_id


class _RecordingConnection:
    """Stands in for stomp.Connection12: records what would go on the wire."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.transport = self

    def is_connected(self) -> bool:
        return True

    def ack(self, message_id: str) -> None:
        self.sent.append(("ack", message_id))

    def nack(self, message_id: str) -> None:
        self.sent.append(("nack", message_id))

    def begin(self, transaction: str) -> None:
        self.sent.append(("begin", transaction))

    def send(self, data: bytes) -> None:  # transport.send: raw frames
        self.sent.append(("raw", data))


def _link_on_generation(generation: int) -> tuple[StompLink, _RecordingConnection]:
    link = StompLink(StompSettings(), client_name="test")
    conn = _RecordingConnection()
    link._conn = conn  # type: ignore[assignment]
    link._connected.set()
    link.generation = generation
    return link, conn


def test_acks_of_the_current_generation_are_sent() -> None:
    link, conn = _link_on_generation(2)
    assert link.ack("m-1", 2) is True
    assert link.nack("m-2", 2) is True
    assert link.ack_many(["m-3", "m:4"], 2) is True
    assert conn.sent[:2] == [("ack", "m-1"), ("nack", "m-2")]
    kind, data = conn.sent[2]
    assert kind == "raw" and data.count(b"ACK\n") == 2 and b"id:m\\c4" in data  # one write, escaped


@pytest.mark.parametrize("stale", [0, 1, 3])
def test_acks_of_another_generation_are_skipped(stale: int) -> None:
    link, conn = _link_on_generation(2)
    assert link.ack("m-1", stale) is False
    assert link.nack("m-1", stale) is False
    assert link.ack_many(["m-1", "m-2"], stale) is False
    assert conn.sent == []


def test_nothing_is_acked_while_disconnected() -> None:
    link, conn = _link_on_generation(2)
    link._mark_disconnected()
    assert link.ack("m-1", 2) is False
    assert link.ack_many(["m-1"], 2) is False
    assert conn.sent == []
    with pytest.raises(StompUnavailableError):
        link.begin()


def test_transaction_ids_carry_the_generation_and_never_repeat() -> None:
    link, _ = _link_on_generation(5)
    first, second = link.begin(), link.begin()
    assert first.startswith("test-tx-5-") and second.startswith("test-tx-5-") and first != second


def test_ack_id_prefers_the_stomp_12_ack_header() -> None:
    assert ack_id(Frame("MESSAGE", {"ack": "a-1", "message-id": "m-1"})) == "a-1"
    assert ack_id(Frame("MESSAGE", {"message-id": "m-1"})) == "m-1"


def _unreachable() -> StompLink:
    return StompLink(StompSettings(host="127.0.0.1", port=1), client_name="test", max_backoff=0.05)


def test_giving_up_says_what_failed_and_what_to_check() -> None:
    with pytest.raises(StompUnavailableError) as caught:
        _unreachable().ensure_connected(give_up_after=0.3)
    message = str(caught.value)
    assert "ActiveMQ STOMP at 127.0.0.1:1 unreachable" in message
    assert "STOMP_HOST/STOMP_PORT" in message
    assert "finemeca stack" not in message  # production wording, not dev tooling
    assert isinstance(caught.value, TransientError)


def test_a_stop_interrupts_connecting_with_stop_requested() -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        StompLink(StompSettings(host="127.0.0.1", port=1), client_name="test").ensure_connected(stop=stop)
    assert time.monotonic() - started < 5
