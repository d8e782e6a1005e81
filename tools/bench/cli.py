"""`finemeca bench pipeline|alerts|all`: measure, print a table, write docs/BENCHMARKS.md."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from finemeca.config import ObservabilitySettings
from finemeca.es import make_client
from finemeca.logs import configure_logging
from tools.bench import alerts_latency as latency
from tools.bench import front_door, report
from tools.bench import weekly_report as weekly_report_bench
from tools.bench.machine import describe
from tools.bench.suite import PipelineOptions, PipelineResult, run_alerts, run_pipeline

app = typer.Typer(no_args_is_help=True, help="Benchmarks; writes docs/BENCHMARKS.md.")
console = Console()


@app.callback()
def _quiet_logs() -> None:
    """Benchmarks: the engines it runs in-process (alerts job) log warnings only, unless LOG_LEVEL says otherwise."""
    settings = ObservabilitySettings(LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"), LOG_FORMAT="console")
    configure_logging(settings, role="bench")


DEFAULT_OUTPUT = Path("docs/BENCHMARKS.md")


def _options(
    quick: bool,
    sensor: str,
    devices: int | None,
    rate: float | None,
    duration: float | None,
    naive_messages: int | None,
    settings: list[str],
    profile: bool = False,
    ingestors: int = 1,
    peer: bool | None = None,
    gateways: int = 1,
    rounds: int | None = None,
    warmup: float | None = None,
) -> PipelineOptions:
    env = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--set expects KEY=VALUE, got {item!r}")
        env[key] = value
    given = {
        "devices": devices,
        "rate": rate,
        "duration": duration,
        "naive_messages": naive_messages,
        "rounds": rounds,
        "warmup": warmup,
    }
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    overrides |= {
        "sensor": sensor,
        "env": env,
        "profile": profile,
        "ingestors": ingestors,
        "gateways": gateways,
    }
    if peer is not None:
        overrides["peer"] = peer
    return PipelineOptions.quick(**overrides) if quick else PipelineOptions(**overrides)


def _write(output: Path, pipeline: PipelineResult | None, alerts: dict[str, Any] | None) -> None:
    es = make_client()
    machine = describe(es)
    es.close()
    command = "finemeca bench " + " ".join(
        sys.argv[sys.argv.index("bench") + 1 :] if "bench" in sys.argv else []
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.markdown(command.strip(), machine, pipeline, alerts))
    console.print(f"written: {output}")


QUICK = typer.Option(False, "--quick", help="a smoke run of a few seconds (tests, CI)")
SENSOR = typer.Option("air", help="sensor kind to simulate")
DEVICES = typer.Option(None, help="simulated devices (default 1,000; quick 20)")
RATE = typer.Option(None, help="target publish rate, msg/s (default 10,000; quick 500)")
DURATION = typer.Option(None, help="publishing time, s (default 60; quick 2)")
NAIVE = typer.Option(None, help="messages for the naive baseline (default 10,000; quick 200)")
SET = typer.Option(
    [], "--set", help="KEY=VALUE setting for our gateway/ingestor, e.g. INGESTOR_BATCH_SIZE=4000"
)
PEER = typer.Option(
    None, "--peer/--no-peer", help="run Telegraf on the same workload (default: yes, except --quick)"
)
STEADY = typer.Option(None, help="rate of the below-capacity latency run, msg/s (default 3,000; 0: skip)")
GATEWAYS = typer.Option(1, help="gateway replicas (MQTT 5 shared subscription)")
INGESTORS = typer.Option(1, help="ingestor processes (competing consumers on the queue)")
ROUNDS = typer.Option(
    None,
    help="rounds of ours and Telegraf back to back, order alternating; medians quoted (default 3; quick 1)",
)
WARMUP = typer.Option(None, help="seconds of each pipeline run first, unmeasured (default 15; quick 0)")
PROFILE = typer.Option(False, "--profile", help="py-spy the gateway and ingestor while publishing")
OUTPUT = typer.Option(DEFAULT_OUTPUT, help="Markdown report to write")
ALERT_DEVICES = typer.Option(10_000, help="devices in the alert cycle (quick: 200)")


@app.command()
def pipeline(
    quick: bool = QUICK,
    sensor: str = SENSOR,
    devices: int | None = DEVICES,
    rate: float | None = RATE,
    duration: float | None = DURATION,
    naive_messages: int | None = NAIVE,
    settings: list[str] = SET,
    profile: bool = PROFILE,
    ingestors: int = INGESTORS,
    output: Path = OUTPUT,
    peer: bool | None = PEER,
    steady_rate: float | None = STEADY,
    gateways: int = GATEWAYS,
    rounds: int | None = ROUNDS,
    warmup: float | None = WARMUP,
) -> None:
    """End-to-end throughput, latency, loss, duplicates, CPU and RSS: ours vs Telegraf and the naive baseline."""
    options = _options(
        quick,
        sensor,
        devices,
        rate,
        duration,
        naive_messages,
        settings,
        profile,
        ingestors,
        peer,
        gateways,
        rounds,
        warmup,
    )
    if steady_rate is not None:
        options.steady_rate = steady_rate or None
    result = run_pipeline(options, console)
    console.print(report.pipeline_table(result))
    for table in report.profile_tables(result.ours):
        console.print(table)
    _write(output, result, None)


@app.command()
def alerts(quick: bool = QUICK, alert_devices: int = ALERT_DEVICES, output: Path = OUTPUT) -> None:
    """One alert cycle (air-leak rule) over N devices."""
    figures = run_alerts(200 if quick else alert_devices, console)
    console.print(report.alerts_table(figures))
    _write(output, None, figures)


@app.command(name="weekly-report")
def weekly_report(
    lines: int = typer.Option(1000, help="air lines (one customer)"),
    days: int = typer.Option(14, help="days of readings ending with the last full week"),
    interval: int = typer.Option(15, help="minutes between two readings of a line"),
    history_days: int = typer.Option(
        0, help="days before those, one reading per line and day (a year of indices)"
    ),
) -> None:
    """Time `finemeca report weekly`'s data (build_report) over N lines; prints the figures."""
    _quiet_logs()
    with console.status(f"indexing {lines:,} lines x {days} days, then building the report"):
        figures = weekly_report_bench.run(
            lines=lines, days=days, interval=interval, history_days=history_days
        )
    for name, value in figures.items():
        console.print(f"{name:<22} {value}")


