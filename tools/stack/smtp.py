"""The SMTP sink (`tools.stack.smtp_server`) as a stack service."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tools.stack import probes, secure
from tools.stack.service import Service


class SmtpSink(Service):
    name = "smtp"
    marker = "tools.stack.smtp_server"
    stop_timeout = 10.0

    @property
    def port(self) -> int:
        return self.settings.smtp_port

    @property
    def url(self) -> str:
        return f"smtp://{self.settings.host}:{self.port}"

    @property
    def mail_dir(self) -> Path:  # the mailbox is its own folder so `mail clear` never touches pid/log files
        return self.settings.service_dir("mail")

    def install(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> tuple[list[str], dict[str, str] | None]:
        argv = [sys.executable, "-m", "tools.stack.smtp_server", "--dir", str(self.mail_dir)]
        argv += ["--host", self.settings.host, "--port", str(self.port)]
        if not self.settings.secure:
            return argv, None
        creds = secure.credentials(self.settings)  # through the environment: not visible in `ps`
        return argv, {**os.environ, "STACK_SMTP_USER": creds.username, "STACK_SMTP_PASSWORD": creds.password}

    def probe(self, timeout: float = 2.0) -> bool:
        return probes.smtp_ready(self.settings.host, self.port, timeout)
