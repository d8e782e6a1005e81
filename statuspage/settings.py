"""Status page configuration (env `STATUS_PAGE_*`; Elasticsearch itself comes from `ES_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from finemeca.naming import DEFAULT_PREFIX, data_index_alias
from sensors.registry import available_sensors


class StatusPageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STATUS_PAGE_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = 8080
    index_prefix: str = Field(default=DEFAULT_PREFIX, description="sensor indices are <prefix>-<sensor>-data")
    air_index: str | None = Field(
        default=None, description="index/alias of air readings; default <prefix>-air-data"
    )
    sensors: list[str] | None = Field(
        default=None, description="sensor kinds listed; default every sensor plugin"
    )
    refresh_seconds: float = Field(
        default=2.0, description="how often Elasticsearch is polled (one poller for all viewers)"
    )
    stale_after_seconds: float = Field(default=300.0, description="a line silent for longer is shown STALE")
    lookback: str = Field(
        default="7d", description="lines silent for longer than this disappear from the page"
    )

    def air_index_name(self) -> str:
        return self.air_index or data_index_alias("air", self.index_prefix)

    def sensor_names(self) -> list[str]:
        if self.sensors is not None:
            return list(self.sensors)

        return list(available_sensors())

    def sensor_index(self, sensor: str) -> str:
        return data_index_alias(sensor, self.index_prefix)
