"""Consumes alert events and mails each one exactly once per event id (as far as SMTP allows).

Per message: parse -> look up the sent record -> claim -> render -> SMTP (retries) -> mark sent -> ACK.
ACK only after the SMTP server accepted and the record says `sent`, so a crash anywhere before the ACK
means redelivery, and a redelivered event whose record says `sent` is acked without a mail.

The crash window between "SMTP accepted" and "record marked sent" cannot be closed without a
transactional mail server. We choose at-least-once there: a record still `sending` at redelivery is
mailed again (logged as `mailer.possible_duplicate`), with the same Message-ID so mail clients can
fold the copies. The alternative (never resend a claimed event) would lose the mail whenever the
process died *before* SMTP accepted, which is the wider window.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch
from prometheus_client import Counter
from pydantic import ValidationError
from stomp.utils import Frame

from alerts.events import AlertEvent
from alerts.mailer.recipients import RecipientBook
from alerts.mailer.render import build_message, message_id
from alerts.mailer.sent_store import SentStore
from alerts.mailer.settings import MailerSettings
from finemeca.config import SmtpSettings, StompSettings
from finemeca.deadletter import dead_letter_headers
from finemeca.logs import get_logger
from finemeca.mail import send_with_retries
from finemeca.stomp_link import StompLink, ack_id

log = get_logger(__name__)

MAILS = Counter("finemeca_mailer_mails_total", "Alert mails accepted by the SMTP server", ["kind"])
DUPLICATES = Counter("finemeca_mailer_duplicates_total", "Redelivered events acked without a mail")
DEAD_LETTERS = Counter("finemeca_mailer_dead_letters_total", "Events sent to the DLQ", ["reason"])
SUBSCRIPTION_ID = "mailer"


@dataclass
class Outcome:
    result: str  # sent | duplicate | dead-lettered
    event_id: str | None = None


class Mailer:
    def __init__(
        self,
        es: Elasticsearch,
        settings: MailerSettings | None = None,
        smtp: SmtpSettings | None = None,
        stomp_settings: StompSettings | None = None,
    ) -> None:
        self.settings = settings or MailerSettings()
        self.smtp = smtp or SmtpSettings()
        self.sent = SentStore(es, self.settings.sent_index)
        self.book = RecipientBook.load(self.settings.recipients_file, self.settings.default_list())
        self.link = StompLink(
            stomp_settings or StompSettings(), client_name="mailer", on_message=self._enqueue
        )
        self.inbox: queue.Queue[tuple[Frame, int]] = queue.Queue()
        self.stop = threading.Event()
        self.handled = 0
        self.last_error: str | None = None

    def _enqueue(self, frame: Frame, generation: int) -> None:
        self.inbox.put((frame, generation))  # handled on the main thread: the receiver stays responsive

    # -- loop -------------------------------------------------------------------------------------------
    def run(self, max_messages: int | None = None, idle_exit: float | None = None) -> None:
        """Consume until stopped (or `max_messages` handled / `idle_exit` seconds without a message)."""
        self.sent.ensure()
        self.link.subscribe(
            self.settings.queue,
            SUBSCRIPTION_ID,
            ack="client-individual",
            headers={"activemq.prefetchSize": "1"},
        )
        idle_since = time.monotonic()
        try:
            while not self.stop.is_set():
                if max_messages is not None and self.handled >= max_messages:
                    return
                self.link.ensure_connected(stop=self.stop)
                try:
                    frame, generation = self.inbox.get(timeout=0.2)
                except queue.Empty:
                    if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                        return
                    continue
                self._handle_until_done(frame, generation)
                idle_since = time.monotonic()
        finally:
            self.link.close()

    def _handle_until_done(self, frame: Frame, generation: int) -> None:
        """Infrastructure errors (ES down ...) are retried with backoff; the message is never dropped."""
        delay = 1.0
        while not self.stop.is_set():
            try:
                outcome = self.handle(frame.body, dict(frame.headers))
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("mailer.handle_failed", error=self.last_error, retry_in=delay, exc_info=True)
                if self.stop.wait(delay) or generation != self.link.generation:
                    return  # the broker will redeliver it on the new connection
                delay = min(30.0, delay * 2)
                continue
            if self.settings.hold_before_ack:
                time.sleep(self.settings.hold_before_ack)
            acked = self.link.ack(ack_id(frame), generation)
            self.handled += 1
            self.last_error = None
            log.info("mailer.handled", result=outcome.result, event_id=outcome.event_id, acked=acked)
            return

    # -- one message ------------------------------------------------------------------------------------
    def handle(self, body: bytes | str, headers: dict[str, Any]) -> Outcome:
        try:
            event = AlertEvent.model_validate_json(body)
        except ValidationError as exc:
            self._dead_letter(body, headers, f"invalid alert event: {exc}", "invalid")
            return Outcome("dead-lettered", headers.get("event-id"))
        status = self.sent.status(event.event_id)
        if status == "sent":
            DUPLICATES.inc()
            log.info("mailer.duplicate_dropped", event_id=event.event_id)
            return Outcome("duplicate", event.event_id)
        recipients = self.book.for_event(event)
        if not recipients:
            self._dead_letter(body, headers, f"no recipients for rule {event.rule}", "no-recipients")
            return Outcome("dead-lettered", event.event_id)
        msg_id = message_id(event, self.settings.message_id_domain)
        if status == "sending" or not self.sent.claim(event, msg_id, recipients):
            log.warning(
                "mailer.possible_duplicate", event_id=event.event_id, reason="claimed but not marked sent"
            )
        message = build_message(event, recipients, self.smtp.sender, self.settings)
        try:
            attempts = send_with_retries(
                message,
                self.smtp,
                self.settings.max_attempts,
                self.settings.backoff_initial,
                self.settings.backoff_max,
            )
        except Exception as exc:
            self._dead_letter(body, headers, f"SMTP failed: {type(exc).__name__}: {exc}", "smtp")
            return Outcome("dead-lettered", event.event_id)
        self.sent.mark_sent(event.event_id, attempts)
        MAILS.labels(event.kind).inc()
        log.info("mailer.sent", event_id=event.event_id, kind=event.kind, to=recipients, attempts=attempts)
        return Outcome("sent", event.event_id)

    def _dead_letter(self, body: bytes | str, headers: dict[str, Any], reason: str, label: str) -> None:
        raw = body if isinstance(body, bytes) else body.encode()
        dl_headers = dead_letter_headers(
            reason, "mail", str(headers.get("sensor", "alerts")), self.settings.queue, headers
        )
        self.link.ensure_connected(stop=self.stop)
        self.link.send_confirmed(self.settings.dead_letter_queue, raw, dl_headers)
        DEAD_LETTERS.labels(label).inc()
        log.error("mailer.dead_lettered", reason=reason, event_id=headers.get("event-id"))

    def health(self) -> dict[str, object]:
        return {
            "ok": self.link.connected and self.last_error is None,
            "handled": self.handled,
            "error": self.last_error,
        }
