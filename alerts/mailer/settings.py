"""Mailer settings (env prefix `MAILER_`); SMTP itself comes from SMTP_* (finemeca.config.SmtpSettings)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.durations import Duration
from finemeca import naming
from finemeca.retry import RetryPolicy

LOCAL_KIBANA = "http://localhost:5601"  # development default, refused in production


class MailerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILER_", extra="ignore", populate_by_name=True)

    # Names follow the stack-wide prefixes (STOMP_QUEUE_PREFIX, ES_INDEX_PREFIX) unless set explicitly.
    queue_prefix: str = Field(
        default=naming.DEFAULT_PREFIX,
        validation_alias=AliasChoices("MAILER_QUEUE_PREFIX", "STOMP_QUEUE_PREFIX"),
    )
    index_prefix: str = Field(
        default=naming.DEFAULT_PREFIX,
        validation_alias=AliasChoices("MAILER_INDEX_PREFIX", "ES_INDEX_PREFIX"),
    )
    queue: str = Field(default="", description="default /queue/<queue_prefix>.alerts")
    dead_letter_queue: str = Field(default="", description="default /queue/DLQ.<queue_prefix>.alerts")
    sent_index: str = Field(default="", description="default <index_prefix>-alerts-sent")
    dashboard_url: str = Field(
        default="",
        validation_alias=AliasChoices("MAILER_DASHBOARD_URL", "KIBANA_PUBLIC_URL"),
        description="Kibana address the mail readers open (KIBANA_PUBLIC_URL); required in production",
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

    @model_validator(mode="after")
    def _names_and_dashboard_url(self) -> MailerSettings:
        self.queue = self.queue or naming.alerts_queue(self.queue_prefix)
        self.dead_letter_queue = self.dead_letter_queue or naming.alerts_dead_letter_queue(self.queue_prefix)
        self.sent_index = self.sent_index or naming.alerts_sent_index(self.index_prefix)
        production = os.environ.get("FINEMECA_REQUIRE_SECRETS") == "1"
        if not self.dashboard_url:
            if production:
                raise ValueError(
                    "KIBANA_PUBLIC_URL is required: the address people open Kibana at "
                    "(e.g. https://kibana.example.com), used by the links in alert mails"
                )
            self.dashboard_url = LOCAL_KIBANA
        host = urlsplit(self.dashboard_url).hostname or ""
        if production and host in {"localhost", "127.0.0.1", "::1"}:
            raise ValueError(
                f"KIBANA_PUBLIC_URL={self.dashboard_url} points at the mail reader's own machine: "
                "set the address people open Kibana at"
            )
        return self

    def retry_policy(self, already_spent: timedelta = timedelta(0)) -> RetryPolicy:
        """SMTP backoff for one event that has already been tried for `already_spent`."""
        remaining = max(0.0, (self.give_up_after - already_spent).total_seconds())
        return RetryPolicy(initial=self.backoff_initial, cap=self.backoff_max, max_age=remaining)

    def default_list(self) -> list[str]:
        return [a.strip() for a in self.default_recipients.split(",") if a.strip()]
