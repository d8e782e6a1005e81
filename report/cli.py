"""`finemeca report weekly`: the weekly leak-cost mail per customer."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from finemeca.config import SmtpSettings
from finemeca.errors import ConfigurationError
from finemeca.es import make_client, wait_until_healthy
from finemeca.logs import configure_logging, get_logger
from report.costs import load_config
from report.job import run_weekly
from report.settings import ReportSettings

log = get_logger(__name__)
app = typer.Typer(no_args_is_help=True, help="Weekly report: what each customer's leaks cost.")


@app.command()
def weekly(
    week: str = typer.Option("", help="ISO week to report, e.g. 2026-W47 (default: the last full week)"),
    customer: list[str] = typer.Option([], help="only these customers (default: every configured one)"),
    dry_run: Path | None = typer.Option(
        None, "--dry-run", help="write HTML, text and .eml here; send nothing"
    ),
    loop: bool = typer.Option(False, help="run again every REPORT_LOOP_INTERVAL_S (the compose role)"),
) -> None:
    """Mail each customer its report for the last full ISO week once (settings: REPORT_*, SMTP_*, ES_*)."""
    configure_logging(role="report")
    settings = ReportSettings()
    try:
        config = load_config(settings.config)
    except ConfigurationError as exc:
        typer.echo(f"report configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    unknown = [c for c in customer if c not in config.customers]
    if unknown:
        typer.echo(
            f"unknown customer(s) {unknown}: configured are {sorted(config.customers)} ({settings.config})",
            err=True,
        )
        raise typer.Exit(2)
    es = make_client()
    wait_until_healthy(es, timeout=120)
    while True:
        try:
            outcomes = run_weekly(
                es, config, settings, SmtpSettings(), week or None, customer or None, dry_run
            )
        except ValueError as exc:
            typer.echo(f"report: {exc}", err=True)
            raise typer.Exit(2) from exc
        for outcome in outcomes:
            typer.echo(f"{outcome.customer} {outcome.week}: {outcome.status} {outcome.detail}".rstrip())
        if not loop:
            return
        time.sleep(settings.loop_interval_s)
