"""Runs one workload through a pipeline (ours or the naive baseline) and measures it end to end.

Each run lives in a private namespace (MQTT topic prefix, STOMP queue prefix, Elasticsearch index
prefix) and deletes its indices and template afterwards.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan
from paho.mqtt.enums import CallbackAPIVersion

from finemeca import naming
from finemeca.config import MqttSettings
from tools.bench import stages
from tools.bench.figures import RunFigures, Usage, delivery_span, percentile, window_rates
from tools.bench.procstats import ProcSampler, status_kib
from tools.bench.profiling import Profiler
from tools.bench.visibility import VisibilityProbe
from tools.bench.workload import Workload
from tools.pipeline import LocalPipeline
from tools.simulate.publisher import MqttPublisher, PublishStats
from tools.stack import manager, process

Status = Callable[[str, float, float], None]  # (phase, done, total) for the progress display


@dataclass
class RunPlan:
    label: str
    sensor: str
    rate: float
    duration: float  # publishing stops after this long (or when the workload ends)
    drain_timeout: float  # after publishing, wait this long at most for the last documents
    stall_timeout: float  # ... or stop waiting when nothing new became searchable for this long
    windows: int = 3
    # search sampled messages by id for latency; off in the throughput runs beside Telegraf, whose ids
    # are unknown: those searches would load Elasticsearch during ours only
    probe_latency: bool = True


def new_namespace(kind: str) -> str:
    return f"bench{kind}{secrets.token_hex(3)}"


def namespace_env(prefix: str) -> dict[str, str]:
    return {"MQTT_TOPIC_PREFIX": prefix, "STOMP_QUEUE_PREFIX": prefix, "ES_INDEX_PREFIX": prefix}


def stack_pids() -> dict[str, list[int]]:
    """Process groups of the local stack services (each service's whole session)."""
    groups = {}
    for service in manager.services():
        pid = service.pid()
        if pid and service.name != "smtp":
            groups[service.name] = process.session_pids(pid)
    return groups


def run_workload(
    plan: RunPlan,
    workload: Workload,
    prefix: str,
    es: Elasticsearch,
    role_pids: dict[str, int],
    counters: Callable[[], dict[str, int]],
    status: Status,
    metrics_ports: dict[str, int] | None = None,
    profiler: Profiler | None = None,
    index: str | None = None,
) -> RunFigures:
    """Publish the workload at the plan's rate, wait until it is searchable, measure everything.

    `index`: where the documents land when not in our daily indices (the Telegraf peer, whose ids are not
    ours: then loss and duplicates are counted, not matched by id)."""
    figures = RunFigures(plan.label, plan.rate)
    by_id = index is None
    index = index or naming.data_index_pattern(plan.sensor, prefix)
    groups = {role: [pid] for role, pid in role_pids.items()}
    groups |= stack_pids()
    groups["bench (publisher+probe)"] = [os.getpid()]
    probe = VisibilityProbe(es, index, workload, sample=by_id and plan.probe_latency)
    sampler = ProcSampler(groups)
    probe.count_now()
    sampler.start()
    probe.start()
    if profiler:
        profiler.start(role_pids)
    expected = len(workload)
    started = time.time()
    with MqttPublisher(MqttSettings(topic_prefix=prefix), client_id=f"{prefix}-publisher") as publisher:

        def published(stats: PublishStats) -> None:
            status("publish", stats.sent, expected)

        stats = publisher.publish_all(
            workload.stream(), rate=plan.rate, duration=plan.duration, on_progress=published
        )
        figures.publish_seconds = time.monotonic() - stats.started
        status("publish", stats.sent, expected)
        publisher.wait_for_acks(timeout=60)
        figures.published = stats.acked
        if stats.failed or stats.pending:
            figures.notes.append(f"{stats.failed} publishes refused, {stats.pending} unacknowledged")
    _wait_searchable(plan, probe, figures.published, status)
    probe.stop()
    usage = sampler.stop()
    for name, group in usage.items():
        peak = group.peak_rss_kib
        if name in role_pids:  # the kernel's own high-water mark is exact for our processes
            peak = max(peak, status_kib(role_pids[name], "VmHWM"))
        figures.usage[name] = Usage(sampler.cpu_percent(name), group.cpu_used, peak / 1024)
    for key, value in counters().items():
        setattr(figures, key, value)
    for port in (metrics_ports or {}).values():
        figures.stages |= stages.read(port)
    if profiler:
        figures.profiles = {name: str(path) for name, path in profiler.stop().items()}
    _fill_results(figures, plan, probe, es, index, workload, started, by_id)
    return figures


def _wait_searchable(plan: RunPlan, probe: VisibilityProbe, expected: int, status: Status) -> None:
    deadline = time.monotonic() + plan.drain_timeout
    last_change, last = time.monotonic(), -1
    while time.monotonic() < deadline:
        n = probe.counts[-1][1] if probe.counts else 0
        status("searchable", n, expected)
        if n >= expected:
            return
        if n != last:
            last, last_change = n, time.monotonic()
        elif time.monotonic() - last_change > plan.stall_timeout:
            return
        time.sleep(0.25)


def _fill_results(
    figures: RunFigures,
    plan: RunPlan,
    probe: VisibilityProbe,
    es: Elasticsearch,
    index: str,
    workload: Workload,
    started: float,
    by_id: bool = True,
) -> None:
    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    if not by_id:
        total = int(es.count(index=index, ignore_unavailable=True, allow_no_indices=True)["count"])
        figures.searchable = total
        figures.missing = max(0, figures.published - total)
        figures.duplicates = max(0, total - figures.published)
        figures.notes.append("counted, not matched by id (the peer's documents have no deterministic id)")
    else:
        _match_ids(figures, es, index, workload)
    span = delivery_span(probe.counts)
    if span:
        figures.end_to_end_seconds = span[1] - started
        figures.window_rates = window_rates(probe.counts, span[0], span[1], plan.windows)
    latencies, ingest = probe.latencies(), probe.ingest_latencies()
    figures.latency_samples = len(latencies)
    figures.latency_p50, figures.latency_p99 = percentile(latencies, 50), percentile(latencies, 99)
    figures.latency_max = latencies[-1] if latencies else None
    figures.ingest_latency_p50, figures.ingest_latency_p99 = percentile(ingest, 50), percentile(ingest, 99)
    if probe.errors:
        figures.notes.append(f"{probe.errors} visibility probes failed")


def _match_ids(figures: RunFigures, es: Elasticsearch, index: str, workload: Workload) -> None:
    present = {
        hit["_id"]
        for hit in scan(es, index=index, query={"query": {"match_all": {}}}, _source=False, size=5000)
    }
    expected = set(workload.doc_ids[: figures.published])
    figures.searchable = len(present)
    figures.missing = len(expected - present)
    if present - expected:
        figures.notes.append(f"{len(present - expected)} unexpected document ids")


def cleanup(es: Elasticsearch, prefix: str) -> None:
    es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")


def forget_mqtt_session(client_id: str) -> None:
    """Remove a persistent MQTT session from Mosquitto: connect once with a clean start."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    settings = MqttSettings()
    client.connect(settings.host, settings.port, clean_start=True)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


# -- the two pipelines ------------------------------------------------------------------------------------


@contextmanager
def our_pipeline(
    sensor: str, prefix: str, log_dir: Path, env: dict[str, str], ingestors: int = 1, gateways: int = 1
) -> Iterator[LocalPipeline]:
    """The real gateway and ingestor processes (`finemeca gateway|ingestor run`); several gateways share
    the MQTT subscription (MQTT 5 shared subscription group)."""
    gateway_id = f"{prefix}-gateway"
    shared = {"GATEWAY_SHARED_GROUP": prefix} if gateways > 1 else {}
    pipeline = LocalPipeline(
        [sensor],
        log_dir,
        env={**namespace_env(prefix), "GATEWAY_CLIENT_ID": gateway_id, **shared, **env},
        ingestors=ingestors,
        gateways=gateways,
    )
    client_ids = []
    for proc in pipeline.processes:
        if proc.role == "gateway":
            proc.env["GATEWAY_CLIENT_ID"] = gateway_id + (f"-{proc.replica}" if proc.replica else "")
            client_ids.append(proc.env["GATEWAY_CLIENT_ID"])
    try:
        pipeline.start()
        yield pipeline
    finally:
        pipeline.stop()
        for client_id in client_ids:
            forget_mqtt_session(client_id)


def our_counters(pipeline: LocalPipeline) -> Callable[[], dict[str, int]]:
    """Forwarded / indexed / duplicates as each role reports them on /healthz (summed over replicas)."""

    def read() -> dict[str, int]:
        totals = {"forwarded": 0, "indexed": 0, "duplicates": 0}
        for proc in pipeline.processes:
            health = proc.health() or {}
            for key in totals:
                value = health.get(key)
                if isinstance(value, int):
                    totals[key] += value
        return totals

    return read


@contextmanager
def naive_pipeline(sensor: str, prefix: str, log_dir: Path) -> Iterator[dict[str, int]]:
    """The baseline forwarder and indexer (tools/bench/naive.py) as processes; yields role -> pid."""
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **namespace_env(prefix)}
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        for role in ("indexer", "forwarder"):
            log = (log_dir / f"naive-{role}.log").open("w")
            proc = procs[role] = subprocess.Popen(
                [sys.executable, "-m", "tools.bench.naive", role, "--sensor", sensor],
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            ready = proc.stdout.readline() if proc.stdout else ""  # EOF if it died
            if ready.strip() != "ready":
                raise RuntimeError(f"naive {role} did not start; see {log_dir / f'naive-{role}.log'}")
        yield {f"naive {role}": proc.pid for role, proc in procs.items()}
    finally:
        for running in procs.values():
            running.terminate()
        for running in procs.values():
            try:
                running.wait(15)
            except subprocess.TimeoutExpired:
                running.kill()
