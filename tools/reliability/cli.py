"""`finemeca reliability run`: the fault suite, the soak and the Mosquitto probe -> docs/RELIABILITY.md."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import typer
from rich.console import Console

from finemeca.config import ObservabilitySettings
from finemeca.logs import configure_logging
from tools.reliability import report
from tools.reliability.mqtt_durability import measure
from tools.reliability.suite import run_soak, run_suite

app = typer.Typer(no_args_is_help=True, help="Fault suite and soak on the local stack; docs/RELIABILITY.md.")
console = Console()


@app.callback()
def _quiet_logs() -> None:
    settings = ObservabilitySettings(LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"), LOG_FORMAT="console")
    configure_logging(settings, role="reliability")


@app.command()
def run(
    soak_minutes: float = typer.Option(5.0, help="soak length (the full soak: 30; 0 = none)"),
    skip_suite: bool = typer.Option(False, "--skip-suite", help="only the soak"),
    rate: float = typer.Option(200.0, help="good traffic, msg/s"),
    fault_seconds: float = typer.Option(30.0, help="traffic per fault of the suite, s"),
    durability_messages: int = typer.Option(5_003, help="messages per Mosquitto kill -9 probe (0 = none)"),
    output: Path = typer.Option(Path("docs/RELIABILITY.md"), help="report file"),
) -> None:
    """Kills and restarts services of the local stack: give it the stack to itself."""

    def progress(text: str) -> None:
        console.print(f"[dim]…[/dim] {text}")

    durability = []
    if durability_messages:
        for changes in (0, 1, 10, 100):
            progress(f"Mosquitto kill -9 probe, autosave every {changes or '30 s'}")
            work = Path(tempfile.mkdtemp(prefix="mosquitto-probe-"))
            durability.append(measure(changes, durability_messages, work))
    suite = [] if skip_suite else run_suite(rate, fault_seconds, progress)
    soak = run_soak(soak_minutes, rate, progress) if soak_minutes else None
    command = "finemeca reliability " + " ".join(sys.argv[sys.argv.index("reliability") + 1 :])
    output.write_text(report.markdown(command.strip(), suite, soak, durability))
    console.print(f"written: {output}")
    runs = [*suite, *([soak] if soak else [])]
    bad = [o.name for o in runs if o.lost > o.loss_window or o.duplicated or o.stuck or o.spurious_reconnects]
    if bad:
        console.print(f"[red]not clean:[/red] {', '.join(bad)}")
        raise typer.Exit(1)
