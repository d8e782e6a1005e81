"""SMTP sink: every message received on 127.0.0.1:1025 is stored as one `.eml` file (atomic write).

Run: `python -m tools.stack.smtp_server --dir var/stack/mail --port 1025`
(`finemeca stack up` does it). The envelope is kept in `X-Envelope-From` / `X-Envelope-To` headers
prepended to the message, so Bcc recipients are visible. With `--auth-user/--auth-password`
(secure mode), AUTH LOGIN/PLAIN is required.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


class MaildirHandler:
    """aiosmtpd handler writing `<epoch-ns>-<uuid>.eml` into `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        path = self.store(envelope_headers + content)
        print(f"stored {path.name}: from {envelope.mail_from} to {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"

    def store(self, raw: bytes) -> Path:
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(raw)
        final = self.directory / name
        os.replace(tmp, final)  # readers never see a half-written message
        return final


class StaticAuthenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


def build_controller(
    directory: Path, host: str, port: int, auth_user: str | None = None, auth_password: str | None = None
) -> Controller:
    options: dict[str, Any] = {}
    if auth_user and auth_password:
        options.update(
            authenticator=StaticAuthenticator(auth_user, auth_password),
            auth_required=True,
            auth_require_tls=False,  # loopback only; TLS belongs to the secure-mode TODO
        )
    return Controller(
        MaildirHandler(directory), hostname=host, port=port, data_size_limit=50 * 1024 * 1024, **options
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("var/stack/mail"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--auth-user", default=os.environ.get("STACK_SMTP_USER"))
    parser.add_argument("--auth-password", default=os.environ.get("STACK_SMTP_PASSWORD"))
    args = parser.parse_args(argv)

    controller = build_controller(args.dir, args.host, args.port, args.auth_user, args.auth_password)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    print(f"smtp sink listening on {args.host}:{args.port}, storing into {args.dir.resolve()}", flush=True)
    stop.wait()
    controller.stop()
    print("smtp sink stopped", flush=True)


if __name__ == "__main__":
    main()
