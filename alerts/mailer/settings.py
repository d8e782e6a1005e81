"""Mailer settings (env prefix `MAILER_`); SMTP itself comes from SMTP_* (finemeca.config.SmtpSettings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from finemeca import naming


class MailerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILER_", extra="ignore")

    queue: str = naming.alerts_queue()
    dead_letter_queue: str = naming.alerts_dead_letter_queue()
    sent_index: str = naming.alerts_sent_index()
    dashboard_url: str = Field(
        default="http://localhost:5601", description="Kibana base URL used in mail links"
    )
    recipients_file: Path | None = Field(
        default=None,
        description="YAML: {default: [..], customers: {<customer>: [..]}, rules: {<rule>: [..]}}",
    )
    default_recipients: str = Field(default="", description="comma-separated; used when nothing else matches")
    max_attempts: int = Field(default=5, ge=1, description="SMTP attempts before the event goes to the DLQ")
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    message_id_domain: str = "alerts.finemeca.example"
    timezone: str = Field(default="Europe/Brussels", description="zone of the times shown in mails")
    hold_before_ack: float = Field(
        default=0.0, description="fault-injection aid for tests: seconds to wait between recording and ack"
    )

    def default_list(self) -> list[str]:
        return [a.strip() for a in self.default_recipients.split(",") if a.strip()]
