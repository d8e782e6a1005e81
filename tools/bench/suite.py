"""The benchmarks `finemeca bench` runs: the pipeline (ours, then the naive baseline, same workload
shape) and one alert cycle. Progress is shown with rich; results come back as plain data."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
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
        )
        return cls(**(values | overrides))


@dataclass
class PipelineResult:
    options: PipelineOptions
    ours: RunFigures
    naive: RunFigures
    steady: RunFigures | None = None  # ours again at a sustainable rate (latency below saturation)
    telegraf: RunFigures | None = None  # the peer, same workload, same stack

    @property
    def ratio(self) -> float | None:
        return self.ours.throughput / self.naive.throughput if self.naive.throughput else None

    @property
    def peer_ratio(self) -> float | None:
        """Ours / Telegraf, end-to-end throughput (documents searchable per second)."""
        if self.telegraf is None or not self.telegraf.throughput:
            return None
        return self.ours.throughput / self.telegraf.throughput


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
        ours = _run_ours(options, ours_load, es, status_for("ours"))
        peer = None
        if options.peer:
            peer = _run_telegraf(options, ours_load, es, status_for("Telegraf"))
        naive = _run_naive(options, naive_load, es, status_for("naive"))
        steady = None
        if options.steady_rate:
            label = f"ours @ {options.steady_rate:,.0f}/s"
            count = int(options.steady_rate * options.steady_duration)
            steady_load = build(options.sensor, count, options.devices, seed=13)
            steady = _run_ours(options, steady_load, es, status_for(label), options.steady_rate, label)
    es.close()
    return PipelineResult(options, ours, naive, steady, peer)


def _plan(options: PipelineOptions, label: str, count: int, rate: float | None = None) -> runner.RunPlan:
    rate = rate or options.rate
    return runner.RunPlan(
        label,
        options.sensor,
        rate,
        duration=count / rate + 1,
        drain_timeout=options.drain_timeout,
        stall_timeout=options.stall_timeout,
        windows=options.windows,
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
                _plan(options, label, len(load), rate),
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
