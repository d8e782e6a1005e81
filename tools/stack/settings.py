"""Settings of the local stack, from environment variables (defaults match `finemeca/config.py`).

| variable | default | meaning |
|---|---|---|
| `STACK_DIR` | `<repo>/var/stack` | state: one folder per service (pid, log, data) |
| `STACK_CACHE_DIR` | `<repo>/.cache` | downloads (Elasticsearch zip) |
| `STACK_HOST` | `127.0.0.1` | every service listens on this address only |
| `STACK_MQTT_PORT` | `1883` | Mosquitto |
| `STACK_STOMP_PORT` / `STACK_OPENWIRE_PORT` | `61613` / `61616` | ActiveMQ |
| `STACK_ES_PORT` / `STACK_ES_TRANSPORT_PORT` | `9200` / `9300` | Elasticsearch |
| `STACK_SMTP_PORT` | `1025` | SMTP sink |
| `ES_VERSION` (or `STACK_ES_VERSION`) | `8.19.21` | Elasticsearch zip fetched from Maven Central |
| `ES_HEAP` (or `STACK_ES_HEAP`) | `1g` | Elasticsearch `-Xms`/`-Xmx` |
| `STACK_ES_JAVA_OPTS` | `-Xms<heap> -Xmx<heap>` | full `ES_JAVA_OPTS` override |
| `STACK_ES_MAVEN_URL` | Maven Central | repository root the zip and its `.sha1` come from |
| `STACK_ES_USER` | `finemeca-es` | system user Elasticsearch runs as (it refuses root) |
| `STACK_ACTIVEMQ_HEAP` | `1g` | ActiveMQ `-Xmx` (512m ran out of heap under the 10k msg/s benchmark) |
| `STACK_ACTIVEMQ_MEMORY_LIMIT` / `_STORE_LIMIT` / `_TEMP_LIMIT` | `256 mb` / `8 gb` / `1 gb` | broker systemUsage |
| `STACK_MOSQUITTO_MAX_INFLIGHT` | `1000` | Mosquitto `max_inflight_messages` |
| `STACK_JAVA_HOME` | `$JAVA_HOME`, else the `java` on PATH | Java 17+ for ActiveMQ and Elasticsearch |
| `STACK_START_TIMEOUT` | `180` | seconds to wait for a service to become ready |
| `STACK_SECURE` | `false` | secure mode (same as `up --secure`): auth everywhere, TLS for Elasticsearch |
| `STACK_USERNAME` / `STACK_PASSWORD` | `finemeca` / generated | secure-mode credentials (see `secure.py`) |
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
# The front door's durability/throughput choice, the same default in deploy (MOSQUITTO_AUTOSAVE_CHANGES):
# save the store every 1,000 changes. Bound: <= 1,000 PUBACKed messages (+1 per publishing connection) lost
# per kill -9 of Mosquitto (docs/RELIABILITY.md). Each save rewrites the whole store: with 100, the intake
# fell below 1,000 msg/s once 100,000 messages waited for a stopped gateway (docs/BENCHMARKS.md, front door).
MOSQUITTO_AUTOSAVE_CHANGES = 1000


def mosquitto_loss_window(autosave_changes: int, publishers: int = 1) -> int:
    """PUBACKed messages a kill -9 of Mosquitto may lose at most: the unsaved changes + one per publisher."""
    return autosave_changes + publishers


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STACK_", extra="ignore")

    dir: Path = REPO_ROOT / "var" / "stack"
    cache_dir: Path = REPO_ROOT / ".cache"
    host: str = "127.0.0.1"

    mqtt_port: int = 1883
    mosquitto_max_inflight: int = 1000
    # Mosquitto writes its store after this many changes (queued messages, subscriptions): a kill -9 loses
    # at most this many PUBACKed messages plus one per publishing connection (docs/RELIABILITY.md);
    # 1 = after every change (~1,000 msg/s front door), 0 = on a 30 s timer instead
    mosquitto_autosave_changes: int = MOSQUITTO_AUTOSAVE_CHANGES

    stomp_port: int = 61613
    openwire_port: int = 61616
    activemq_heap: str = "1g"
    activemq_memory_limit: str = "256 mb"
    activemq_store_limit: str = "8 gb"
    activemq_temp_limit: str = "1 gb"
    activemq_user: str = "activemq"

    es_port: int = 9200
    es_transport_port: int = 9300
    es_version: str = Field(
        default="8.19.21", validation_alias=AliasChoices("STACK_ES_VERSION", "ES_VERSION")
    )
    es_heap: str = Field(default="1g", validation_alias=AliasChoices("STACK_ES_HEAP", "ES_HEAP"))
    es_java_opts: str | None = None
    es_maven_url: str = "https://repo1.maven.org/maven2"
    es_user: str = "finemeca-es"

    smtp_port: int = 1025

    # `finemeca stack cluster` / failover tests: node i of a local ES cluster uses port + i - 1
    cluster_es_port: int = 9291
    cluster_es_transport_port: int = 9391
    cluster_es_heap: str = "256m"
    # `finemeca stack mqpair` / failover tests: ActiveMQ broker i (0, 1) of a shared-store pair listens
    # on STOMP port + 3*i and OpenWire port + 3*i + 1
    pair_stomp_port: int = 61620
    pair_activemq_heap: str = "256m"

    secure: bool = False
    username: str = "finemeca"
    password: SecretStr | None = None

    java_home: Path | None = Field(
        default=None, validation_alias=AliasChoices("STACK_JAVA_HOME", "JAVA_HOME")
    )
    start_timeout: float = 180.0

    def service_dir(self, name: str) -> Path:
        return (self.dir / name).resolve()
