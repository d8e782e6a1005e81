"""Alert job settings (env prefix `ALERTS_`). Index and queue names are overridable so tests never collide."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.durations import Duration
from finemeca import naming


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore")

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
    index_prefix: str = naming.DEFAULT_PREFIX
    state_index: str = naming.alerts_state_index()
    history_index: str = naming.alerts_history_index()
    queue: str = naming.alerts_queue()
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

    def rule_paths(self) -> list[Path]:
        return [Path(p) for p in self.rules_dirs.split(os.pathsep) if p.strip()]

    def sensor_list(self) -> list[str] | None:
        names = [s.strip() for s in self.sensors.split(",") if s.strip()]
        return names or None

    def data_index_for(self, sensor: str) -> str:
        return self.data_index.format(prefix=self.index_prefix, sensor=sensor)
