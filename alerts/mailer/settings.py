"""Mailer settings (env prefix `MAILER_`); SMTP itself comes from SMTP_* (finemeca.config.SmtpSettings)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.durations import Duration
from finemeca import naming
from finemeca.retry import RetryPolicy


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
    give_up_after: Duration = Field(
        default=timedelta(hours=6),
        description="transient SMTP failures (refused, timeout, 4xx) are retried this long per event, "
        "counted from its first attempt (a restart does not reset it), then it goes to the DLQ",
    )
    backoff_initial: float = Field(default=1.0, gt=0, description="seconds; full-jitter exponential backoff")
    backoff_max: float = Field(default=60.0, gt=0, description="cap of one wait between SMTP attempts")
    message_id_domain: str = "alerts.finemeca.example"
    timezone: str = Field(default="Europe/Brussels", description="zone of the times shown in mails")
    hold_before_ack: float = Field(
        default=0.0, description="fault-injection aid for tests: seconds to wait between recording and ack"
    )

    def retry_policy(self, already_spent: timedelta = timedelta(0)) -> RetryPolicy:
        """SMTP backoff for one event that has already been tried for `already_spent`."""
        remaining = max(0.0, (self.give_up_after - already_spent).total_seconds())
        return RetryPolicy(initial=self.backoff_initial, cap=self.backoff_max, max_age=remaining)

    def default_list(self) -> list[str]:
        return [a.strip() for a in self.default_recipients.split(",") if a.strip()]
