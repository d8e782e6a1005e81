"""take_batch: the batching of the gateway's transactions and the ingestor's bulk requests (pure)."""

from __future__ import annotations

import queue
import threading
import time

from finemeca.batching import take_batch


def _filled(n: int) -> queue.Queue[int]:
    q: queue.Queue[int] = queue.Queue()
    for i in range(n):
        q.put(i)
    return q


def test_nothing_arrived_is_an_empty_batch_after_the_first_wait() -> None:
    started = time.monotonic()
    assert take_batch(queue.Queue(), 10, linger_s=5, first_wait_s=0.05) == []
    assert time.monotonic() - started < 1  # the linger only starts with a first item


def test_a_full_batch_closes_at_once_and_leaves_the_rest_in_order() -> None:
    q = _filled(25)
    assert take_batch(q, 10, linger_s=5) == list(range(10))
    assert take_batch(q, 10, linger_s=5) == list(range(10, 20))
    assert q.qsize() == 5


def test_a_partial_batch_closes_after_the_linger() -> None:
    q = _filled(3)
    started = time.monotonic()
    assert take_batch(q, 100, linger_s=0.1) == [0, 1, 2]
    assert 0.05 < time.monotonic() - started < 2


def test_items_arriving_during_the_linger_join_the_batch() -> None:
    q = _filled(1)
    threading.Timer(0.05, q.put, args=(1,)).start()
    assert take_batch(q, 100, linger_s=0.5) == [0, 1]


def test_with_no_linger_it_takes_what_is_already_there() -> None:
    assert take_batch(_filled(4), 100, linger_s=0) == [0, 1, 2, 3]
