"""`finemeca indices setup | retention`: templates and deletion of old daily indices (no ILM needed)."""

from __future__ import annotations

import typer
from rich.console import Console

from finemeca import naming
from finemeca.config import ElasticsearchSettings
from finemeca.deadletter import DEADLETTER_MAPPINGS
from finemeca.es import ensure_index, make_client, wait_until_healthy
from ingestor.indices import (
    delete_old_daily,
    delete_old_indices,
    ensure_queue_depth_template,
    ensure_sensor_template,
)
from ingestor.settings import IngestorSettings
from sensors.registry import available_sensors, get_sensor

app = typer.Typer(no_args_is_help=True, help="Index templates and retention.")
console = Console()


@app.command()
def setup(sensor: list[str] = typer.Option(None, help="default: every sensor")) -> None:
    """Create or update the index templates (the ingestor also does it at start)."""

    es_settings, ing = ElasticsearchSettings(), IngestorSettings()
    es = make_client(es_settings)
    wait_until_healthy(es, timeout=60)
    for name in sensor or available_sensors():
        ensure_sensor_template(
            es,
            get_sensor(name),
            es_settings.index_prefix,
            ing.index_shards,
            ing.index_replicas,
            ing.refresh_interval,
        )
        console.print(f"template for {name}: ok")
    ensure_index(
        es, naming.deadletter_index(es_settings.index_prefix), DEADLETTER_MAPPINGS, ing.index_replicas
    )
    ensure_queue_depth_template(es, es_settings.index_prefix, ing.index_replicas)
    console.print("dead-letters index and queue-depth template: ok")


@app.command()
def retention(
    days: int = typer.Option(..., envvar="RETENTION_DAYS", min=1, help="keep this many days"),
    sensor: list[str] = typer.Option(None, help="default: every sensor"),
    dry_run: bool = typer.Option(False, "--dry-run", help="only list what would be deleted"),
) -> None:
    """Delete daily indices (sensor data, queue-depth samples) older than N days."""

    es_settings = ElasticsearchSettings()
    es = make_client(es_settings)
    for name in sensor or available_sensors():
        old = delete_old_indices(es, name, days, es_settings.index_prefix, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        console.print(f"{name}: {verb} {len(old)} index(es)" + (f": {', '.join(old)}" if old else ""))
    old = delete_old_daily(es, naming.queue_depth_index_pattern(es_settings.index_prefix), days, dry_run)
    verb = "would delete" if dry_run else "deleted"
    console.print(f"queue-depth: {verb} {len(old)} index(es)" + (f": {', '.join(old)}" if old else ""))
