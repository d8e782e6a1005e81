"""`finemeca alerts run | test | validate`."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import typer

from alerts.catalog import load_catalog
from alerts.clock import Clock, ScaledClock, SystemClock
from alerts.durations import format_duration, parse_duration
from alerts.evaluate import TimePolicy
from alerts.job import AlertJob
from alerts.publisher import StompPublisher
from alerts.replay import replay
from alerts.rules import Rule, load_rule_file, load_rules
from alerts.scheduler import Scheduler
from alerts.settings import AlertSettings
from finemeca.config import ObservabilitySettings
from finemeca.es import make_client, wait_until_healthy
from finemeca.logs import configure_logging
from finemeca.metrics import serve_health_and_metrics

app = typer.Typer(no_args_is_help=True, help="Alert job: rules over Elasticsearch, events to ActiveMQ.")


def _parse_time(value: str) -> datetime:
    """ISO time (UTC if no zone) or `now-<duration>` (e.g. now-2h)."""
    text = value.strip()
    if text.startswith("now"):
        rest = text[3:]
        if not rest:
            return datetime.now(UTC)
        if rest[0] not in "+-":
            raise typer.BadParameter(f"expected now, now-2h or now+5m, got {value!r}")
        delta = parse_duration(rest[1:])
        return datetime.now(UTC) + (delta if rest[0] == "+" else -delta)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def run(
    interval: str = typer.Option("", help="time between cycles, e.g. 2s (default ALERTS_INTERVAL)"),
    once: bool = typer.Option(False, "--once", help="run one cycle and exit"),
    rules: list[Path] = typer.Option([], "--rules", help="extra rule file or directory (repeatable)"),
    now: str = typer.Option("", help="evaluate as of this time (ISO or now-1h): replays and tests"),
    clock_rate: float = typer.Option(1.0, help="with --now: simulated seconds per real second"),
) -> None:
    """Evaluate every rule each interval; publish events to ActiveMQ; keep state in Elasticsearch."""

    configure_logging(role="alerts")
    settings = AlertSettings()
    if interval:
        settings = settings.model_copy(update={"interval": parse_duration(interval)})
    es = make_client()
    wait_until_healthy(es, timeout=60)
    job = AlertJob(es, StompPublisher(settings.queue), settings)
    job.ensure_indices()
    clock: Clock = ScaledClock(_parse_time(now), clock_rate) if now else SystemClock()
    scheduler = Scheduler(job, clock, rules)
    if once:
        report = scheduler.run_once()
        job.publisher.close()
        raise typer.Exit(1 if report.errors else 0)
    obs = ObservabilitySettings()
    if obs.metrics_port:
        serve_health_and_metrics(obs.metrics_host, obs.metrics_port, scheduler.health)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.stop.set())
    try:
        scheduler.run_forever(settings.interval.total_seconds())
    except KeyboardInterrupt:
        pass
    finally:
        job.publisher.close()


def _find_rule(rule: str, extra: list[Path]) -> list[Rule]:
    path = Path(rule)
    if path.is_file():
        loaded = load_rule_file(path)
    else:
        loaded = load_catalog(AlertSettings(), extra)
        loaded.rules = [r for r in loaded.rules if r.name == rule]
    for problem in loaded.problems:
        typer.secho(str(problem), fg="red", err=True)
    if not loaded.rules:
        raise typer.BadParameter(f"no valid rule found for {rule!r}")
    return loaded.rules


@app.command("test")
def test_rule(
    rule: str = typer.Argument(..., help="rule file, or the name of a loaded rule"),
    from_: str = typer.Option("now-24h", "--from", help="ISO time or now-<duration>"),
    to: str = typer.Option("now", "--to", help="ISO time or now-<duration>"),
    step: str = typer.Option("1m", help="ingest-time slice evaluated at once (like the job's interval)"),
    index: str = typer.Option("", help="read this index instead of the rule's"),
    rules: list[Path] = typer.Option([], "--rules", help="extra rule file or directory"),
) -> None:
    """Replay a rule over the data indexed (ingested_at) in [--from, --to) and print what the job would have
    said. Sends and stores nothing."""

    settings = AlertSettings()
    start, end = _parse_time(from_), _parse_time(to)
    es = make_client()
    total = 0
    for one in _find_rule(rule, rules):
        target = index or one.index or settings.data_index_for(one.sensor)
        times = TimePolicy(settings.late_horizon, settings.future_tolerance, settings.page_size)
        events = replay(es, one, target, start, end, parse_duration(step), times)
        typer.echo(f"rule {one.name} ({one.kind}) on {target}, {start.isoformat()} -> {end.isoformat()}:")
        for e in events:
            since = format_duration(e.at - e.episode_start)
            extra = f" #{e.reminder_number}" if e.kind == "reminder" else ""
            if e.episode_end is not None:
                extra += f" {e.episode_start.isoformat()} -> {e.episode_end.isoformat()}"
            if e.flaps is not None:
                extra += f" ({e.flaps} crossings)"
            values = ", ".join(f"{k}={v}" for k, v in e.observed_values().items())  # the op that held
            typer.echo(f"  {e.at.isoformat()}  {e.kind:<8}{extra}  {e.device_key}  (+{since})  {values}")
        typer.echo(f"  {len(events)} event(s)")
        total += len(events)


@app.command()
def validate(
    paths: list[Path] = typer.Argument(None, help="rule files/dirs (default: what `run` would load)"),
) -> None:
    """Check rule files; print one precise line per problem; exit 1 if any."""

    ruleset = load_rules(list(paths)) if paths else load_catalog(AlertSettings())
    for r in ruleset.rules:
        typer.echo(f"ok    {r.name} ({r.kind}, sensor {r.sensor}) from {ruleset.sources.get(r.name)}")
    for problem in ruleset.problems:
        typer.secho(f"error {problem}", fg="red")
    raise typer.Exit(1 if ruleset.problems else 0)
