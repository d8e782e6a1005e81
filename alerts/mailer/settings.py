"""Mailer settings (env prefix `MAILER_`); SMTP itself comes from SMTP_* (finemeca.config.SmtpSettings)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from finemeca import naming

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
    max_attempts: int = Field(default=5, ge=1, description="SMTP attempts before the event goes to the DLQ")
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
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

    def default_list(self) -> list[str]:
        return [a.strip() for a in self.default_recipients.split(",") if a.strip()]
