"""Dead-letter queue tools: browse, inspect and re-drive messages after the cause was fixed."""

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


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    stage: str
    reason: str
    at: str
    origin: str
    body: bytes
    headers: dict[str, str]


def selector(reason: str | None = None, stage: str | None = None) -> str | None:
    """JMS selector over the dlq_* headers (single quotes doubled, as SQL-92 wants)."""
    clauses = []
    if reason:
        clauses.append(f"{naming.DLQ_REASON} LIKE '%" + reason.replace("'", "''") + "%'")
    if stage:
        clauses.append(f"{naming.DLQ_STAGE} = '" + stage.replace("'", "''") + "'")
    return " AND ".join(clauses) or None


def _to_dead_letter(frame: Frame) -> DeadLetter:
    h = {k: str(v) for k, v in frame.headers.items()}
    body = frame.body if isinstance(frame.body, bytes) else str(frame.body).encode()
    return DeadLetter(
        h.get("message-id", ""),
        h.get(naming.DLQ_STAGE, "?"),
        h.get(naming.DLQ_REASON, "(no reason recorded)"),
        h.get(naming.DLQ_AT, ""),
        h.get(naming.DLQ_ORIGIN, ""),
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
) -> list[DeadLetter]:
    """Look at dead letters without consuming them (STOMP queue browser)."""
    settings = settings or StompSettings()
    headers = {"browser": "true"}
    if sel := selector(reason, stage):
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


def redrive(
    sensor: str,
    settings: StompSettings | None = None,
    reason: str | None = None,
    stage: str | None = None,
    limit: int | None = None,
    idle_timeout: float = 10.0,
) -> int:
    """Move the matching dead letters present now back to the sensor's data queue.

    Only messages seen in a browse taken first are moved, so a message that fails again and
    returns to the DLQ is not re-driven in a loop. Each one is re-sent in a confirmed transaction
    before its DLQ copy is acked: a crash re-drives it twice at worst, which the ingestor's
    deterministic ids make harmless.
    """
    settings = settings or StompSettings()
    wanted = {d.message_id for d in browse(sensor, settings, reason, stage, limit or 1_000_000, idle_timeout)}
    if not wanted:
        return 0
    headers = {"activemq.prefetchSize": "1"}
    if sel := selector(reason, stage):
        headers["selector"] = sel
    data_queue = naming.data_queue(sensor, settings.queue_prefix)
    link, frames = _receive(
        settings,
        naming.dead_letter_queue(sensor, settings.queue_prefix),
        headers,
        "client-individual",
        idle_timeout,
    )
    moved = 0
    try:
        for frame, generation in frames:
            letter = _to_dead_letter(frame)
            if letter.message_id not in wanted:
                break  # arrived after the snapshot (maybe one we just re-drove): leave it for next time
            headers = redrive_headers(letter.headers, int(time.time() * 1000))
            link.send_confirmed(data_queue, letter.body, headers)
            link.ack(ack_id(frame), generation)
            wanted.discard(letter.message_id)
            moved += 1
            if not wanted:
                break
    finally:
        link.close()
    return moved
