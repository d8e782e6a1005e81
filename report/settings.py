"""Report settings (env prefix `REPORT_`); SMTP from SMTP_*, Elasticsearch from ES_* (finemeca.config)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from finemeca import naming

PACKAGED_CONFIG = Path(__file__).parent / "report.yml"


class ReportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORT_", extra="ignore", populate_by_name=True)

    index_prefix: str = Field(
        default=naming.DEFAULT_PREFIX, validation_alias=AliasChoices("REPORT_INDEX_PREFIX", "ES_INDEX_PREFIX")
    )
    config: Path = Field(default=PACKAGED_CONFIG, description="YAML: customers, recipients, cost model")
    sent_index: str = Field(default="", description="default <index_prefix>-report-sent")
    sender: str = Field(default="", description="default SMTP_SENDER")
    message_id_domain: str = "report.finemeca.example"
    silent_after_minutes: int = Field(60, ge=1, description="a device quiet this long at week end is silent")
    air_interval_s: float = Field(60.0, gt=0, description="expected seconds between two air readings")
    centrale_interval_s: float = Field(900.0, gt=0, description="expected seconds between two meter readings")
    max_episodes_per_line: int = Field(500, ge=1, description="a flapping line stops being followed here")
    loop_interval_s: float = Field(3600.0, gt=0, description="`weekly --loop`: seconds between two runs")

    def sent_index_name(self) -> str:
        return self.sent_index or f"{self.index_prefix}-report-sent"

    def expected_interval_s(self, sensor: str) -> float:
        return {"air": self.air_interval_s, "centrale": self.centrale_interval_s}.get(
            sensor, self.air_interval_s
        )
