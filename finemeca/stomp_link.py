"""A STOMP 1.2 link to ActiveMQ that reconnects with backoff and restores its subscriptions.

stomp.py does not resubscribe after a dropped connection; this wrapper does. Every connection has a
`generation`: message ids received on an older generation can no longer be acknowledged (the broker
redelivers those messages), so consumers tag what they receive and skip stale acks.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import stomp
from stomp.utils import Frame, convert_frame, pack

from finemeca.config import StompSettings
from finemeca.errors import StopRequested, TransientError
from finemeca.logs import get_logger
from finemeca.retry import RetryPolicy, describe, retrying

log = get_logger(__name__)

MessageHandler = Callable[[Frame, int], None]


class StompUnavailableError(TransientError):
    """The broker could not be reached or did not confirm an operation in time."""


@dataclass
class _Subscription:
    destination: str
    sub_id: str
    ack: str
    headers: dict[str, str] = field(default_factory=dict)


class _Listener(stomp.ConnectionListener):
    def __init__(self, link: StompLink) -> None:
        self.link = link

    def on_message(self, frame: Frame) -> None:
        if self.link.on_message is not None:
            self.link.on_message(frame, self.link.generation)

    def on_receipt(self, frame: Frame) -> None:
        self.link._receipt_arrived(frame.headers.get("receipt-id", ""))

    def on_error(self, frame: Frame) -> None:
        log.warning("stomp.error_frame", message=frame.headers.get("message"), body=str(frame.body)[:500])
        self.link._receipt_failed(frame.headers.get("receipt-id"))

    def on_disconnected(self) -> None:
        self.link._mark_disconnected()


class StompLink:
    """Reconnecting STOMP connection: send, transactions confirmed by receipts, subscriptions, acks."""

    def __init__(
        self,
        settings: StompSettings,
        client_name: str,
        on_message: MessageHandler | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.settings = settings
        self.client_name = client_name
        self.on_message = on_message
        self.max_backoff = max_backoff
        self.generation = 0
        self._conn: stomp.Connection12 | None = None
        self._subscriptions: dict[str, _Subscription] = {}
        self._receipts: dict[str, threading.Event] = {}
        self._failed_receipts: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._reconnecting = threading.Lock()
        self._connected = threading.Event()

    # -- connection -------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set() and self._conn is not None and self._conn.is_connected()

    def ensure_connected(
        self, stop: threading.Event | None = None, give_up_after: float | None = None
    ) -> None:
        """Connect (or reconnect and resubscribe) with the shared backoff until it works.

        Raises `StopRequested` if `stop` is set meanwhile, `StompUnavailableError` after `give_up_after`
        seconds without a connection."""
        if self.connected:
            return
        policy = RetryPolicy(initial=0.5, cap=self.max_backoff, max_age=give_up_after)
        fields = {"brokers": self.settings.describe()}
        started = time.monotonic()
        try:
            for attempt in retrying(policy, stop=stop, name="stomp.connect", log_fields=fields):
                with attempt, self._reconnecting:  # several threads may notice the drop: one reconnects
                    if not self.connected:
                        self._connect_once()
        except StopRequested:
            raise
        except Exception as exc:
            raise StompUnavailableError(
                f"ActiveMQ STOMP at {self.settings.describe()} unreachable for "
                f"{time.monotonic() - started:.0f}s ({describe(exc)}): check that the broker is up and reachable "
                f"from this host, and the STOMP_HOST/STOMP_PORT (or STOMP_HOSTS)/STOMP_USERNAME settings"
            ) from exc

    def _connect_once(self) -> None:
        with self._lock:
            self._drop_connection()
            hb = self.settings.heartbeat_ms
            conn = stomp.Connection12(
                self.settings.hosts(),
                heartbeats=(hb, hb),
                heart_beat_receive_scale=self.settings.heartbeat_grace,
                auto_decode=False,
                reconnect_attempts_max=1,
                timeout=10,
            )
            if self.settings.tls:
                conn.set_ssl(
                    for_hosts=self.settings.hosts(),
                    ca_certs=str(self.settings.ca_file) if self.settings.ca_file else None,
                )
            conn.set_listener("link", _Listener(self))
            password = self.settings.password.get_secret_value() if self.settings.password else None
            conn.connect(
                self.settings.username,
                password,
                wait=True,
                headers={"client-id": f"{self.client_name}-{random.getrandbits(32):08x}"},
            )
            self._conn = conn
            self.generation += 1
            self._connected.set()
            for sub in self._subscriptions.values():
                conn.subscribe(sub.destination, sub.sub_id, ack=sub.ack, headers=dict(sub.headers))
            log.info(
                "stomp.connected",
                broker=conn.transport.current_host_and_port,
                generation=self.generation,
                subscriptions=len(self._subscriptions),
            )

    def _drop_connection(self) -> None:
        self._connected.clear()
        if self._conn is not None:
            try:
                if self._conn.is_connected():
                    self._conn.disconnect()
            except Exception:  # already broken: nothing to tell the broker
                pass
            self._conn = None

    def _mark_disconnected(self) -> None:
        if self._connected.is_set():
            log.warning("stomp.disconnected", host=self.settings.host, generation=self.generation)
        self._connected.clear()
        for event in list(self._receipts.values()):
            event.set()  # wake waiters: they see the receipt missing and fail

    def close(self) -> None:
        with self._lock:
            self._subscriptions.clear()
            self._drop_connection()

    # -- operations -------------------------------------------------------------------------------------
    def _require(self) -> stomp.Connection12:
        conn = self._conn
        if conn is None or not self._connected.is_set():
            raise StompUnavailableError("not connected to ActiveMQ")
        return conn

    def subscribe(
        self,
        destination: str,
        sub_id: str,
        ack: str = "client-individual",
        headers: dict[str, str] | None = None,
    ) -> None:
        sub = _Subscription(destination, sub_id, ack, dict(headers or {}))
        self._subscriptions[sub_id] = sub
        if self.connected:
            self._require().subscribe(destination, sub_id, ack=ack, headers=dict(sub.headers))

    def unsubscribe(self, sub_id: str) -> None:
        self._subscriptions.pop(sub_id, None)
        if self.connected:
            self._require().unsubscribe(sub_id)

    def send(
        self, destination: str, body: bytes, headers: dict[str, Any], transaction: str | None = None
    ) -> None:
        all_headers = {"persistent": "true", **headers}
        if transaction:
            all_headers["transaction"] = transaction
        self._require().send(destination, body, headers=all_headers)

    def send_many(
        self, messages: Iterable[tuple[str, bytes, dict[str, Any]]], transaction: str | None = None
    ) -> None:
        """Send persistent messages as frames written to the socket at once (one syscall, not one per
        message). Frames are built by stomp.py's own encoder; only the header escaping is repeated here."""
        conn = self._require()
        frames = []
        for destination, body, headers in messages:
            all_headers = {"persistent": "true", **headers, "destination": destination}
            if transaction:
                all_headers["transaction"] = transaction
            all_headers = {key: _escape(str(value)) for key, value in all_headers.items()}
            all_headers["content-length"] = str(len(body))
            frames.append(pack(convert_frame(Frame("SEND", all_headers, body))))
        if frames:
            conn.transport.send(b"".join(frames))

    def begin(self) -> str:
        tx = f"{self.client_name}-tx-{self.generation}-{next(self._ids)}"
        self._require().begin(transaction=tx)
        return tx

    def abort(self, transaction: str) -> None:
        if self.connected:
            try:
                self._require().abort(transaction)
            except Exception as exc:
                log.warning("stomp.abort_failed", transaction=transaction, error=str(exc))

    def commit(self, transaction: str, timeout: float = 30.0) -> None:
        """Commit and wait for the broker's receipt: only then is the transaction durable."""
        receipt = f"{transaction}-commit"
        event = self._receipts[receipt] = threading.Event()
        try:
            self._require().commit(transaction, headers={"receipt": receipt})
            if not event.wait(timeout) or receipt in self._failed_receipts or not self.connected:
                # outcome unknown: drop the connection so the broker rolls the transaction back instead
                # of holding its messages while the caller retries them in a new one (a redelivered
                # duplicate is harmless, a pile of open transactions is not)
                with self._lock:
                    self._drop_connection()
                raise StompUnavailableError(
                    f"no commit receipt from ActiveMQ for {transaction} within {timeout}s"
                )
        finally:
            self._receipts.pop(receipt, None)
            self._failed_receipts.discard(receipt)

    def send_confirmed(
        self, destination: str, body: bytes, headers: dict[str, Any], timeout: float = 30.0
    ) -> None:
        """Send one persistent message and wait for the broker's receipt."""
        tx = self.begin()
        try:
            self.send(destination, body, headers, transaction=tx)
        except Exception:
            self.abort(tx)
            raise
        self.commit(tx, timeout)

    def ack(self, message_id: str, generation: int) -> bool:
        """Acknowledge one message; returns False (and does nothing) if it came from an older connection."""
        if generation != self.generation or not self.connected:
            return False
        self._require().ack(message_id)
        return True

    def ack_many(self, message_ids: list[str], generation: int) -> bool:
        """Acknowledge several messages in one socket write; False (nothing sent) if from an older connection."""
        if generation != self.generation or not self.connected:
            return False
        frames = [pack(convert_frame(Frame("ACK", {"id": _escape(i)}))) for i in message_ids]
        if frames:
            self._require().transport.send(b"".join(frames))
        return True

    def nack(self, message_id: str, generation: int) -> bool:
        if generation != self.generation or not self.connected:
            return False
        self._require().nack(message_id)
        return True

    def _receipt_arrived(self, receipt_id: str) -> None:
        event = self._receipts.get(receipt_id)
        if event is not None:
            event.set()

    def _receipt_failed(self, receipt_id: str | None) -> None:
        if receipt_id and receipt_id in self._receipts:
            self._failed_receipts.add(receipt_id)
            self._receipts[receipt_id].set()


def _escape(value: str) -> str:
    """STOMP 1.2 header value escaping (as stomp.py's Protocol12 does before encoding a frame)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\c").replace("\r", "\\r")


def ack_id(frame: Frame) -> str:
    """The id to ACK/NACK a MESSAGE with: STOMP 1.2 uses the `ack` header, older brokers the message-id."""
    return str(frame.headers.get("ack") or frame.headers["message-id"])
