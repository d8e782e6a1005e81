"""Turns benchmark results into a rich table (terminal) and docs/BENCHMARKS.md."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from tools.bench.figures import RunFigures
from tools.bench.profiling import top_functions
from tools.bench.suite import PipelineResult

FINDINGS = Path(__file__).with_name("findings.md")  # hand-written profiling notes, embedded as is
LATENCY = Path(__file__).with_name("alerts_latency.md")  # leak -> mail latency, ours vs ElastAlert2
FRONT_DOOR = Path(__file__).with_name("front_door.md")  # written by `finemeca bench front-door`
WEEKLY_REPORT = Path(__file__).with_name("weekly_report.md")  # hand-written from `bench weekly-report` runs


def _num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def columns(result: PipelineResult) -> list[RunFigures]:
    """Runs side by side: ours at the target rate, Telegraf (same messages), the naive baseline, ours below
    capacity (if run)."""
    extra = [run for run in (result.telegraf, result.naive, result.steady) if run is not None]
    return [result.ours, *extra]


def column_titles(result: PipelineResult) -> list[str]:
    rounds = len(result.ours_rounds)
    median = f", median of {rounds} rounds" if rounds > 1 else ""
    titles = {
        id(result.ours): f"ours @ {result.options.rate:,.0f}/s target{median}",
        id(result.naive): "naive baseline",
    }
    if result.telegraf:
        titles[id(result.telegraf)] = f"{result.telegraf.label} @ {result.options.rate:,.0f}/s target{median}"
    return [titles.get(id(run), run.label) for run in columns(result)]


def pipeline_rows(result: PipelineResult) -> list[list[str]]:
    runs = columns(result)

    def row(label: str, get: Any) -> list[str]:
        return [label, *(get(run) for run in runs)]

    rows = [
        row("messages published (PUBACKed)", lambda f: _num(f.published)),
        row("publish rate achieved, msg/s", lambda f: _num(f.publish_rate)),
        row("**end-to-end throughput**, docs searchable/s", lambda f: _num(f.throughput)),
        row(
            f"indexing rate, median of {result.options.windows} windows, docs/s",
            lambda f: _num(f.median_window_rate),
        ),
        row("indexing rate per window, docs/s", lambda f: " / ".join(_num(r) for r in f.window_rates)),
        row("first publish -> last searchable, s", lambda f: _num(f.end_to_end_seconds, 1)),
        row("**lost** (expected ids missing)", lambda f: f"{f.missing:,} ({f.loss_percent:.2f} %)"),
        row("forwarded MQTT -> queue", lambda f: _num(f.forwarded)),
        row("duplicates (redelivered, already indexed)", lambda f: _num(f.duplicates)),
        row("latency publish -> searchable p50, s", lambda f: _num(f.latency_p50, 2)),
        row("**latency publish -> searchable p99**, s", lambda f: _num(f.latency_p99, 2)),
        row("latency publish -> searchable max, s", lambda f: _num(f.latency_max, 2)),
        row("latency publish -> ingestor (ingested_at) p50 / p99, s", _ingest_latency),
        row("latency samples", lambda f: _num(f.latency_samples)),
    ]
    for name in sorted({name for run in runs for name in run.usage}):
        rows.append(row(f"{name}: CPU % of a core / peak RSS MiB", lambda f, n=name: _usage(f, n)))
    for name in sorted({name for run in runs for name in run.usage}):
        rows.append(row(f"{name}: CPU s per 1,000 msgs", lambda f, n=name: _cpu_per_k(f, n)))
    rows.append(row("**all processes: CPU s per 1,000 msgs**", lambda f: _cpu_per_k(f, None)))
    for stage in sorted({stage for run in runs for stage in run.stages}):
        rows.append(row(stage, lambda f, s=stage: f.stages.get(s, "-")))
    rows.append(row("notes", lambda f: "; ".join(f.notes) or "-"))
    return rows


def _ingest_latency(f: RunFigures) -> str:
    return f"{_num(f.ingest_latency_p50, 2)} / {_num(f.ingest_latency_p99, 2)}"


def _usage(figures: RunFigures, name: str) -> str:
    usage = figures.usage.get(name)
    return f"{usage.cpu_percent:.0f} % / {usage.peak_rss_mib:.0f}" if usage else "-"


def _cpu_per_k(figures: RunFigures, name: str | None) -> str:
    """CPU-seconds per 1,000 published messages of one process group (None: all of them together)."""
    if not figures.published:
        return "-"
    if name is None:
        used = sum(u.cpu_seconds for u in figures.usage.values())
    elif name in figures.usage:
        used = figures.usage[name].cpu_seconds
    else:
        return "-"
    return f"{1000 * used / figures.published:.3f}"


def ratios(result: PipelineResult) -> str:
    peer = f"{result.peer_ratio:.2f}" if result.peer_ratio else "n/a"
    naive = f"{result.ratio:.1f}" if result.ratio else "n/a"
    return f"ours / Telegraf = {peer}, ours / naive = {naive}"


def rounds_line(result: PipelineResult) -> str:
    """Each round's ours / Telegraf docs/s and ratio, and which ran first ('' with one run of each)."""
    if len(result.ours_rounds) < 2 or not result.telegraf_rounds:
        return ""
    parts = []
    for n, (ours, peer, ratio, peer_first) in enumerate(
        zip(
            result.ours_rounds,
            result.telegraf_rounds,
            result.round_ratios,
            result.telegraf_first,
            strict=False,
        ),
        1,
    ):
        first = "Telegraf first" if peer_first else "ours first"
        shown = f"{ratio:.2f}" if ratio is not None else "n/a"
        parts.append(f"{n}: {_num(ours.throughput)} / {_num(peer.throughput)} = {shown} ({first})")
    return "Rounds, ours / Telegraf docs/s = ratio: " + "; ".join(parts) + "."


