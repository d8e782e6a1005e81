"""Turns benchmark results into a rich table (terminal) and docs/BENCHMARKS.md."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from finemeca.bench.figures import RunFigures
from finemeca.bench.profiling import top_functions
from finemeca.bench.suite import PipelineResult

FINDINGS = Path(__file__).with_name("findings.md")  # hand-written profiling notes, embedded as is


def _num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def pipeline_rows(result: PipelineResult) -> list[tuple[str, str, str]]:
    ours, naive = result.ours, result.naive

    def both(get: Any) -> tuple[str, str]:
        return get(ours), get(naive)

    rows: list[tuple[str, str, str]] = [
        ("messages published (PUBACKed)", *both(lambda f: _num(f.published))),
        ("publish rate achieved, msg/s", *both(lambda f: _num(f.publish_rate))),
        ("**end-to-end throughput**, docs searchable/s", *both(lambda f: _num(f.throughput))),
        (
            f"indexing rate, median of {result.options.windows} windows, docs/s",
            *both(lambda f: _num(f.median_window_rate)),
        ),
        ("indexing rate per window, docs/s", *both(lambda f: " / ".join(_num(r) for r in f.window_rates))),
        ("first publish -> last searchable, s", *both(lambda f: _num(f.end_to_end_seconds, 1))),
        ("**lost** (expected ids missing)", *both(lambda f: f"{f.missing:,} ({f.loss_percent:.2f} %)")),
        ("forwarded MQTT -> queue", *both(lambda f: _num(f.forwarded))),
        ("duplicates (redelivered, already indexed)", *both(lambda f: _num(f.duplicates))),
        ("latency publish -> searchable p50, s", *both(lambda f: _num(f.latency_p50, 2))),
        ("latency publish -> searchable p99, s", *both(lambda f: _num(f.latency_p99, 2))),
        ("latency publish -> searchable max, s", *both(lambda f: _num(f.latency_max, 2))),
        ("latency publish -> ingestor (ingested_at) p50 / p99, s", *both(_ingest_latency)),
        ("latency samples", *both(lambda f: _num(f.latency_samples))),
    ]
    for name in sorted(set(ours.usage) | set(naive.usage)):
        rows.append((f"{name}: CPU % of a core / peak RSS MiB", _usage(ours, name), _usage(naive, name)))
    for stage in sorted(set(ours.stages) | set(naive.stages)):
        rows.append((stage, ours.stages.get(stage, "-"), naive.stages.get(stage, "-")))
    rows.append(("notes", *both(lambda f: "; ".join(f.notes) or "-")))
    return rows


def _ingest_latency(f: RunFigures) -> str:
    return f"{_num(f.ingest_latency_p50, 2)} / {_num(f.ingest_latency_p99, 2)}"


def _usage(figures: RunFigures, name: str) -> str:
    usage = figures.usage.get(name)
    return f"{usage.cpu_percent:.0f} % / {usage.peak_rss_mib:.0f}" if usage else "-"


def pipeline_table(result: PipelineResult) -> Table:
    ratio = f"{result.ratio:.1f}x" if result.ratio else "n/a"
    table = Table(title=f"pipeline benchmark ({result.options.sensor}), ours / naive = {ratio}")
    table.add_column("figure")
    table.add_column("ours", justify="right")
    table.add_column("naive baseline", justify="right")
    for row in pipeline_rows(result):
        table.add_row(*(cell.replace("**", "") for cell in row))
    return table


def profile_tables(figures: RunFigures) -> list[Table]:
    tables = []
    for role, path in figures.profiles.items():
        for self_time in (False, True):
            kind = "self" if self_time else "inclusive"
            table = Table(title=f"{role}: py-spy {kind} samples ({path})")
            table.add_column("function (file:line)")
            table.add_column("% samples", justify="right")
            for name, share in top_functions(Path(path), self_time=self_time):
                table.add_row(name[-110:], f"{share:.1f}")
            tables.append(table)
    return tables


def alerts_table(figures: dict[str, Any]) -> Table:
    table = Table(title="alert cycle benchmark")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    return table


def markdown(
    command: str,
    machine: dict[str, str],
    pipeline: PipelineResult | None,
    alerts: dict[str, Any] | None,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Re-run it to refresh every figure;",
        "the section *What limits throughput* is hand-written from profiling (`finemeca/bench/findings.md`).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine.items()),
        "",
        "Everything co-located on this machine: Mosquitto, ActiveMQ, Elasticsearch (1 GB heap), the gateway,",
        "the ingestor and the benchmark's own publisher and probes all share the same cores.",
        "",
    ]
    if pipeline:
        lines += _pipeline_section(pipeline)
    if alerts:
        lines += [
            "## Alerts: one cycle (`alerts.bench.run`)",
            "",
            "| figure | value |",
            "|---|---|",
            *(f"| {key} | {value} |" for key, value in alerts.items()),
            "",
        ]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    return "\n".join(lines)


def _pipeline_section(result: PipelineResult) -> list[str]:
    o = result.options
    ratio = f"{result.ratio:.1f}x" if result.ratio else "n/a"
    env = ", ".join([f"{o.ingestors} ingestor process(es)", *(f"`{k}={v}`" for k, v in o.env.items())])
    return [
        "## Pipeline: MQTT -> gateway -> ActiveMQ -> ingestor -> Elasticsearch",
        "",
        f"Workload: `{o.sensor}` sensor, {o.devices:,} simulated devices, target {o.rate:,.0f} msg/s for "
        f"{o.duration:.0f} s ({int(o.rate * o.duration):,} messages, pre-encoded, QoS 1). The naive baseline "
        f"(`finemeca/bench/naive.py`: auto-ack MQTT, one STOMP SEND per message, one index request per "
        f"document) gets {o.naive_messages:,} messages at the same target rate in the same run. "
        f"Our settings: {env}.",
        "",
        "How it is measured: throughput = documents searchable / (first publish -> last document searchable);",
        f"indexing rate = documents becoming searchable per second in {o.windows} equal windows of the",
        "delivery span (first to last document becoming searchable), median quoted;",
        "latency = publish of a sampled message (1 in N, ~2,000 samples) -> first `_search` by id that finds",
        "it (polled every 100 ms, so it includes the 1 s refresh interval); loss = expected deterministic ids",
        "absent from the index at the end (all ids scanned); duplicates = documents the ingestor found",
        "already indexed (409 on create), ids being deterministic the index itself cannot hold duplicates;",
        "CPU = average over the run in % of one core (from /proc), peak RSS = VmHWM for our processes.",
        "",
        f"**ours / naive throughput: {ratio}**",
        "",
        "| figure | ours | naive baseline |",
        "|---|---:|---:|",
        *(f"| {a} | {b} | {c} |" for a, b, c in pipeline_rows(result)),
        "",
    ]
