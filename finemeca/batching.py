"""Batching from an in-process queue: the gateway's STOMP transactions and the ingestor's bulk requests."""

from __future__ import annotations

import queue
import time
from typing import TypeVar

T = TypeVar("T")


def take_batch(source: queue.Queue[T], max_items: int, linger_s: float, first_wait_s: float = 0.2) -> list[T]:
    """Wait up to `first_wait_s` for a first item, then gather more until `max_items` or `linger_s` passed.

    An empty list means nothing arrived: callers use that to check for a stop request.
    """
    try:
        batch = [source.get(timeout=first_wait_s)]
    except queue.Empty:
        return []
    deadline = time.monotonic() + linger_s
    while len(batch) < max_items:
        remaining = deadline - time.monotonic()
        try:
            batch.append(source.get(timeout=remaining) if remaining > 0 else source.get_nowait())
        except queue.Empty:
            break
    return batch
