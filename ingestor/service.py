"""Ingestor process for one sensor: ActiveMQ queue -> validate -> transform -> _bulk -> ack.

Acknowledges a message only once Elasticsearch accepted its document (or already had it), or once
the dead-letter queue confirmed its copy. A crash at any point means redelivery, and redelivery is
harmless: document ids are deterministic and written with op_type=create.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from datetime import UTC, datetime
from types import FrameType

from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer
from stomp.exception import StompException
from stomp.utils import Frame

from finemeca import naming
from finemeca.batching import take_batch
from finemeca.bounded import shorten
from finemeca.config import ElasticsearchSettings, ObservabilitySettings, StompSettings
from finemeca.deadletter import DEADLETTER_MAPPINGS, MAX_REASON_CHARS, dead_letter_headers
from finemeca.errors import StopRequested
from finemeca.es import ensure_index, make_client, wait_until_healthy
from finemeca.logs import get_logger
from finemeca.metrics import serve_health_and_metrics
from finemeca.retry import RetryPolicy, retrying
from finemeca.stomp_link import StompLink, StompUnavailableError, ack_id
from ingestor import bulk, metrics
from ingestor.derived import run_after_index
from ingestor.indices import ensure_sensor_template
from ingestor.keywords import TRUNCATED_FIELD, keyword_limits
from ingestor.prepare import Incoming, Rejected, prepare
from ingestor.settings import IngestorSettings
from sensors.registry import get_sensor

log = get_logger(__name__)


class Ingestor:
    def __init__(
        self,
        sensor: str,
        settings: IngestorSettings | None = None,
        stomp: StompSettings | None = None,
        es_settings: ElasticsearchSettings | None = None,
    ) -> None:
        self.plugin = get_sensor(sensor)
        self.sensor = sensor
        self.settings = settings or IngestorSettings()
        self.stomp_settings = stomp or StompSettings()
        self.es_settings = es_settings or ElasticsearchSettings()
        self.prefix = self.es_settings.index_prefix
        self.keyword_limits = keyword_limits(self.plugin.index_mappings())
        self.queue = naming.data_queue(sensor, self.stomp_settings.queue_prefix)
        self.dlq = naming.dead_letter_queue(sensor, self.stomp_settings.queue_prefix)
        self.inbox: queue.Queue[Incoming] = queue.Queue()
        self.link = StompLink(
            self.stomp_settings, client_name=f"ingestor-{sensor}", on_message=self._on_message
        )
        self.es: Elasticsearch = make_client(self.es_settings, serializer=OrjsonSerializer())
        self.stop_requested = threading.Event()
        self.retry_policy = RetryPolicy(initial=0.5, cap=self.settings.max_retry_backoff_s)
        self._failure: StompUnavailableError | StopRequested | None = None
        self._counts_lock = threading.Lock()
        self.indexed = self.duplicates = self.dead_lettered = 0
        self.last_batch_at: float | None = None
        self.es_ok = False

    # -- lifecycle --------------------------------------------------------------------------------------
    def health(self) -> dict[str, object]:
        return {
            "ok": self.link.connected and self.es_ok,
            "sensor": self.sensor,
            "stomp_connected": self.link.connected,
            "elasticsearch_ok": self.es_ok,
            "indexed": self.indexed,
            "duplicates": self.duplicates,
            "dead_lettered": self.dead_lettered,
            "pending": self.inbox.qsize(),
            "last_batch_at": self.last_batch_at,
        }

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        log.info("ingestor.stopping", sensor=self.sensor, signal=signum)
        self.stop_requested.set()

    def setup(self) -> None:
        wait_until_healthy(self.es, timeout=300, stop=self.stop_requested)
        ensure_sensor_template(
            self.es,
            self.plugin,
            self.prefix,
            self.settings.index_shards,
            self.settings.index_replicas,
            self.settings.refresh_interval,
        )
        ensure_index(
            self.es, naming.deadletter_index(self.prefix), DEADLETTER_MAPPINGS, self.settings.index_replicas
        )
        self.es_ok = True

    def run(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        try:
            self.setup()
        except StopRequested:
            log.info("ingestor.stopped_before_start", sensor=self.sensor)
            return
        self.link.subscribe(
            self.queue,
            f"ingestor-{self.sensor}",
            ack="client-individual",
            headers={"activemq.prefetchSize": str(self.settings.effective_prefetch)},
        )
        self.link.ensure_connected(stop=self.stop_requested)
        log.info(
            "ingestor.started",
            sensor=self.sensor,
            queue=self.queue,
            prefetch=self.settings.effective_prefetch,
        )
        workers = [
            threading.Thread(target=self._work, name=f"ingestor-worker-{i}", daemon=True)
            for i in range(self.settings.workers)
        ]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:  # short joins: the main thread keeps handling SIGTERM
                while worker.is_alive():
                    worker.join(0.5)
            if self._failure is not None:
                raise self._failure
            self._drain()
        except (StompUnavailableError, StopRequested) as exc:
            log.warning(
                "ingestor.stopped_with_pending",
                sensor=self.sensor,
                reason=str(exc),
                note="unacknowledged messages are redelivered by ActiveMQ",
            )
        finally:
            self.link.close()
            log.info(
                "ingestor.stopped",
                sensor=self.sensor,
                indexed=self.indexed,
                duplicates=self.duplicates,
                dead_lettered=self.dead_lettered,
            )

    def _work(self) -> None:
        """One worker: take a batch, index it, ack it. Several run at once so bulk requests overlap."""
        try:
            while not self.stop_requested.is_set():
                if not self.link.connected:
                    self.link.ensure_connected(stop=self.stop_requested)
                batch = self._next_batch()
                if batch:
                    self.process(batch)
        except (StompUnavailableError, StopRequested) as exc:
            self._failure = exc
            self.stop_requested.set()

    def _drain(self) -> None:
        """On stop: take no new messages, finish what the broker already handed us."""
        if self.link.connected:
            self.link.unsubscribe(f"ingestor-{self.sensor}")
        time.sleep(0.2)
        while batch := self._next_batch(wait=0.05):
            self.process(batch)

    # -- data path ---------------------------------------------------------------------------------------
    def _on_message(self, frame: Frame, generation: int) -> None:
        body = frame.body if isinstance(frame.body, bytes) else str(frame.body).encode()
        self.inbox.put(Incoming(ack_id(frame), generation, body, dict(frame.headers)))

    def _next_batch(self, wait: float = 0.2) -> list[Incoming]:
        return take_batch(self.inbox, self.settings.batch_size, self.settings.batch_timeout_ms / 1000, wait)

    def process(self, batch: list[Incoming]) -> None:
        metrics.RECEIVED.labels(self.sensor).inc(len(batch))
        metrics.PENDING.labels(self.sensor).set(self.inbox.qsize() + len(batch))
        prepared = prepare(
            batch,
            self.plugin,
            self.settings.zone,
            self.prefix,
            self.settings.unknown_fields,
            self.settings.clock_skew_tolerance,
            self.keyword_limits,
        )
        started = time.monotonic()
        try:
            outcome = bulk.write(
                self.es,
                prepared.ready,
                self.retry_policy,
                stop=self.stop_requested,
                on_unavailable=self._elasticsearch_unavailable,
            )
            self.es_ok = True
        except StopRequested:
            self.es_ok = False
            raise
        metrics.BULK_SECONDS.labels(self.sensor).observe(time.monotonic() - started)
        metrics.BATCH_SIZE.labels(self.sensor).observe(len(prepared.ready))
        metrics.RETRIES.labels(self.sensor).inc(outcome.retries)
        rejected = prepared.rejected + [
            Rejected(p.incoming, "index", reason, p.document.get("device_key"))
            for p, reason in outcome.rejected
        ]
        if rejected:
            self._dead_letter(rejected)
        if outcome.created:
            try:
                written = [(p.index, p.document) for p in outcome.created]
                run_after_index(self.es, self.plugin, written, self.prefix, self.settings.zone)
            except Exception as exc:  # derived data: recomputed by the next batch, never blocks ingestion
                log.error("ingestor.after_index_failed", sensor=self.sensor, error=str(exc))
        done = [p.incoming for p in outcome.created + outcome.duplicates] + [r.incoming for r in rejected]
        acked = self._ack(done)
        with self._counts_lock:
            self.indexed += len(outcome.created)
            self.duplicates += len(outcome.duplicates)
            self.dead_lettered += len(rejected)
        metrics.INDEXED.labels(self.sensor).inc(len(outcome.created))
        metrics.DUPLICATES.labels(self.sensor).inc(len(outcome.duplicates))
        self._observe_lag(outcome.created)
        self._count_flags(outcome.created)
        self.last_batch_at = time.time()
        if acked < len(done):
            log.warning(
                "ingestor.stale_acks_skipped",
                sensor=self.sensor,
                skipped=len(done) - acked,
                note="connection was renewed; ActiveMQ redelivers them and the ids deduplicate",
            )

    def _elasticsearch_unavailable(self) -> None:
        self.es_ok = False  # /healthz reports it while bulk.write keeps retrying; set back on success

    def _ack(self, done: list[Incoming]) -> int:
        """ACK frames of one connection generation go out in one socket write; stale ones are skipped."""
        acked = 0
        for generation in sorted({incoming.generation for incoming in done}):
            ids = [incoming.ack_id for incoming in done if incoming.generation == generation]
            try:
                acked += len(ids) if self.link.ack_many(ids, generation) else 0
            except (StompException, StompUnavailableError, OSError):
                break  # connection lost: the rest is redelivered
        return acked

    def _observe_lag(self, created: list[bulk.Prepared]) -> None:
        now_ms = time.time() * 1000
        for p in created:
            received = p.incoming.headers.get(naming.HEADER_RECEIVED_AT)
            if received and str(received).isdigit():
                metrics.LAG_SECONDS.labels(self.sensor).observe((now_ms - int(received)) / 1000)

    def _count_flags(self, created: list[bulk.Prepared]) -> None:
        skewed = sum(1 for p in created if p.document.get("clock_skewed"))
        if skewed:
            metrics.CLOCK_SKEWED.labels(self.sensor).inc(skewed)
        for p in created:
            for name in p.document.get(TRUNCATED_FIELD, ()):
                metrics.TRUNCATED.labels(self.sensor, name).inc()

    def _dead_letter(self, rejected: list[Rejected]) -> None:
        """Copy rejected messages to the DLQ (confirmed by receipt) before they are acked."""
        for attempt in retrying(
            self.retry_policy,
            stop=self.stop_requested,
            retry_on=(StompException, StompUnavailableError, OSError),
            name="ingestor.dead_letter",
            log_fields={"sensor": self.sensor, "messages": len(rejected)},
        ):
            with attempt:
                self.link.ensure_connected(stop=self.stop_requested)
                tx = self.link.begin()
                for r in rejected:
                    headers = dead_letter_headers(
                        r.reason, r.stage, self.sensor, self.queue, r.incoming.headers
                    )
                    self.link.send(self.dlq, r.incoming.body, headers, transaction=tx)
                self.link.commit(tx)
        for r in rejected:
            metrics.DEAD_LETTERED.labels(self.sensor, r.stage).inc()
            log.warning(
                "ingestor.dead_letter",
                sensor=self.sensor,
                stage=r.stage,
                reason=shorten(r.reason, MAX_REASON_CHARS),
                device_key=r.device_key,
            )
        self._record_dead_letters(rejected)

    def _record_dead_letters(self, rejected: list[Rejected]) -> None:
        """Best effort: a dashboard-friendly record; the DLQ itself is the source of truth."""
        now = datetime.now(UTC).isoformat()
        operations: list[dict[str, object]] = []
        for r in rejected:
            operations.append({"index": {"_index": naming.deadletter_index(self.prefix)}})
            operations.append(
                {
                    "@timestamp": now,
                    "sensor": self.sensor,
                    "stage": r.stage,
                    "reason": shorten(r.reason, MAX_REASON_CHARS),
                    "device_key": r.device_key,
                    "body_preview": r.incoming.body[:500].decode("utf-8", "replace"),
                }
            )
        try:
            self.es.bulk(operations=operations)
        except Exception as exc:
            log.warning("ingestor.deadletter_record_failed", error=str(exc))


def run_ingestor(sensor: str) -> None:
    obs = ObservabilitySettings()
    ingestor = Ingestor(sensor)
    if obs.metrics_port:
        serve_health_and_metrics(obs.metrics_host, obs.metrics_port, ingestor.health)
    ingestor.run()
