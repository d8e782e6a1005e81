"""One broker message whose items may be indexed by several batches: acknowledged once all are done."""

from __future__ import annotations

import threading


class Delivery:
    """The ack of an envelope (finemeca/envelope.py): the broker message is acked after its last item."""

    __slots__ = ("_lock", "_remaining", "ack_id", "generation")

    def __init__(self, ack_id: str, generation: int, items: int) -> None:
        self.ack_id = ack_id
        self.generation = generation
        self._remaining = items
        self._lock = threading.Lock()

    def item_done(self) -> bool:
        """Count one item done (indexed, duplicate or dead-lettered); True when it was the last one."""
        with self._lock:
            self._remaining -= 1
            return self._remaining == 0
