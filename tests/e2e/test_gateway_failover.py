"""Gateway replicas in one MQTT shared group on the real Mosquitto: a replica that crashes (kill -9, not
restarted) or is scaled away (SIGTERM) strands nothing, because a live member adopts its persistent
session and drains it; replicas added under load take a share. Zero lost, zero duplicate documents,
and the delay until everything is indexed is printed (docs/scaling.md quotes it)."""

from __future__ import annotations

import time

import pytest

from finemeca import naming
from tests.e2e.helpers import BackgroundPublisher, assert_exactly_once, simulated_stream, wait_for_health
from tools.pipeline import LocalPipeline, RoleProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.failover]
SENSOR = "air"
MESSAGES = 12_000
RATE = 600.0  # msg/s: a 20 s stream


def _add_gateway(pipeline: LocalPipeline, prefix: str, replica: str) -> RoleProcess:
    proc = RoleProcess("gateway", SENSOR, replica, dict(pipeline.env), pipeline.log_dir, free_port())
    proc.log_path = pipeline.log_dir / f"{proc.name}.log"
    proc.env["GATEWAY_CLIENT_ID"] = f"{prefix}-{proc.name}"
    pipeline.processes.append(proc)
    proc.start()
    return proc


def _report(label: str, stream_done: float, indexed: float, gateways: list[RoleProcess]) -> None:
    states = {p.name: p.health() or {} for p in gateways if p.alive()}
    shares = {n: (s.get("forwarded"), s.get("adopted_sessions")) for n, s in states.items()}
    print(
        f"[{label}] {MESSAGES} msgs at {RATE:.0f}/s: all indexed {indexed - stream_done:.1f}s after the "
        f"last publish; (forwarded, adopted sessions) per live gateway: {shares}"
    )


@pytest.mark.parametrize("how", ["kill -9", "SIGTERM"])
def test_a_replica_gone_for_good_strands_nothing(start_pipeline, prefix, es_client, how):
    stream = simulated_stream(prefix, SENSOR, MESSAGES, devices=50, seed=11)
    alias = naming.data_index_alias(SENSOR, prefix)
    pipeline = start_pipeline([SENSOR], gateways=2, ingestors=1, GATEWAY_SHARED_GROUP=f"{prefix}-gw")
    leaving, staying = (p for p in pipeline.processes if p.role == "gateway")

    publisher = BackgroundPublisher(stream.items, rate=RATE).start()
    publisher.wait_sent(MESSAGES // 3)
    wait_for_health(leaving, lambda s: s.get("forwarded", 0) > 0, timeout=30)
    gone_at = time.monotonic()
    if how == "kill -9":
        leaving.kill()
    else:
        assert leaving.stop() == 0, f"{leaving.name} did not exit cleanly on SIGTERM"
    state = wait_for_health(staying, lambda s: s.get("adopted_sessions", 0) >= 1, timeout=180)
    adopted_at = time.monotonic()
    publisher.join()
    stream_done = time.monotonic()
    assert_exactly_once(es_client, alias, stream.ids, timeout=180)
    indexed = time.monotonic()
    print(
        f"[{how}] {leaving.name} gone; {staying.name} adopted its session and drained "
        f"{state.get('adopted_forwarded')} messages, {adopted_at - gone_at:.1f}s after it went"
    )
    _report(how, stream_done, indexed, [staying])
    assert not leaving.alive()


def test_scale_one_to_three_under_load(start_pipeline, prefix, es_client):
    stream = simulated_stream(prefix, SENSOR, MESSAGES, devices=50, seed=12)
    alias = naming.data_index_alias(SENSOR, prefix)
    pipeline = start_pipeline([SENSOR], gateways=1, ingestors=1, GATEWAY_SHARED_GROUP=f"{prefix}-gw")
    first = pipeline.get("gateway", SENSOR)

    publisher = BackgroundPublisher(stream.items, rate=RATE).start()
    publisher.wait_sent(MESSAGES // 4)
    added = [_add_gateway(pipeline, prefix, r) for r in ("2", "3")]
    pipeline.wait_healthy(60, procs=added)
    publisher.join()
    stream_done = time.monotonic()
    assert_exactly_once(es_client, alias, stream.ids, timeout=180)
    indexed = time.monotonic()
    gateways = [first, *added]
    _report("scale 1->3", stream_done, indexed, gateways)
    for proc in added:
        forwarded = int((proc.health() or {}).get("forwarded", 0))  # type: ignore[call-overload]
        assert forwarded > 0, f"{proc.name} joined the group under load but forwarded nothing"
