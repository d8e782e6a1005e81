"""Index templates (created at start, idempotently) and retention of daily indices."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from elasticsearch import Elasticsearch

from finemeca import naming
from finemeca.es import ensure_index, replica_settings
from sensors.base import SensorPlugin


def ensure_sensor_template(
    es: Elasticsearch,
    plugin: SensorPlugin,
    prefix: str = naming.DEFAULT_PREFIX,
    shards: int = 1,
    replicas: int | None = None,
    refresh_interval: str = "1s",
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
    for name, mappings in plugin.extra_indices().items():
        ensure_index(es, naming.extra_index(name, prefix), mappings, replicas)


_DAILY = re.compile(r"-data-(\d{4})\.(\d{2})\.(\d{2})$")


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
    pattern = naming.data_index_pattern(sensor, prefix)
    names = list(es.indices.get(index=pattern, expand_wildcards="open,closed").keys())
    old = indices_older_than(names, days)
    if old and not dry_run:
        es.indices.delete(index=",".join(old))
    return old
