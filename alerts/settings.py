"""Alert job settings (env prefix `ALERTS_`). Index and queue names are overridable so tests never collide."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.durations import Duration
from finemeca import naming


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore", populate_by_name=True)

    rules_dirs: str = Field(
        default="", description=f"extra rule directories or files, separated by '{os.pathsep}'"
    )
    sensors: str = Field(
        default="", description="comma-separated sensors whose default rules load; empty = all"
    )
    no_default_rules: bool = Field(
        default=False, description="ignore the rules.yml shipped in sensors/<name>/"
    )
    data_index: str = Field(
        default="{prefix}-{sensor}-data", description="index/alias a rule reads; {prefix} and {sensor} expand"
    )
    # The stack-wide prefixes (ES_INDEX_PREFIX, STOMP_QUEUE_PREFIX) name the job's indices and queue,
    # so the Elasticsearch and ActiveMQ roles of a non-default prefix grant them; ALERTS_* overrides.
    index_prefix: str = Field(
        default=naming.DEFAULT_PREFIX,
        validation_alias=AliasChoices("ALERTS_INDEX_PREFIX", "ES_INDEX_PREFIX"),
    )
    queue_prefix: str = Field(
        default=naming.DEFAULT_PREFIX,
        validation_alias=AliasChoices("ALERTS_QUEUE_PREFIX", "STOMP_QUEUE_PREFIX"),
    )
    state_index: str = Field(default="", description="default <index_prefix>-alerts-state")
    history_index: str = Field(default="", description="default <index_prefix>-alerts-history")
    queue: str = Field(default="", description="default /queue/<queue_prefix>.alerts")
    interval: Duration = timedelta(seconds=30)
    ingest_delay: Duration = Field(
        default=timedelta(seconds=30),
        description="evaluate up to now - delay so late documents are not missed",
    )
    catch_up_step: Duration = Field(
        default=timedelta(minutes=5), description="window size used when replaying a missed range in order"
    )
    first_lookback: Duration = Field(
        default=timedelta(minutes=10), description="where a brand-new rule starts (no watermark yet)"
    )
    max_catch_up: Duration = Field(
        default=timedelta(days=7), description="a watermark older than this is moved forward (and logged)"
    )
    page_size: int = Field(default=2000, description="devices per composite-aggregation page")
    top_hits: int = Field(default=20, description="latest readings per device and window (<= 100)")

    @model_validator(mode="after")
    def _names_from_prefixes(self) -> AlertSettings:
        self.state_index = self.state_index or naming.alerts_state_index(self.index_prefix)
        self.history_index = self.history_index or naming.alerts_history_index(self.index_prefix)
        self.queue = self.queue or naming.alerts_queue(self.queue_prefix)
        return self

    def rule_paths(self) -> list[Path]:
        return [Path(p) for p in self.rules_dirs.split(os.pathsep) if p.strip()]

    def sensor_list(self) -> list[str] | None:
        names = [s.strip() for s in self.sensors.split(",") if s.strip()]
        return names or None

    def data_index_for(self, sensor: str) -> str:
        return self.data_index.format(prefix=self.index_prefix, sensor=sensor)
