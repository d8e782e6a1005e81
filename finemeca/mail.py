"""SMTP delivery shared by the alert mailer and the weekly report (smtplib): plain, STARTTLS or implicit TLS, optional auth; retries transient failures."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

from finemeca.config import SmtpSettings
from finemeca.logs import get_logger

log = get_logger(__name__)


class PermanentSmtpError(RuntimeError):
    """The server refused for good (5xx): retrying would not help."""


def send_once(message: EmailMessage, settings: SmtpSettings) -> None:
    """Deliver one message; returns once the server accepted it for every recipient."""
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
        try:
            refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSmtpError(f"all recipients refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentSmtpError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise
        if refused:
            log.warning("mail.recipients_refused", refused=list(refused))


def send_with_retries(
    message: EmailMessage,
    settings: SmtpSettings,
    attempts: int,
    backoff_initial: float,
    backoff_max: float,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Retry transient failures with exponential backoff; returns the attempts used, raises the last error."""
    delay = backoff_initial
    for attempt in range(1, attempts + 1):
        try:
            send_once(message, settings)
            return attempt
        except PermanentSmtpError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            if attempt == attempts:
                raise
            log.warning("mail.smtp_retry", attempt=attempt, error=str(exc), retry_in=delay)
            sleep(delay)
            delay = min(backoff_max, delay * 2)
    raise AssertionError("unreachable")
