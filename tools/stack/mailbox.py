"""Read the `.eml` files the SMTP sink stores (tests, `finemeca stack mail`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from tools.stack.settings import StackSettings


def default_mail_dir() -> Path:
    return StackSettings().service_dir("mail")


def message_files(directory: Path | None = None) -> list[Path]:
    """Stored messages, oldest first (file names start with the receive time in ns)."""
    directory = directory or default_mail_dir()
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.eml"))


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    return message


def list_messages(directory: Path | None = None) -> list[EmailMessage]:
    return [read_message(path) for path in message_files(directory)]


def clear(directory: Path | None = None) -> int:
    files = message_files(directory)
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


def wait_for_message(
    match: Callable[[EmailMessage], bool],
    directory: Path | None = None,
    timeout: float = 10.0,
) -> EmailMessage:
    """First stored message for which `match` is true; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for message in list_messages(directory):
            if match(message):
                return message
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no matching mail in {directory or default_mail_dir()} after {timeout:.0f}s")
        time.sleep(0.1)
