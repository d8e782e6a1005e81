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
    interval: Duration = Field(default=timedelta(seconds=2), description="time between two cycles")
    timer_interval: Duration = Field(
        default=timedelta(seconds=30), description="how often time-driven rules (silent, gaps) are judged"
    )
    ingest_slack: Duration = Field(
        default=timedelta(seconds=1),
        description="readings are taken up to now - (index refresh interval + this slack), by ingested_at: "
        "the slack covers the ingestor's bulk request after it stamped ingested_at",
    )
    recheck: Duration = Field(
        default=timedelta(minutes=2),
        description="recent slices are recounted each cycle: documents that became searchable after their "
        "slice was evaluated are logged (alerts.late_visible) and counted",
    )
    catch_up_step: Duration = Field(
        default=timedelta(minutes=5),
        description="ingest-time slice used when catching up, each one committed",
    )
    first_lookback: Duration = Field(
        default=timedelta(minutes=10), description="where a brand-new rule starts (no watermark yet)"
    )
    max_catch_up: Duration = Field(
        default=timedelta(days=7),
        description="a watermark older than this is moved forward (logged, counted)",
    )
    late_horizon: Duration = Field(
        default=timedelta(hours=1),
        description="a reading indexed more than this after its device time gives a dated 'occurred' event",
    )
    future_tolerance: Duration = Field(
        default=timedelta(seconds=60),
        description="a device time ahead of the receive time by more than this is judged at the receive time",
    )
    page_size: int = Field(default=2000, description="devices per composite-aggregation page / scroll page")

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
