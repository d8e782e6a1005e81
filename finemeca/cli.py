"""`finemeca` command line: one entry point, one sub-command group per engine."""

from __future__ import annotations

import importlib

import typer

# (command name, module exposing `app`, help): each engine owns its own CLI.
SUBCOMMANDS: list[tuple[str, str, str]] = [
    (
        "stack",
        "finemeca.stack.cli",
        "Local stack: Mosquitto, ActiveMQ, Elasticsearch, SMTP as plain processes.",
    ),
    ("gateway", "gateway.cli", "MQTT -> ActiveMQ forwarder for one sensor."),
    ("ingestor", "ingestor.cli", "ActiveMQ -> Elasticsearch indexer for one sensor; dead-letter tools."),
    ("indices", "ingestor.indices_cli", "Index templates and retention."),
    ("simulate", "sensors.cli", "Simulated sensors publishing to MQTT."),
    ("alerts", "alerts.cli", "Alert job: rules over Elasticsearch, events to ActiveMQ."),
    ("mailer", "alerts.mailer.cli", "Mailer: alert events from ActiveMQ to SMTP."),
    ("kibana", "kibana.cli", "Kibana saved objects: validate and import."),
    ("status-page", "statuspage.cli", "Live air-line status web page."),
    ("demo", "finemeca.demo", "Run the whole pipeline locally with simulated sensors."),
    ("bench", "finemeca.bench.cli", "Benchmarks; writes docs/BENCHMARKS.md."),
]

app = typer.Typer(
    name="finemeca",
    help="Finemeca IoT ingestion stack: sensors -> MQTT -> ActiveMQ -> Elasticsearch -> dashboards and alerts.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

for _name, _module, _help in SUBCOMMANDS:
    app.add_typer(importlib.import_module(_module).app, name=_name, help=_help)


@app.callback()
def _refuse_placeholder_secrets() -> None:
    """In production (FINEMECA_REQUIRE_SECRETS=1) no role starts with an empty or placeholder secret."""
    from finemeca.secrets_check import PlaceholderSecretError, enforce_secrets_policy

    try:
        enforce_secrets_policy()
    except PlaceholderSecretError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def main() -> None:
    app()


if __name__ == "__main__":
    main()
