"""Consumes alert events and mails each one exactly once per event id (as far as SMTP allows).

Per message: parse -> look up the sent record -> claim -> render -> SMTP -> mark sent -> ACK.
ACK only after the SMTP server accepted and the record says `sent` (or the event is in the DLQ and the
record says `dead-lettered`), so a crash anywhere before the ACK means redelivery, and a redelivered
event whose record says `sent`/`dead-lettered` is acked without a mail.

SMTP unreachable, timing out or answering 4xx is retried with backoff for `MAILER_GIVE_UP_AFTER`
(counted from the claim, so a restart does not reset it) while the message stays unacked; a 5xx goes to
the DLQ at once. The waiting happens on the main thread: stomp.py's receiver and heartbeat threads keep
running, so the link stays up. Messages are handled one at a time, in queue order (prefetch 1), so an
episode's resolution is never mailed before its fired mail got its outcome.

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
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from elasticsearch import Elasticsearch
from prometheus_client import Counter
from pydantic import ValidationError
from stomp.utils import Frame

from alerts.durations import format_duration
from alerts.events import AlertEvent
from alerts.mailer.recipients import RecipientBook
from alerts.mailer.render import FOLLOW_UP_KINDS, FirstMail, LateDelivery, build_message, message_id
from alerts.mailer.sent_store import DEAD_LETTERED, SENT, SentRecord, SentStore
from alerts.mailer.settings import MailerSettings
from finemeca import naming
from finemeca.config import SmtpSettings, StompSettings
from finemeca.deadletter import dead_letter_headers
from finemeca.errors import StopRequested
from finemeca.logs import get_logger
from finemeca.mail import PermanentSmtpError, TransientSmtpError, deliver
from finemeca.retry import RetryPolicy, retrying
from finemeca.stomp_link import StompLink, ack_id

log = get_logger(__name__)

MAILS = Counter("finemeca_mailer_mails_total", "Alert mails accepted by the SMTP server", ["kind"])
DUPLICATES = Counter("finemeca_mailer_duplicates_total", "Redelivered events acked without a mail")
DEAD_LETTERS = Counter("finemeca_mailer_dead_letters_total", "Events sent to the DLQ", ["reason"])
SUBSCRIPTION_ID = "mailer"
HANDLE_RETRY = RetryPolicy(initial=1.0, cap=30.0)  # ES or ActiveMQ unavailable: until it works or a stop


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
        self.mailing_since: datetime | None = None  # set while one mail is being delivered (or retried)

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
        """Infrastructure errors (ES down ...) are retried with backoff; the message is never dropped.
        A stop request leaves it unacked: the broker redelivers it to the next mailer."""
        try:
            for attempt in retrying(HANDLE_RETRY, stop=self.stop, name="mailer.handle"):
                with attempt:
                    if generation != self.link.generation:
                        return  # from a dropped connection: the broker redelivers it on the new one
                    outcome = self._handle_recording_errors(frame)
        except StopRequested:
            log.info("mailer.stopped_unacked", message_id=frame.headers.get("message-id"))
            return
        if self.settings.hold_before_ack:
            time.sleep(self.settings.hold_before_ack)
        acked = self.link.ack(ack_id(frame), generation)
        self.handled += 1
        log.info("mailer.handled", result=outcome.result, event_id=outcome.event_id, acked=acked)

    def _handle_recording_errors(self, frame: Frame) -> Outcome:
        try:
            outcome = self.handle(frame.body, dict(frame.headers))
        except StopRequested:
            raise
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("mailer.handle_failed", error=self.last_error, exc_info=True)
            raise
        self.last_error = None
        return outcome

    # -- one message ------------------------------------------------------------------------------------
    def handle(self, body: bytes | str, headers: dict[str, Any]) -> Outcome:
        try:
            event = AlertEvent.model_validate_json(body)
        except ValidationError as exc:
            self._dead_letter(body, headers, f"invalid alert event: {exc}", "invalid")
            return Outcome("dead-lettered", headers.get("event-id"))
        record = self.sent.get(event.event_id)
        redriven = naming.REDRIVEN_AT in headers
        if record is not None and (
            record.status == SENT or (record.status == DEAD_LETTERED and not redriven)
        ):
            DUPLICATES.inc()
            log.info("mailer.duplicate_dropped", event_id=event.event_id, status=record.status)
            return Outcome("duplicate", event.event_id)
        recipients = self.book.for_event(event)
        if not recipients:
            reason = (
                f"no recipients for rule {event.rule}: set MAILER_DEFAULT_RECIPIENTS or the recipients file"
            )
            self._dead_letter(body, headers, reason, "no-recipients", event)
            return Outcome("dead-lettered", event.event_id)
        spent = timedelta(0)
        if record is None or redriven:  # a re-driven event starts a fresh give-up clock
            fresh = self.sent.claim(
                event, message_id(event, self.settings.message_id_domain), recipients, redriven
            )
            if not fresh:
                log.warning("mailer.possible_duplicate", event_id=event.event_id, reason="claimed meanwhile")
        else:  # `sending`: a previous run claimed it and died before recording the outcome
            log.warning(
                "mailer.possible_duplicate", event_id=event.event_id, reason="claimed but not marked sent"
            )
            if record.claimed_at is not None:
                spent = datetime.now(UTC) - record.claimed_at  # the give-up clock survives restarts
        first_mail = self._first_mail_status(event)
        late = self._late_delivery(event, record) if redriven else None
        policy = self.settings.retry_policy(spent)

        def compose() -> EmailMessage:  # at each attempt: "ago" and Date are the sending time
            return build_message(
                event, recipients, self.smtp.sender, self.settings, first_mail=first_mail, late=late
            )

        try:
            self.mailing_since = datetime.now(UTC)
            attempts = deliver(compose, self.smtp, policy, self.stop)
        except PermanentSmtpError as exc:
            self._dead_letter(
                body, headers, f"SMTP refused the mail for good: {exc}", "smtp-permanent", event
            )
            return Outcome("dead-lettered", event.event_id)
        except TransientSmtpError as exc:
            reason = (
                f"SMTP still failing after {format_duration(self.settings.give_up_after)} "
                f"(MAILER_GIVE_UP_AFTER), last error: {exc}"
            )
            self._dead_letter(body, headers, reason, "smtp-gave-up", event)
            return Outcome("dead-lettered", event.event_id)
        finally:
            self.mailing_since = None
        self.sent.mark_sent(event.event_id, attempts)
        MAILS.labels(event.kind).inc()
        log.info("mailer.sent", event_id=event.event_id, kind=event.kind, to=recipients, attempts=attempts)
        return Outcome("sent", event.event_id)

    def _first_mail_status(self, event: AlertEvent) -> FirstMail | None:
        """For a reminder or a resolution: what became of the episode's fired mail (None: not relevant)."""
        if event.kind not in FOLLOW_UP_KINDS:
            return None
        record = self.sent.get(event.fired_event_id())
        if record is None:
            return FirstMail("missing")
        if record.status == SENT:
            return FirstMail("sent")
        if record.status == DEAD_LETTERED:
            return FirstMail("dead-lettered", record.reason)
        return FirstMail("unknown")

    def _late_delivery(self, event: AlertEvent, record: SentRecord | None) -> LateDelivery:
        resolved = self.sent.get(event.resolved_event_id()) if event.kind != "resolved" else None
        return LateDelivery(
            reason=record.reason if record else None,
            already_resolved=resolved is not None and resolved.status == SENT,
        )

    def _dead_letter(
        self,
        body: bytes | str,
        headers: dict[str, Any],
        reason: str,
        label: str,
        event: AlertEvent | None = None,
    ) -> None:
        raw = body if isinstance(body, bytes) else body.encode()
        clean = {k: v for k, v in headers.items() if k != naming.REDRIVEN_AT}
        dl_headers = dead_letter_headers(
            reason, "mail", str(headers.get("sensor", "alerts")), self.settings.queue, clean
        )
        self.link.ensure_connected(stop=self.stop)
        self.link.send_confirmed(self.settings.dead_letter_queue, raw, dl_headers)
        if event is not None:  # a redelivery of this message is then acked without a second dead letter
            self.sent.mark_dead_lettered(event.event_id, reason)
        DEAD_LETTERS.labels(label).inc()
        log.error("mailer.dead_lettered", reason=reason, event_id=headers.get("event-id"))

    def health(self) -> dict[str, object]:
        return {
            "ok": self.link.connected and self.last_error is None,
            "handled": self.handled,
            "error": self.last_error,
            # a mail waiting for SMTP for long (server down, 4xx): the queue waits behind it
            "mailing_since": self.mailing_since.isoformat() if self.mailing_since else None,
        }
