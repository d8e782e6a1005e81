"""No silent death (issue 10, finding 1): a failing worker ends the process with code 1 and an error log,
and /healthz turns not-ok while a batch is stuck. An in-process ingestor on the real ActiveMQ and
Elasticsearch, with the failure injected into its batch processing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from finemeca import naming
from finemeca.config import ElasticsearchSettings, StompSettings
from finemeca.es import make_client
from finemeca.stomp_link import StompLink
from ingestor.service import Ingestor
from ingestor.settings import IngestorSettings

pytestmark = pytest.mark.integration
SENSOR = "devicev01"
SAMPLE = Path("sensors/devicev01/sample.json").read_bytes()


@pytest.fixture
def ingestor(
    unique_name: str, stomp_settings: StompSettings, es_settings: ElasticsearchSettings
) -> Iterator[Ingestor]:
    prefix = unique_name.replace("-", "")
    stomp = stomp_settings.model_copy(update={"queue_prefix": prefix})
    es = es_settings.model_copy(update={"index_prefix": prefix})
    settings = IngestorSettings(workers=1, stuck_after_s=1.0, batch_timeout_ms=50)
    link = StompLink(stomp, client_name="supervision-test")
    link.ensure_connected(give_up_after=15)
    link.send_confirmed(naming.data_queue(SENSOR, prefix), SAMPLE, {"content-type": "application/json"})
    link.close()
    service = Ingestor(SENSOR, settings, stomp, es)
    yield service
    service.request_stop()
    client = make_client(es)
    client.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")
    client.close()


def _run(service: Ingestor) -> tuple[threading.Thread, list[int]]:
    code: list[int] = []
    thread = threading.Thread(target=lambda: code.append(service.run()), daemon=True)
    thread.start()
    return thread, code


def test_a_failing_worker_stops_the_process_with_exit_code_1(ingestor, monkeypatch):
    def broken(batch: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(ingestor, "process", broken)
    with capture_logs() as events:
        thread, code = _run(ingestor)
        thread.join(60)
    assert code == [1], "a worker failure must end the run with exit code 1"
    assert ingestor.health()["ok"] is False
    failed = [e for e in events if e["event"] == "ingestor.worker_failed"]
    assert failed and failed[0]["log_level"] == "error" and "injected failure" in failed[0]["error"]
    [stopped] = [e for e in events if e["event"] == "ingestor.stopped"]
    assert stopped["log_level"] == "error" and stopped["exit_code"] == 1


def test_healthz_turns_not_ok_while_a_batch_is_stuck(ingestor, monkeypatch):
    release = threading.Event()
    original = ingestor.process

    def slow(batch):  # type: ignore[no-untyped-def]
        release.wait(30)
        original(batch)

    monkeypatch.setattr(ingestor, "process", slow)
    thread, code = _run(ingestor)
    deadline = time.monotonic() + 30
    while not ingestor.health()["stuck"] and time.monotonic() < deadline:
        time.sleep(0.2)
    state = ingestor.health()
    assert state["stuck"] is True and state["ok"] is False, state
    release.set()
    while ingestor.indexed < 1 and time.monotonic() < deadline + 30:
        time.sleep(0.2)
    state = ingestor.health()
    assert ingestor.indexed == 1 and state["ok"] is True and state["stuck"] is False, state
    ingestor.request_stop()
    thread.join(30)
    assert code == [0]
