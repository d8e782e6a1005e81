"""Any dead-letter queue: browse it without consuming, and re-drive messages to where they belong.

Generic over queue names; the engines' `dlq` commands (e.g. `finemeca mailer dlq`) are thin layers that
pick the queues and the headers worth keeping.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass

from stomp.utils import Frame

from finemeca import naming
from finemeca.config import StompSettings
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


def selector(
    reason: str | None = None, stage: str | None = None, message_id: str | None = None
) -> str | None:
    """JMS selector over the dlq_* headers (single quotes doubled, as SQL-92 wants)."""

    def quoted(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    clauses = []
    if reason:
        clauses.append(f"{naming.DLQ_REASON} LIKE " + quoted(f"%{reason}%"))
    if stage:
        clauses.append(f"{naming.DLQ_STAGE} = " + quoted(stage))
    if message_id:
        clauses.append("JMSMessageID = " + quoted(message_id))
    return " AND ".join(clauses) or None


def to_dead_letter(frame: Frame) -> DeadLetter:
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
    dlq: str,
    settings: StompSettings | None = None,
    match: str | None = None,
    limit: int = 100,
    idle_timeout: float = 10.0,
) -> list[DeadLetter]:
    """The first `limit` dead letters of `dlq` matching the `match` selector, left in place."""
    headers = {"browser": "true"}
    if match:
        headers["selector"] = match
    link, frames = _receive(settings or StompSettings(), dlq, headers, "auto", idle_timeout)
    found: list[DeadLetter] = []
    try:
        for frame, _gen in frames:
            if frame.headers.get("browser") == "end":
                break
            found.append(to_dead_letter(frame))
            if len(found) >= limit:
                break
    finally:
        link.close()
    return found


def redrive(
    dlq: str,
    target: str,
    keep_headers: frozenset[str],
    settings: StompSettings | None = None,
    match: str | None = None,
    limit: int | None = None,
    idle_timeout: float = 10.0,
) -> int:
    """Move the matching dead letters present now from `dlq` back to `target`; returns how many.

    Only messages seen in a browse taken first are moved, so one that fails again and returns to the
    DLQ is not re-driven in a loop. Each is re-sent in a confirmed transaction (with `keep_headers` of
    the original and `naming.REDRIVEN_AT`) before its DLQ copy is acked: a crash re-drives it twice at
    worst, which consumers with idempotent ids absorb.
    """
    settings = settings or StompSettings()
    wanted = {d.message_id for d in browse(dlq, settings, match, limit or 1_000_000, idle_timeout)}
    if not wanted:
        return 0
    headers = {"activemq.prefetchSize": "1"}
    if match:
        headers["selector"] = match
    link, frames = _receive(settings, dlq, headers, "client-individual", idle_timeout)
    moved = 0
    try:
        for frame, generation in frames:
            letter = to_dead_letter(frame)
            if letter.message_id not in wanted:
                break  # arrived after the snapshot (maybe one we just re-drove): leave it for next time
            keep = {k: v for k, v in letter.headers.items() if k in keep_headers}
            keep[naming.REDRIVEN_FROM_REASON] = letter.reason[:300]
            keep[naming.REDRIVEN_AT] = str(int(time.time() * 1000))
            link.send_confirmed(target, letter.body, keep)
            link.ack(ack_id(frame), generation)
            wanted.discard(letter.message_id)
            moved += 1
            if not wanted:
                break
    finally:
        link.close()
    return moved
