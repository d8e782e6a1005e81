"""The benchmarks `finemeca bench` runs: the pipeline (a warm-up, then rounds of ours and Telegraf in
alternating order on the same messages, the naive baseline, ours below capacity) and one alert cycle.
Progress is shown with rich; results come back as plain data.

Why rounds and a warm-up: the stack's JVMs (Elasticsearch, ActiveMQ) run a cold start several times slower,
and whichever pipeline ran first paid for it; the shared machine's load also drifts within minutes. Each
round runs both pipelines back to back (the order alternates) and the ratio quoted is the median of the
rounds' ratios."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from finemeca.es import make_client
from tools.bench import alerts_cycle as alerts_bench
from tools.bench import runner, telegraf
from tools.bench.figures import RunFigures
from tools.bench.profiling import Profiler
from tools.bench.workload import build


@dataclass
class PipelineOptions:
    sensor: str = "air"
    devices: int = 1000
    rate: float = 10_000
    duration: float = 60
    naive_messages: int = 10_000
    drain_timeout: float = 300
    stall_timeout: float = 20
    windows: int = 3
    env: dict[str, str] = field(default_factory=dict)  # extra settings for our gateway/ingestor
    profile: bool = False  # py-spy our gateway and ingestor while publishing
    ingestors: int = 1  # competing consumers on the queue
    gateways: int = 1  # gateway replicas sharing the MQTT subscription
    peer: bool = True  # Telegraf on the same stack, same workload (tools/bench/telegraf.py)
    steady_rate: float | None = 3000  # a second run of ours below capacity, for latency (None: skip)
    steady_duration: float = 30
    rounds: int = 3  # ours and Telegraf back to back, order alternating; medians quoted
    warmup: float = 15  # seconds of each pipeline first, unmeasured (cold JVMs; 0: none)
    log_dir: Path = Path("var/bench")

    @classmethod
    def quick(cls, **overrides: Any) -> PipelineOptions:
        """A smoke run of a few seconds (tests, CI)."""
        values: dict[str, Any] = dict(
            devices=20,
            rate=500,
            duration=2,
            naive_messages=200,
            drain_timeout=30,
            stall_timeout=10,
            steady_rate=None,
            peer=False,
            rounds=1,
            warmup=0,
        )
        return cls(**(values | overrides))


def median_run(runs: list[RunFigures]) -> RunFigures:
    """The run of median throughput (the lower middle one for an even count): the column shown."""
    ranked = sorted(runs, key=lambda run: run.throughput)
    return ranked[(len(ranked) - 1) // 2]


@dataclass
class PipelineResult:
    options: PipelineOptions
    ours_rounds: list[RunFigures]
    naive: RunFigures
    steady: RunFigures | None = None  # ours again at a sustainable rate (latency below saturation)
    telegraf_rounds: list[RunFigures] = field(default_factory=list)  # the peer, same messages, same stack
    telegraf_first: list[bool] = field(default_factory=list)  # per round: did Telegraf run first?

    @property
    def ours(self) -> RunFigures:
        return median_run(self.ours_rounds)

    @property
    def telegraf(self) -> RunFigures | None:
        return median_run(self.telegraf_rounds) if self.telegraf_rounds else None

    @property
    def ratio(self) -> float | None:
        return self.ours.throughput / self.naive.throughput if self.naive.throughput else None

    @property
    def round_ratios(self) -> list[float | None]:
        """Ours / Telegraf end-to-end throughput in each round (both ran back to back)."""
        return [
            ours.throughput / peer.throughput if peer.throughput else None
            for ours, peer in zip(self.ours_rounds, self.telegraf_rounds, strict=False)
        ]

    @property
    def peer_ratio(self) -> float | None:
        """Ours / Telegraf, end-to-end throughput: the median of the rounds' ratios."""
        known = [r for r in self.round_ratios if r is not None]
        return statistics.median(known) if known else None


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def run_pipeline(options: PipelineOptions, console: Console | None = None) -> PipelineResult:
    console = console or Console()
    es = make_client()
    ours_count = int(options.rate * options.duration)
    with _progress(console) as progress:
        tasks: dict[str, Any] = {}

        def status_for(label: str) -> runner.Status:
            def status(phase: str, done: float, total: float) -> None:
                key = f"{label}: {phase}"
                if key not in tasks:
                    tasks[key] = progress.add_task(key, total=total)
                progress.update(tasks[key], completed=done, total=total)

            return status

        ours_load = build(
            options.sensor,
            ours_count,
            options.devices,
            progress=lambda d, t: status_for("ours")("build", d, t),
        )
        naive_load = build(options.sensor, options.naive_messages, options.devices, seed=11)
        if options.warmup > 0:
            _warm_up(options, es, status_for)
        ours_rounds: list[RunFigures] = []
        peer_rounds: list[RunFigures] = []
        telegraf_first: list[bool] = []
        for n in range(max(1, options.rounds)):
            tag = f" (round {n + 1})" if options.rounds > 1 else ""
            peer_first = options.peer and n % 2 == 1
            telegraf_first.append(peer_first)
            if peer_first:
                peer_rounds.append(_run_telegraf(options, ours_load, es, status_for("Telegraf" + tag)))
            ours_rounds.append(_run_ours(options, ours_load, es, status_for("ours" + tag)))
            if options.peer and not peer_first:
                peer_rounds.append(_run_telegraf(options, ours_load, es, status_for("Telegraf" + tag)))
        naive = _run_naive(options, naive_load, es, status_for("naive"))
        steady = None
        if options.steady_rate:
            label = f"ours @ {options.steady_rate:,.0f}/s"
            count = int(options.steady_rate * options.steady_duration)
            steady_load = build(options.sensor, count, options.devices, seed=13)
            steady = _run_ours(options, steady_load, es, status_for(label), options.steady_rate, label)
    es.close()
    return PipelineResult(options, ours_rounds, naive, steady, peer_rounds, telegraf_first)


