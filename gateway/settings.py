"""Gateway settings (env prefix GATEWAY_), on top of MQTT_* and STOMP_* from finemeca.config."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from finemeca.deadletter import DEFAULT_MAX_BODY_BYTES


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    client_id: str | None = Field(
        None, description="stable MQTT client id (persistent session); default gateway-<sensor>[-<replica>]"
    )
    replica: str = Field("", description="replica name appended to the default client id (scale-out)")
    shared_group: str | None = Field(
        None, description="MQTT 5 shared-subscription group: replicas with the same group split the load"
    )
    will_delay_s: int = Field(
        2,
        ge=0,
        description="MQTT 5 will delay: a member gone this long is 'offline' and a peer adopts its session",
    )
    drain_timeout_s: float = Field(
        120.0, gt=0, description="longest an adoption waits for an offline member's queue to drain"
    )
    batch_size: int = Field(1000, ge=1, description="messages per STOMP transaction")
    envelope: Literal["batch", "message"] = Field(
        "batch",
        description="'batch': a transaction's messages travel in one broker message (finemeca/envelope.py), "
        "'message': one broker message per MQTT message (for other consumers of the queue)",
    )
    batch_timeout_ms: int = Field(50, ge=1, description="close a partial batch after this long")
    max_inflight: int = Field(
        10_000, ge=1, le=65_535, description="unacked MQTT messages held (MQTT 5 receive maximum)"
    )
    max_message_bytes: int = Field(65_536, ge=64, description="larger messages are dead-lettered")
    dead_letter_max_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES,
        ge=64,
        description="a dead letter keeps the whole body up to this size, beyond it the start only",
    )
    commit_timeout_s: float = Field(30.0, gt=0)
    max_retry_backoff_s: float = Field(
        30.0, gt=0, description="cap of the retry backoff while ActiveMQ is down"
    )

    def mqtt_client_id(self, sensor: str) -> str:
        if self.client_id:
            return self.client_id
        return f"gateway-{sensor}" + (f"-{self.replica}" if self.replica else "")
