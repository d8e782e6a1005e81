"""Index templates (created at start, idempotently) and retention of daily indices (sensor data and
queue-depth samples)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from elasticsearch import Elasticsearch

from finemeca import naming
from finemeca.es import ensure_index, replica_settings
from finemeca.queue_stats import QUEUE_DEPTH_MAPPINGS
from sensors.base import SensorPlugin


def ensure_sensor_template(
    es: Elasticsearch,
    plugin: SensorPlugin,
    prefix: str = naming.DEFAULT_PREFIX,
    shards: int = 1,
    replicas: int | None = None,
    refresh_interval: str = "500ms",
) -> None:
    """Composable template for the sensor's daily indices; every daily index joins the read alias."""
    es.indices.put_index_template(
        name=naming.template_name(plugin.name, prefix),
        index_patterns=[naming.data_index_pattern(plugin.name, prefix)],
        priority=200,
        template={
            "settings": {
                "number_of_shards": shards,
                **replica_settings(replicas),
                "refresh_interval": refresh_interval,
            },
            "mappings": plugin.index_mappings(),
            "aliases": {naming.data_index_alias(plugin.name, prefix): {}},
        },
        meta={"managed_by": "finemeca ingestor", "sensor": plugin.name},
    )
    # daily indices that already exist (today's above all) learn new fields and length limits now,
    # not tomorrow: with "dynamic": "strict" a new field would otherwise refuse every document
    es.indices.put_mapping(
        index=naming.data_index_pattern(plugin.name, prefix),
        allow_no_indices=True,
        expand_wildcards="open",
        **plugin.index_mappings(),
    )
    # ... and a changed refresh interval (INGESTOR_REFRESH_INTERVAL) applies to them at once too
    es.indices.put_settings(
        index=naming.data_index_pattern(plugin.name, prefix),
        allow_no_indices=True,
        expand_wildcards="open",
        settings={"index.refresh_interval": refresh_interval},
    )
    for name, mappings in plugin.extra_indices().items():
        ensure_index(es, naming.extra_index(name, prefix), mappings, replicas)


def ensure_queue_depth_template(
    es: Elasticsearch, prefix: str = naming.DEFAULT_PREFIX, replicas: int | None = None
) -> None:
    """Composable template of the daily queue-depth indices (one shard each: a few thousand docs a day)."""
    es.indices.put_index_template(
        name=naming.queue_depth_template(prefix),
        index_patterns=[naming.queue_depth_index_pattern(prefix)],
        priority=200,
        template={
            "settings": {"number_of_shards": 1, **replica_settings(replicas)},
            "mappings": QUEUE_DEPTH_MAPPINGS,
        },
        meta={"managed_by": "finemeca ingestor"},
    )


_DAILY = re.compile(r"-(\d{4})\.(\d{2})\.(\d{2})$")


def index_day(name: str) -> date | None:
    match = _DAILY.search(name)
    return date(int(match[1]), int(match[2]), int(match[3])) if match else None


def indices_older_than(names: list[str], days: int, today: date | None = None) -> list[str]:
    """Daily indices whose day is more than `days` days before today (pure)."""
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=days)
    return sorted(n for n in names if (d := index_day(n)) is not None and d < cutoff)


def delete_old_indices(
    es: Elasticsearch, sensor: str, days: int, prefix: str = naming.DEFAULT_PREFIX, dry_run: bool = False
) -> list[str]:
    """The sensor's daily data indices older than `days`."""
    return delete_old_daily(es, naming.data_index_pattern(sensor, prefix), days, dry_run)


def delete_old_daily(es: Elasticsearch, pattern: str, days: int, dry_run: bool = False) -> list[str]:
    """Daily indices matching `pattern` older than `days` (deleted unless `dry_run`)."""
    names = list(es.indices.get(index=pattern, expand_wildcards="open,closed").keys())
    old = indices_older_than(names, days)
    if old and not dry_run:
        es.indices.delete(index=",".join(old))
    return old
