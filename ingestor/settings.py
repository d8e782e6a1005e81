"""Ingestor settings (env prefix INGESTOR_), on top of STOMP_* and ES_* from finemeca.config."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingestor.prepare import DEFAULT_CLOCK_SKEW_TOLERANCE_S
from sensors.base import UnknownFields
from sensors.fields import DEFAULT_TIMEZONE


class IngestorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGESTOR_", extra="ignore")

    batch_size: int = Field(
        500,
        ge=1,
        description="documents per _bulk request (1,000 gave the same throughput and 112 MB peak RSS "
        "instead of 96 at full rate: docs/BENCHMARKS.md)",
    )
    batch_timeout_ms: int = Field(
        50, ge=1, description="close a partial batch after this long (below capacity: latency)"
    )
    workers: int = Field(
        2, ge=1, le=16, description="batches in flight at once (a bulk request overlaps the next batch)"
    )
    prefetch: int | None = Field(
        None,
        description="ActiveMQ prefetch (broker messages); default 2 x (workers + 1) envelopes, or (workers + 1) x "
        "batch_size with INGESTOR_ENVELOPES=false",
    )
    envelopes: bool = Field(
        True,
        description="the queue carries gateway envelopes (GATEWAY_ENVELOPE=batch): the default prefetch counts "
        "envelopes; single messages are read either way",
    )
    max_retry_backoff_s: float = Field(30.0, gt=0, description="cap of the retry backoff for 429/5xx")
    stuck_after_s: float = Field(
        120.0, gt=0, description="/healthz turns not-ok when a batch has been in work this long"
    )
    index_replicas: int | None = Field(
        None,
        ge=0,
        description="replicas of the indices; unset: 0 on one node, 1 from two data nodes on "
        "(auto_expand_replicas 0-1)",
    )
    index_shards: int = Field(1, ge=1)
    refresh_interval: str = Field(
        "500ms",
        description="index refresh interval: a document is searchable at most this long after its bulk "
        "(docs/BENCHMARKS.md: 1s put p99 publish -> searchable above 1.2 s)",
    )
    queue_stats_interval_s: float = Field(
        15.0, ge=0, description="how often /metrics reads the depth of the data queue and DLQ (0 = never)"
    )
    queue_depth_sample_s: float = Field(
        30.0,
        ge=0,
        description="how often the depth of the data queue and DLQ is written to the queue-depth index "
        "for the operations dashboard (0 = never)",
    )
    clock_skew_tolerance: float = Field(
        DEFAULT_CLOCK_SKEW_TOLERANCE_S,
        gt=0,
        description="seconds between device time and gateway receive time beyond which a reading is "
        "flagged clock_skewed (kept, counted, not corrected)",
    )
    sensor_timezone: str = Field(
        DEFAULT_TIMEZONE, alias="SENSOR_TIMEZONE", description="zone of device Time (handed to the plugin)"
    )
    unknown_fields: UnknownFields = Field(
        "reject",
        alias="SENSOR_UNKNOWN_FIELDS",
        description="a field the sensor contract does not know: 'reject' (dead-letter) or 'ignore' (drop it)",
    )

    @field_validator("unknown_fields", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.sensor_timezone)

    @property
    def effective_prefetch(self) -> int:
        if self.prefetch:
            return self.prefetch
        # envelopes (up to a gateway transaction each, 1,000 messages by default): enough for every worker to
        # fill a batch while the others' envelopes wait for their acks; more only held memory (12: +6 MB)
        return 2 * (self.workers + 1) if self.envelopes else (self.workers + 1) * self.batch_size