def _warm_up(options: PipelineOptions, es: Any, status_for: Any) -> None:
    """Each pipeline for `warmup` seconds at the target rate, unmeasured: JIT-compiled JVMs, warm caches."""
    count = int(options.rate * options.warmup)
    load = build(options.sensor, count, options.devices, seed=17)
    unprofiled = replace(options, profile=False)
    _run_ours(unprofiled, load, es, status_for("warm-up: ours"))
    if options.peer:
        _run_telegraf(unprofiled, load, es, status_for("warm-up: Telegraf"))


def _plan(
    options: PipelineOptions, label: str, count: int, rate: float | None = None, latency: bool = True
) -> runner.RunPlan:
    rate = rate or options.rate
    return runner.RunPlan(
        label,
        options.sensor,
        rate,
        duration=count / rate + 1,
        drain_timeout=options.drain_timeout,
        stall_timeout=options.stall_timeout,
        windows=options.windows,
        probe_latency=latency,
    )


def _run_ours(
    options: PipelineOptions,
    load: Any,
    es: Any,
    status: runner.Status,
    rate: float | None = None,
    label: str = "ours",
) -> RunFigures:
    prefix = runner.new_namespace("ours")
    load.retarget(prefix)
    try:
        with runner.our_pipeline(
            options.sensor,
            prefix,
            options.log_dir / prefix,
            options.env,
            options.ingestors,
            options.gateways,
        ) as pipeline:
            roles = {proc.name: proc for proc in pipeline.processes}
            pids = {name: proc.popen.pid for name, proc in roles.items() if proc.popen}
            profiler = None
            if options.profile:
                profiler = Profiler(options.log_dir / prefix / "profiles", options.duration)
            return runner.run_workload(
                # latency comes from the below-capacity run when there is one (RunPlan.probe_latency)
                _plan(options, label, len(load), rate, latency=rate is not None or not options.steady_rate),
                load,
                prefix,
                es,
                pids,
                runner.our_counters(pipeline),
                status,
                metrics_ports={role: proc.port for role, proc in roles.items()},
                profiler=profiler,
            )
    finally:
        runner.cleanup(es, prefix)


def _run_naive(options: PipelineOptions, load: Any, es: Any, status: runner.Status) -> RunFigures:
    prefix = runner.new_namespace("naive")
    load.retarget(prefix)
    try:
        with runner.naive_pipeline(options.sensor, prefix, options.log_dir / prefix) as pids:
            return runner.run_workload(
                _plan(options, "naive baseline", len(load)), load, prefix, es, pids, dict, status
            )
    finally:
        runner.cleanup(es, prefix)


def _run_telegraf(options: PipelineOptions, load: Any, es: Any, status: runner.Status) -> RunFigures:
    """The same workload (same messages) through Telegraf, on the same stack, right after ours."""
    telegraf.binary()  # built before the clock starts
    prefix = runner.new_namespace("telegraf")
    load.retarget(prefix)
    try:
        with telegraf.peer(options.sensor, prefix, options.log_dir / prefix) as pids:
            return runner.run_workload(
                _plan(options, f"Telegraf {telegraf.VERSION}", len(load)),
                load,
                prefix,
                es,
                pids,
                dict,
                status,
                index=telegraf.index_name(prefix, options.sensor),
            )
    finally:
        runner.forget_mqtt_session(f"{prefix}-telegraf")
        runner.cleanup(es, prefix)


def run_alerts(devices: int = 10_000, console: Console | None = None) -> dict[str, Any]:

    console = console or Console()
    with console.status(f"alert cycle over {devices:,} devices..."):
        began = time.perf_counter()
        figures = alerts_bench.run(devices=devices)
        figures["total_seconds"] = round(time.perf_counter() - began, 2)
    return figures
