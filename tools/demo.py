"""`finemeca demo`: the whole pipeline on this machine, with simulated sensors.

Starts the local stack, one gateway and one ingestor per sensor, the alert job, the mailer and the
live status page as real processes, then publishes simulated sensor data in real time (one air
line leaks for a few minutes, then recovers) and shows what arrives where until Ctrl-C or --duration.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from elasticsearch import Elasticsearch
from rich.console import Console
from rich.live import Live
from rich.table import Table

from finemeca import naming
from finemeca.config import ElasticsearchSettings, MqttSettings, SmtpSettings
from finemeca.es import make_client
from report.costs import load_config
from report.job import run_weekly
from report.settings import ReportSettings
from report.week import last_full_week
from sensors.registry import available_sensors, get_sensor
from sensors.simulation import Episode
from tools.pipeline import LocalPipeline
from tools.simulate.publisher import MqttPublisher, encode, interleave
from tools.stack import mailbox
from tools.stack.cli import up

app = typer.Typer(help="Run the whole pipeline locally with simulated sensors.")
console = Console()


def _count(es: Elasticsearch, index: str) -> int:
    try:
        return int(es.count(index=index, ignore_unavailable=True, allow_no_indices=True)["count"])
    except Exception:
        return 0


def _mails() -> int:

    return len(mailbox.message_files())


def _send_weekly_report(es: Elasticsearch, prefix: str) -> None:
    """The demo customer's report for the week running now (the scheduled role reports full weeks only);
    recorded in its own index and forgotten first, so each demo run mails one."""
    settings = ReportSettings(index_prefix=prefix, sent_index=f"{prefix}-report-sent-demo")
    config = load_config(settings.config)
    customer = next(iter(config.customers))
    week = last_full_week(datetime.now(UTC) + timedelta(days=7), config.customers[customer].timezone)
    es.options(ignore_status=404).delete(index=settings.sent_index_name(), id=f"{customer}-{week.label}")
    console.rule(f"4. weekly leak report {week.label} for {customer}")
    for outcome in run_weekly(es, config, settings, SmtpSettings(), week=week.label, customers=[customer]):
        console.print(f"  {outcome.customer} {outcome.week}: {outcome.status} {outcome.detail}")


def _dashboard(es: Elasticsearch, sensors: list[str], published: int, started: float, prefix: str) -> Table:
    table = Table(
        title=f"finemeca demo — {time.monotonic() - started:,.0f} s, {published:,} messages published"
    )
    for column in ("where", "what", "count"):
        table.add_column(column)
    for sensor in sensors:
        table.add_row(
            "Elasticsearch",
            f"{naming.data_index_alias(sensor, prefix)} documents",
            f"{_count(es, naming.data_index_alias(sensor, prefix)):,}",
        )
    table.add_row(
        "Elasticsearch",
        f"{naming.extra_index('centrale-daily', prefix)} (daily consumption)",
        f"{_count(es, naming.extra_index('centrale-daily', prefix)):,}",
    )
    deadletters = naming.deadletter_index(prefix)
    table.add_row("Elasticsearch", deadletters, f"{_count(es, deadletters):,}")
    table.add_row(
        "Elasticsearch",
        f"{naming.alerts_history_index(prefix)} (alert events)",
        f"{_count(es, naming.alerts_history_index(prefix)):,}",
    )
    table.add_row("SMTP", "mails received (finemeca stack mail list)", f"{_mails():,}")
    return table


@app.callback(invoke_without_command=True)
def demo(
    devices: int = typer.Option(10, min=1, help="simulated devices per sensor"),
    period: float = typer.Option(5.0, min=0.5, help="seconds between two messages of one device"),
    duration: float = typer.Option(0, min=0, help="stop after this many seconds (0 = until Ctrl-C)"),
    leak_after: float = typer.Option(30, help="seconds before air line 10-100 starts leaking"),
    leak_for: float = typer.Option(180, help="seconds the leak lasts before the line recovers"),
    status_port: int = typer.Option(8080, help="port of the live status page"),
    skip_stack: bool = typer.Option(False, "--skip-stack", help="the stack is already running elsewhere"),
    weekly_report: bool = typer.Option(
        True, help="at the end, mail the demo customer's weekly leak report for the current week"
    ),
) -> None:
    """Run the whole pipeline locally with simulated sensors (no Docker needed)."""
    sensors = list(available_sensors())
    if not skip_stack:
        console.rule("1. local stack: Mosquitto, ActiveMQ, Elasticsearch, SMTP")
        up(None)
    prefix = ElasticsearchSettings().index_prefix
    log_dir = Path("var/demo/logs").resolve()
    pipeline = LocalPipeline(sensors, log_dir, env={"ALERTS_INTERVAL": "2s"})
    pipeline.add("alerts", ["alerts", "run"])
    pipeline.add(
        "mailer", ["mailer", "run"], env={"MAILER_DEFAULT_RECIPIENTS": "maintenance@finemeca.example"}
    )
    page = pipeline.add(
        "status-page", ["status-page", "run", "--port", str(status_port), "--host", "127.0.0.1"]
    )
    page.port = status_port  # it serves /healthz on its own port
    console.rule("2. gateway + ingestor per sensor, alert job, mailer, status page")
    pipeline.start(timeout=180)
    for proc in pipeline.processes:
        console.print(f"  {proc.name:<22} pid {proc.popen.pid if proc.popen else '?':<8} log {proc.log_path}")
    console.print(f"  live status page: [bold]http://127.0.0.1:{status_port}/[/bold]")

    console.rule("3. simulated sensors -> MQTT (QoS 1), in real time")

    mqtt = MqttSettings()
    now = datetime.now(UTC)
    leak = Episode(
        "10-100", now + timedelta(seconds=leak_after), now + timedelta(seconds=leak_after + leak_for)
    )
    console.print(
        f"  {devices} devices per sensor, one message every {period:g} s each; "
        f"air line 10-100 leaks from +{leak_after:g} s for {leak_for:g} s"
    )
    streams = []
    for name in sensors:
        options: dict[str, object] = {"period_s": period}
        if name == "air":
            options["leaks"] = [leak]
        streams.append(encode(name, get_sensor(name).simulate(devices, 0, now, **options), mqtt.topic_prefix))
    publisher = MqttPublisher(mqtt)
    publisher.connect()
    stop = threading.Event()
    rate = len(sensors) * devices / period
    worker = threading.Thread(
        target=publisher.publish_all,
        args=(interleave(*streams),),
        kwargs={"rate": rate, "duration": duration or None, "should_stop": stop.is_set},
        daemon=True,
    )
    started = time.monotonic()
    worker.start()
    es = make_client()
    try:
        with Live(console=console, refresh_per_second=1) as live:
            while worker.is_alive():
                live.update(_dashboard(es, sensors, publisher.stats.sent, started, prefix))
                worker.join(2.0)
                if dead := [p.name for p in pipeline.processes if not p.alive()]:
                    raise RuntimeError(f"process(es) died: {', '.join(dead)}; see logs in {log_dir}")
            publisher.wait_for_acks(30)
            time.sleep(5)  # let the last messages reach Elasticsearch
            live.update(_dashboard(es, sensors, publisher.stats.sent, started, prefix))
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        stop.set()
        worker.join(5)
        publisher.close()
        pipeline.stop()
    if weekly_report:
        _send_weekly_report(es, prefix)
    console.rule("where to look")
    console.print(
        f"  documents:   curl 'http://127.0.0.1:9200/{naming.data_index_alias('air', prefix)}/_search?size=3&sort=@timestamp:desc'\n"
        "  dead letters: finemeca ingestor dlq list --sensor devicev01\n"
        "  mails:       finemeca stack mail list   (then: finemeca stack mail show 1)\n"
        f"  logs:        {log_dir}\n"
        "  dashboards:  kibana/saved_objects.ndjson (finemeca kibana import --url http://<kibana>:5601)\n"
        "  stop stack:  finemeca stack down"
    )
