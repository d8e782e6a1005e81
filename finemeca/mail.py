"""SMTP delivery shared by the alert mailer and the weekly report (smtplib): plain, STARTTLS or implicit
TLS, optional auth.

Every failure is classified: a 5xx reply is permanent (`PermanentSmtpError`: the event goes to the DLQ at
once); connection errors, timeouts, a dropped session and 4xx replies are transient (`TransientSmtpError`)
and `deliver` retries them with the project's backoff (`finemeca.retry`) until the server answers, a stop
is requested, or the policy's age is exhausted.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage

from finemeca.config import SmtpSettings
from finemeca.errors import PermanentError, TransientError
from finemeca.logs import get_logger
from finemeca.retry import RetryPolicy, retrying

log = get_logger(__name__)


class PermanentSmtpError(PermanentError):
    """The server refused for good (5xx): retrying would not help."""


class TransientSmtpError(TransientError):
    """The server is unreachable, timed out, dropped the session or answered 4xx: retry later."""


def classify(exc: Exception, server: str) -> PermanentSmtpError | TransientSmtpError:
    """The error to raise for an smtplib/socket failure talking to `server`."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = f"{server} refused every recipient: {exc.recipients}"
        permanent = codes and all(500 <= c < 600 for c in codes)
        return PermanentSmtpError(text) if permanent else TransientSmtpError(text)
    if isinstance(exc, smtplib.SMTPResponseException):
        error = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        text = f"{server} answered {exc.smtp_code} {error}"
        return PermanentSmtpError(text) if 500 <= exc.smtp_code < 600 else TransientSmtpError(text)
    return TransientSmtpError(f"{server}: {type(exc).__name__}: {exc}")


def send_once(message: EmailMessage, settings: SmtpSettings) -> None:
    """Deliver one message; returns once the server accepted it (raises a classified error otherwise)."""
    server = f"SMTP {settings.host}:{settings.port}"
    try:
        _send(message, settings)
    except (OSError, smtplib.SMTPException) as exc:  # socket errors and timeouts are OSError
        raise classify(exc, server) from exc


def _send(message: EmailMessage, settings: SmtpSettings) -> None:
    context = ssl.create_default_context()
    if settings.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.username and settings.password:
            client.login(settings.username, settings.password.get_secret_value())
        refused = client.send_message(message)
        if refused:
            log.warning("smtp.recipients_refused", refused=list(refused))


def deliver(
    compose: Callable[[], EmailMessage],
    settings: SmtpSettings,
    policy: RetryPolicy,
    stop: threading.Event | None = None,
    name: str = "mailer.smtp",
) -> int:
    """Send `compose()` (re-composed at each attempt), retrying transient failures per `policy`;
    returns the attempts used; retries are logged as `<name>.retry`.

    Raises `PermanentSmtpError` at once, the last `TransientSmtpError` when the policy gives up, or
    `StopRequested` when `stop` is set while waiting.
    """
    attempts = 0
    for attempt in retrying(policy, stop=stop, retry_on=(TransientSmtpError,), name=name):
        with attempt:
            attempts = attempt.retry_state.attempt_number
            send_once(compose(), settings)
    return attempts
