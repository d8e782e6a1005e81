"""Queue depth on the operations dashboard (issue 10, finding 8): the ingestor's sampler reads the real
ActiveMQ's statistics and writes one document per queue and slot into the daily queue-depth index of the
real Elasticsearch. Before, queue depth was only in /metrics, which Kibana cannot read.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from structlog.testing import capture_logs

from finemeca import naming
from finemeca.config import ElasticsearchSettings, StompSettings
from finemeca.es import make_client
from finemeca.stomp_link import StompLink
from ingestor.queue_depth import QueueDepthSampler

pytestmark = pytest.mark.integration
SENSOR = "air"
QUEUED, DEAD = 25, 7


@pytest.fixture
def namespace(es: Elasticsearch, unique_name: str) -> Iterator[str]:
    """A private queue and index prefix; its indices and template are removed afterwards."""
    prefix = unique_name.replace("-", "")
    yield prefix
    es.options(ignore_status=404).indices.delete(index=naming.queue_depth_index_pattern(prefix))
    es.options(ignore_status=404).indices.delete_index_template(name=naming.queue_depth_template(prefix))


@pytest.fixture
def filled(stomp_settings: StompSettings, namespace: str) -> StompSettings:
    """The air data queue of the namespace holds QUEUED messages (no ingestor), its DLQ DEAD."""
    settings = stomp_settings.model_copy(update={"queue_prefix": namespace})
    link = StompLink(settings, "depth-filler")
    link.ensure_connected(give_up_after=15)
    tx = link.begin()
    link.send_many(
        [(naming.data_queue(SENSOR, namespace), b'{"n": %d}' % n, {}) for n in range(QUEUED)]
        + [(naming.dead_letter_queue(SENSOR, namespace), b"bad", {"dlq_stage": "validate"})] * DEAD,
        transaction=tx,
    )
    link.commit(tx)
    link.close()
    return settings


def samples(es: Elasticsearch, prefix: str) -> list[dict[str, Any]]:
    es.indices.refresh(index=naming.queue_depth_index_pattern(prefix), allow_no_indices=True)
    found = es.search(
        index=naming.queue_depth_index_pattern(prefix),
        size=1000,
        sort=[{"@timestamp": "asc"}],
        allow_no_indices=True,
    )
    return [hit["_source"] for hit in found["hits"]["hits"]]


def test_sampler_writes_the_depth_of_the_data_queue_and_the_dlq(es, filled, namespace):
    sampler = QueueDepthSampler(SENSOR, filled, es, namespace, metrics_every=0, sample_every=60)
    now = time.time()
    sampler.sample_once(now)
    sampler.sample_once(now + 0.001)  # same slot: no second document
    docs = samples(es, namespace)
    by_kind = {doc["kind"]: doc for doc in docs}
    assert len(docs) == 2, docs
    assert by_kind["data"]["queue"] == f"{namespace}.{SENSOR}.data"
    assert by_kind["dlq"]["queue"] == f"DLQ.{namespace}.{SENSOR}.data"
    assert (by_kind["data"]["depth"], by_kind["dlq"]["depth"]) == (QUEUED, DEAD)
    assert {doc["sensor"] for doc in docs} == {SENSOR}
    assert by_kind["data"]["consumers"] == 0
    mapping = es.indices.get_mapping(index=naming.queue_depth_index_pattern(namespace))
    assert next(iter(mapping.values()))["mappings"]["dynamic"] == "strict"  # the template, not guesses


def test_sampler_thread_samples_every_slot_until_stopped(es, filled, namespace):
    stop = threading.Event()
    thread = QueueDepthSampler(SENSOR, filled, es, namespace, metrics_every=0, sample_every=1).start(stop)
    assert thread is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(samples(es, namespace)) < 6:
        time.sleep(0.5)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    data = [doc["depth"] for doc in samples(es, namespace) if doc["kind"] == "data"]
    assert len(data) >= 3 and set(data) == {QUEUED}, data


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _failures(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in list(events) if e["event"] == "ingestor.queue_depth_failed"]


@pytest.mark.parametrize("down", ["activemq", "elasticsearch"])
def test_a_failing_sampler_logs_a_warning_and_keeps_running(es, filled, namespace, down):
    stomp, es_client = filled, es
    if down == "activemq":
        stomp = filled.model_copy(update={"port": _closed_port(), "hosts_list": None})
    else:
        es_client = make_client(
            ElasticsearchSettings(url=f"http://127.0.0.1:{_closed_port()}", urls=None, request_timeout=2)
        )
    stop = threading.Event()
    with capture_logs() as events:
        thread = QueueDepthSampler(SENSOR, stomp, es_client, namespace, 0, sample_every=1).start(stop)
        assert thread is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(failures := _failures(events)) < 2:
            time.sleep(0.2)
        assert len(failures) >= 2, events  # it tries again, every slot
        assert all(e["log_level"] == "warning" and e["sensor"] == SENSOR for e in failures)
        assert thread.is_alive(), "the sampler died with its broker or Elasticsearch"
    stop.set()
    thread.join(15)
    assert not thread.is_alive()
    assert samples(es, namespace) == []