@app.command(name="alerts-latency")
def alerts_latency(
    leaks: int = typer.Option(
        15, help="leaks started one after the other (30 s apart), one per line (<= 15)"
    ),
    peer: bool = typer.Option(True, help="run ElastAlert2 side by side"),
    output: Path = OUTPUT,
) -> None:
    """First low reading -> mail, p50/p95, for our alert job and ElastAlert2 on the same data."""
    result = latency.run(leaks=leaks, with_elastalert2=peer)
    section = latency.markdown_section(result, "finemeca bench alerts-latency")
    console.print(section)
    latency.write_section(section, output)
    console.print(f"written: {output}")


@app.command(name="front-door")
def front_door_backlog(
    messages: int = typer.Option(100_000, help="messages queued in all, per setting"),
    steps: int = typer.Option(10, help="equal steps; each step's PUBACKed rate is reported"),
    changes: list[int] = typer.Option(
        [100, 1000], "--changes", help="Mosquitto autosave_interval values (saves every N changes)"
    ),
    output: Path = OUTPUT,
) -> None:
    """Mosquitto's intake while a backlog builds, for several autosave settings (private brokers)."""
    results = {}
    with Progress(
        TextColumn("[bold]{task.description:<34}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        for value in changes:
            task = progress.add_task(f"saves every {value:,} changes", total=messages)

            def show(_changes: int, queued: int, _total: int, task: TaskID = task) -> None:
                progress.update(task, completed=queued)

            results[value] = front_door.measure(
                value, messages, steps, Path("var/bench/front-door"), progress=show
            )
    command = "finemeca bench " + " ".join(sys.argv[sys.argv.index("bench") + 1 :])
    section = front_door.markdown_section(results, command.strip())
    console.print(section)
    front_door.write_section(section, output)
    console.print(f"written: {output}")


@app.command(name="all")
def run_all(
    quick: bool = QUICK,
    sensor: str = SENSOR,
    devices: int | None = DEVICES,
    rate: float | None = RATE,
    duration: float | None = DURATION,
    naive_messages: int | None = NAIVE,
    settings: list[str] = SET,
    ingestors: int = INGESTORS,
    alert_devices: int = ALERT_DEVICES,
    output: Path = OUTPUT,
    peer: bool | None = PEER,
    steady_rate: float | None = STEADY,
    gateways: int = GATEWAYS,
    rounds: int | None = ROUNDS,
    warmup: float | None = WARMUP,
) -> None:
    """Pipeline then alerts; one report."""
    options = _options(
        quick,
        sensor,
        devices,
        rate,
        duration,
        naive_messages,
        settings,
        False,
        ingestors,
        peer,
        gateways,
        rounds,
        warmup,
    )
    if steady_rate is not None:
        options.steady_rate = steady_rate or None
    result = run_pipeline(options, console)
    console.print(report.pipeline_table(result))
    figures = run_alerts(200 if quick else alert_devices, console)
    console.print(report.alerts_table(figures))
    _write(output, result, figures)