def pipeline_table(result: PipelineResult) -> Table:
    table = Table(
        title=f"pipeline benchmark ({result.options.sensor}): {ratios(result)}",
        caption=rounds_line(result) or None,
    )
    table.add_column("figure")
    for title in column_titles(result):
        table.add_column(title, justify="right")
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
        "the section *What limits throughput* is hand-written from profiling (`tools/bench/findings.md`).",
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
            "## Alerts: one cycle (`tools.bench.alerts_cycle.run`)",
            "",
            "| figure | value |",
            "|---|---|",
            *(f"| {key} | {value} |" for key, value in alerts.items()),
            "",
        ]
    if LATENCY.exists():  # written by `finemeca bench alerts-latency`
        lines += [LATENCY.read_text().strip(), ""]
    if FRONT_DOOR.exists():
        lines += [FRONT_DOOR.read_text().strip(), ""]
    if WEEKLY_REPORT.exists():
        lines += [WEEKLY_REPORT.read_text().strip(), ""]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    return "\n".join(lines)


def _pipeline_section(result: PipelineResult) -> list[str]:
    o = result.options
    env = ", ".join(
        [
            f"{o.gateways} gateway(s)",
            f"{o.ingestors} ingestor process(es)",
            *(f"`{k}={v}`" for k, v in o.env.items()),
        ]
    )
    return [
        "## Pipeline: MQTT -> gateway -> ActiveMQ -> ingestor -> Elasticsearch",
        "",
        f"Workload: `{o.sensor}` sensor, {o.devices:,} simulated devices, target {o.rate:,.0f} msg/s for "
        f"{o.duration:.0f} s ({int(o.rate * o.duration):,} messages, pre-encoded, QoS 1). The naive baseline "
        f"(`tools/bench/naive.py`: auto-ack MQTT, one STOMP SEND per message, one index request per "
        f"document) gets {o.naive_messages:,} messages at the same target rate in the same run. "
        + (
            "Telegraf (`tools/bench/telegraf.py`: mqtt_consumer -> elasticsearch, persistent session, "
            "1,000 undelivered, batches of 1,000, 1 s flush, behind a proxy answering `GET /`) gets the same "
            "messages as ours, back to back with it. "
            if result.telegraf
            else ""
        )
        + (
            f"Each pipeline first runs {o.warmup:.0f} s unmeasured (the stack's JVMs start cold). "
            if o.warmup > 0
            else ""
        )
        + (
            f"{len(result.ours_rounds)} rounds of ours and Telegraf, back to back in alternating order: "
            "the ratio is the median of the rounds' ratios; each column shows that pipeline's median round. "
            if len(result.ours_rounds) > 1 and result.telegraf_rounds
            else ""
        )
        + (
            f"Ours runs a second time at {o.steady_rate:,.0f} msg/s for {o.steady_duration:.0f} s, below its "
            "capacity, because latency measured while a backlog grows only measures the backlog. "
            if o.steady_rate
            else ""
        )
        + f"Our settings: {env}.",
        "",
        "How it is measured: throughput = documents searchable / (first publish -> last document searchable);",
        f"indexing rate = documents becoming searchable per second in {o.windows} equal windows of the",
        "delivery span (first to last document becoming searchable), median quoted;",
        "latency = publish of a sampled message (1 in N, ~2,000 samples) -> first `_search` by id that finds",
        "it (polled every 50 ms, so it includes the refresh interval), sampled in the below-capacity run",
        "only when there is one (searching ours by id during the throughput runs would load Elasticsearch",
        "during ours and not during Telegraf's, whose ids are unknown); loss = expected deterministic ids",
        "absent from the index at the end (all ids scanned); duplicates = documents the ingestor found",
        "already indexed (409 on create), ids being deterministic the index itself cannot hold duplicates;",
        "CPU = average over the run in % of one core (from /proc), peak RSS = VmHWM for our processes;",
        "CPU s per 1,000 msgs = CPU-seconds the process used during the run / messages published x 1,000.",
        "",
        f"**Throughput {ratios(result)}** (end-to-end, same run, same stack).",
        "",
        *([rounds_line(result), ""] if rounds_line(result) else []),
        "| figure | " + " | ".join(column_titles(result)) + " |",
        "|---|" + "---:|" * len(columns(result)),
        *("| " + " | ".join(row) + " |" for row in pipeline_rows(result)),
        "",
    ]
