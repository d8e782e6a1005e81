"""Dead-letter queue tools: browse, inspect and re-drive messages after the cause was fixed.

Every dead letter of a deep DLQ is seen: the broker's `DLQ.>` policy raises the browse page from 400
to 1,000,000 (`maxBrowsePageSize`). A re-drive moves messages in batches: one confirmed transaction of
sends to the data queue, then one socket write of ACKs for their DLQ copies.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass

from stomp.utils import Frame

from finemeca import naming
from finemeca.config import StompSettings
from finemeca.deadletter import redrive_headers
from finemeca.stomp_link import StompLink, ack_id

BROWSE_MAX = 1_000_000  # the DLQ.> maxBrowsePageSize of both broker configs
REDRIVE_BATCH = 500


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    stage: str
    reason: str
    at: str
    origin: str
    body: bytes
    headers: dict[str, str]


def selector(
    reason: str | None = None, stage: str | None = None, message_id: str | None = None
) -> str | None:
    """JMS selector over the dlq_* headers (single quotes doubled, as SQL-92 wants)."""
    clauses = []
    if reason:
        clauses.append("dlq_reason LIKE '%" + reason.replace("'", "''") + "%'")
    if stage:
        clauses.append("dlq_stage = '" + stage.replace("'", "''") + "'")
    if message_id:
        clauses.append("JMSMessageID = '" + message_id.replace("'", "''") + "'")
    return " AND ".join(clauses) or None


def _to_dead_letter(frame: Frame) -> DeadLetter:
    h = {k: str(v) for k, v in frame.headers.items()}
    body = frame.body if isinstance(frame.body, bytes) else str(frame.body).encode()
    return DeadLetter(
        h.get("message-id", ""),
        h.get("dlq_stage", "?"),
        h.get("dlq_reason", "(no reason recorded)"),
        h.get("dlq_at", ""),
        h.get("dlq_origin", ""),
        body,
        h,
    )


def _receive(
    settings: StompSettings, destination: str, headers: dict[str, str], ack: str, idle_timeout: float
) -> tuple[StompLink, Iterator[tuple[Frame, int]]]:
    inbox: queue.Queue[tuple[Frame, int]] = queue.Queue()
    link = StompLink(settings, client_name="dlq-tool", on_message=lambda f, g: inbox.put((f, g)))
    link.subscribe(destination, "dlq-tool", ack=ack, headers=headers)
    link.ensure_connected(give_up_after=15)

    def frames() -> Iterator[tuple[Frame, int]]:
        while True:
            try:
                yield inbox.get(timeout=idle_timeout)
            except queue.Empty:
                return

    return link, frames()


def browse(
    sensor: str,
    settings: StompSettings | None = None,
    reason: str | None = None,
    stage: str | None = None,
    limit: int = 100,
    idle_timeout: float = 10.0,
    message_id: str | None = None,
) -> list[DeadLetter]:
    """Look at dead letters without consuming them (STOMP queue browser), oldest first."""
    settings = settings or StompSettings()
    headers = {"browser": "true"}
    if sel := selector(reason, stage, message_id):
        headers["selector"] = sel
    link, frames = _receive(
        settings, naming.dead_letter_queue(sensor, settings.queue_prefix), headers, "auto", idle_timeout
    )
    found: list[DeadLetter] = []
    try:
        for frame, _gen in frames:
            if frame.headers.get("browser") == "end":
                break
            found.append(_to_dead_letter(frame))
            if len(found) >= limit:
                break
    finally:
        link.close()
    return found


def find(sensor: str, message_id: str, settings: StompSettings | None = None) -> DeadLetter | None:
    """One dead letter by its message id (a selector: the broker does the search)."""
    found = browse(sensor, settings, limit=1, message_id=message_id)
    return found[0] if found else None


def redrive(
    sensor: str,
    settings: StompSettings | None = None,
    reason: str | None = None,
    stage: str | None = None,
    limit: int | None = None,
    idle_timeout: float = 10.0,
) -> int:
    """Move the matching dead letters present now back to the sensor's data queue.

    Only messages seen in a browse taken first are moved, so a message that fails again and returns
    to the DLQ is not re-driven in a loop. Each batch is sent in a confirmed transaction before its DLQ
    copies are acked: a crash re-drives a batch twice at worst, which deterministic ids make harmless.
    """
    settings = settings or StompSettings()
    wanted = {
        d.message_id for d in browse(sensor, settings, reason, stage, limit or BROWSE_MAX, idle_timeout)
    }
    if not wanted:
        return 0
    headers = {"activemq.prefetchSize": str(REDRIVE_BATCH * 2)}
    if sel := selector(reason, stage):
        headers["selector"] = sel
    dlq = naming.dead_letter_queue(sensor, settings.queue_prefix)
    link, frames = _receive(settings, dlq, headers, "client-individual", idle_timeout)
    moved = 0
    try:
        for batch in _batches(frames, wanted):
            moved += _move(link, naming.data_queue(sensor, settings.queue_prefix), batch)
    finally:
        link.close()
    return moved


def _batches(frames: Iterator[tuple[Frame, int]], wanted: set[str]) -> Iterator[list[tuple[Frame, int]]]:
    """Batches of wanted frames; ends at the first frame not in the snapshot or when all were seen."""
    batch: list[tuple[Frame, int]] = []
    for frame, generation in frames:
        message_id = str(frame.headers.get("message-id", ""))
        if message_id not in wanted:
            break  # arrived after the snapshot (maybe one we just re-drove): leave it for next time
        wanted.discard(message_id)
        batch.append((frame, generation))
        if len(batch) >= REDRIVE_BATCH or not wanted:
            yield batch
            batch = []
        if not wanted:
            return
    if batch:
        yield batch


def _move(link: StompLink, data_queue: str, batch: list[tuple[Frame, int]]) -> int:
    letters = [_to_dead_letter(frame) for frame, _ in batch]
    tx = link.begin()
    now_ms = int(time.time() * 1000)
    messages = [(data_queue, letter.body, redrive_headers(letter.headers, now_ms)) for letter in letters]
    link.send_many(messages, transaction=tx)
    link.commit(tx)
    for generation in {generation for _, generation in batch}:
        link.ack_many([ack_id(frame) for frame, g in batch if g == generation], generation)
    return len(batch)
