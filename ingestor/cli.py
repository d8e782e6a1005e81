"""`finemeca ingestor run --sensor <name>` and the dead-letter tools `finemeca ingestor dlq ...`."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from finemeca.logs import configure_logging
from ingestor.dlq import browse, redrive
from ingestor.service import run_ingestor
from sensors.registry import available_sensors

app = typer.Typer(
    no_args_is_help=True, help="ActiveMQ -> Elasticsearch indexer for one sensor; dead-letter tools."
)
dlq_app = typer.Typer(no_args_is_help=True, help="List, inspect and re-drive dead-lettered messages.")
app.add_typer(dlq_app, name="dlq")
console = Console()

SENSOR = typer.Option(..., envvar="SENSOR", help=f"sensor kind: {', '.join(available_sensors())}")
REASON = typer.Option(None, help="only messages whose reason contains this text")
STAGE = typer.Option(None, help="only this stage: gateway, parse, validate, transform, index, conflict")


def _check(sensor: str) -> None:
    if sensor not in available_sensors():
        raise typer.BadParameter(f"unknown sensor {sensor!r}; known: {', '.join(available_sensors())}")


@app.command()
def run(sensor: str = SENSOR) -> None:
    """Index the sensor's queue into Elasticsearch (settings: STOMP_*, ES_*, INGESTOR_*, SENSOR_TIMEZONE)."""
    _check(sensor)

    configure_logging(role="ingestor", sensor=sensor)
    run_ingestor(sensor)


@dlq_app.command("list")
def dlq_list(
    sensor: str = SENSOR,
    reason: str | None = REASON,
    stage: str | None = STAGE,
    limit: int = typer.Option(50, help="at most this many"),
) -> None:
    """Browse dead letters (nothing is consumed)."""

    _check(sensor)
    letters = browse(sensor, reason=reason, stage=stage, limit=limit)
    table = Table(title=f"dead letters of {sensor} ({len(letters)} shown)")
    for col in ("message id", "stage", "at", "reason", "body"):
        table.add_column(col, overflow="fold")
    for d in letters:
        table.add_row(d.message_id, d.stage, d.at, d.reason, d.body[:80].decode("utf-8", "replace"))
    console.print(table)


@dlq_app.command("show")
def dlq_show(message_id: str, sensor: str = SENSOR) -> None:
    """Print one dead letter: headers and full body."""

    _check(sensor)
    for d in browse(sensor, limit=100_000):
        if d.message_id == message_id:
            console.print_json(json.dumps({"headers": d.headers, "body": d.body.decode("utf-8", "replace")}))
            return
    console.print(f"[red]no dead letter with id {message_id} in {sensor}'s DLQ[/red]")
    raise typer.Exit(1)


@dlq_app.command("redrive")
def dlq_redrive(
    sensor: str = SENSOR,
    reason: str | None = REASON,
    stage: str | None = STAGE,
    limit: int | None = typer.Option(None, help="at most this many"),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
) -> None:
    """Send matching dead letters back through the normal (idempotent) path."""

    _check(sensor)
    count = len(browse(sensor, reason=reason, stage=stage, limit=limit or 100_000))
    if count == 0:
        console.print("nothing to re-drive")
        return
    if not yes:
        typer.confirm(f"re-drive {count} message(s) of {sensor} to its data queue?", abort=True)
    moved = redrive(sensor, reason=reason, stage=stage, limit=limit)
    console.print(f"re-drove {moved} message(s) to the {sensor} data queue")
