"""Configuration from environment variables (12-factor).

Each concern has its own settings class and prefix so that an operator can read
`stack.env` top to bottom. Defaults match the local stack (`finemeca stack up`)
and the service names of `docker-compose.yml` are set through the same variables.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MqttSettings(BaseSettings):
    """MQTT broker the sensors publish to (Mosquitto)."""

    model_config = SettingsConfigDict(env_prefix="MQTT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: Path | None = None
    keepalive: int = 30
    protocol: str = Field("5", description="MQTT protocol: '5' or '3.1.1'")
    topic_prefix: str = Field("finemeca", description="topics are <prefix>/<sensor>/<idGateway>/<idDevice>")


class StompSettings(BaseSettings):
    """ActiveMQ Classic reached over STOMP."""

    model_config = SettingsConfigDict(env_prefix="STOMP_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 61613
    hosts_list: str | None = Field(
        None,
        alias="STOMP_HOSTS",
        description="brokers tried in order, 'host:port,host:port' (a primary/standby pair); wins over "
        "STOMP_HOST/STOMP_PORT",
    )
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: Path | None = None
    heartbeat_ms: int = Field(10_000, description="STOMP heart-beat interval, both ways")
    heartbeat_grace: float = Field(
        3.0,
        description="the broker is declared dead after heartbeat_ms x this without a frame (a 20 s stall of "
        "either side survives); the broker's stomp connector uses the same multiplier "
        "(transport.hbGracePeriodMultiplier) for our heart-beats",
    )
    queue_prefix: str = Field("finemeca", description="queues are <prefix>.<sensor>.data")

    def hosts(self) -> list[tuple[str, int]]:
        if not self.hosts_list:
            return [(self.host, self.port)]
        hosts = []
        for item in self.hosts_list.split(","):
            host, _, port = item.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"STOMP_HOSTS entry {item!r} is not host:port")
            hosts.append((host, int(port)))
        return hosts

    def describe(self) -> str:
        return ",".join(f"{h}:{p}" for h, p in self.hosts())


class ElasticsearchSettings(BaseSettings):
    """Elasticsearch cluster (8.x; the Python client major must match)."""

    model_config = SettingsConfigDict(env_prefix="ES_", extra="ignore")

    url: str = Field(
        "http://127.0.0.1:9200", description="node URL; several nodes of one cluster: comma-separated"
    )
    urls: str | None = Field(None, description="ES_URLS: comma-separated node URLs (wins over ES_URL)")
    sniff: bool = Field(
        False,
        description="discover the other nodes from the cluster: only where their publish addresses are "
        "reachable from the client (not through a proxy or Docker port mapping)",
    )
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    verify_certs: bool = True
    request_timeout: float = 30.0
    index_prefix: str = "finemeca"

    def nodes(self) -> list[str]:
        """Every node URL the client may use, in order."""
        return [u.strip() for u in (self.urls or self.url).split(",") if u.strip()]


class SmtpSettings(BaseSettings):
    """Outgoing mail relay used by the mailer."""

    model_config = SettingsConfigDict(env_prefix="SMTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: SecretStr | None = None
    security: str = Field("none", description="'none', 'starttls' or 'tls' (implicit TLS)")
    sender: str = "Finemeca alerts <no-reply@finemeca.example>"
    timeout: float = 15.0


class ObservabilitySettings(BaseSettings):
    """Logging and the HTTP port serving /healthz and /metrics."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: str = Field("json", alias="LOG_FORMAT", description="'json' or 'console'")
    metrics_port: int = Field(0, alias="METRICS_PORT", description="0 = disabled")
    metrics_host: str = Field("0.0.0.0", alias="METRICS_HOST")
