"""Ingestor process for one sensor: ActiveMQ queue -> validate -> transform -> _bulk -> ack.

Acknowledges a message only once Elasticsearch accepted its document (or already had it), or once
the dead-letter queue confirmed its copy. A crash at any point means redelivery, and redelivery is
harmless: document ids are deterministic and written with op_type=create.

No silent death: a worker that fails stops the process with exit code 1 and an error log (the container
restarts it; the unacknowledged messages are redelivered), and /healthz turns not-ok while a batch is
stuck for longer than INGESTOR_STUCK_AFTER_S.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from types import FrameType

from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer
from stomp.exception import StompException
from stomp.utils import Frame

from finemeca import naming
from finemeca.batching import take_batch
from finemeca.bounded import shorten
from finemeca.config import ElasticsearchSettings, ObservabilitySettings, StompSettings
from finemeca.deadletter import (
    DEADLETTER_MAPPINGS,
    MAX_REASON_CHARS,
    dead_letter_headers,
    record_document,
    record_id,
)
from finemeca.errors import StopRequested
from finemeca.es import ensure_index, make_client, wait_until_healthy
from finemeca.logs import get_logger
from finemeca.metrics import serve_health_and_metrics
from finemeca.retry import RetryPolicy, retrying
from finemeca.stomp_link import StompLink, StompUnavailableError, ack_id
from ingestor import bulk, metrics
from ingestor.conflicts import find_conflicts
from ingestor.derived import run_after_index
from ingestor.indices import ensure_sensor_template
from ingestor.keywords import TRUNCATED_FIELD, keyword_limits
from ingestor.prepare import Incoming, Rejected, prepare
from ingestor.queue_depth import QueueDepthSampler
from ingestor.settings import IngestorSettings
from ingestor.unpacking import unpack_frame
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
        self._failure: BaseException | None = None
        self._signalled = False
        self._counts_lock = threading.Lock()
        self.indexed = self.duplicates = self.dead_lettered = self.conflicts = 0
        self.last_batch_at: float | None = None
        self.es_ok = False
        self._workers: list[threading.Thread] = []
        self._busy_since: dict[str, float] = {}  # worker name -> monotonic start of its current batch
        self._last_progress = time.monotonic()

    # -- lifecycle --------------------------------------------------------------------------------------
    def health(self) -> dict[str, object]:
        stuck_for = self.stuck_for()
        workers_alive = sum(w.is_alive() for w in self._workers)
        stuck = stuck_for > self.settings.stuck_after_s or workers_alive < len(self._workers)
        return {
            "ok": self.link.connected and self.es_ok and not stuck and self._failure is None,
            "sensor": self.sensor,
            "stomp_connected": self.link.connected,
            "elasticsearch_ok": self.es_ok,
            "stuck": stuck,
            "stuck_for_s": round(stuck_for, 1),
            "workers_alive": workers_alive,
            "indexed": self.indexed,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "dead_lettered": self.dead_lettered,
            "pending": self.inbox.qsize(),
            "last_batch_at": self.last_batch_at,
        }

    def stuck_for(self) -> float:
        """Seconds the oldest batch in work has taken, or messages have waited with no batch taken."""
        now = time.monotonic()
        oldest = min(self._busy_since.values(), default=now)
        waiting = now - self._last_progress if self.inbox.qsize() else 0.0
        return max(now - oldest, waiting)

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        log.info("ingestor.stopping", sensor=self.sensor, signal=signum)
        self._signalled = True
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

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (returns 0) or a failure (logged at error, returns 1)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        try:
            self.setup()
        except StopRequested:
            log.info("ingestor.stopped_before_start", sensor=self.sensor)
            return 0
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
        self._workers = [
            threading.Thread(target=self._work, name=f"ingestor-worker-{i}", daemon=True)
            for i in range(self.settings.workers)
        ]
        for worker in self._workers:
            worker.start()
        failed = False
        try:
            for worker in self._workers:  # short joins: the main thread keeps handling SIGTERM
                while worker.is_alive():
                    worker.join(0.5)
            if self._failure is not None:
                raise self._failure
            self._drain()
        except (StompUnavailableError, StopRequested) as exc:
            failed = not self._signalled
            (log.error if failed else log.warning)(
                "ingestor.stopped_with_pending",
                sensor=self.sensor,
                reason=str(exc),
                note="unacknowledged messages are redelivered by ActiveMQ",
            )
        except Exception as exc:
            failed = True
            log.error(
                "ingestor.failed",
                sensor=self.sensor,
                error=f"{type(exc).__name__}: {exc}",
                note="exiting with code 1; unacknowledged messages are redelivered by ActiveMQ",
            )
        finally:
            self.link.close()
            (log.error if failed else log.info)(
                "ingestor.stopped",
                sensor=self.sensor,
                exit_code=int(failed),
                indexed=self.indexed,
                duplicates=self.duplicates,
                conflicts=self.conflicts,
                dead_lettered=self.dead_lettered,
            )
        return int(failed)

    def _work(self) -> None:
        """One worker: take a batch, index it, ack it. Several run at once so bulk requests overlap.

        Any failure stops the whole process (the batch stays unacked and is redelivered): a worker
        never dies alone while the others keep the messages it held."""
        name = threading.current_thread().name
        try:
            while not self.stop_requested.is_set():
                if not self.link.connected:
                    self.link.ensure_connected(stop=self.stop_requested)
                batch = self._next_batch()
                if not batch:
                    continue
                self._busy_since[name] = self._last_progress = time.monotonic()
                try:
                    self.process(batch)
                finally:
                    self._busy_since.pop(name, None)
                    self._last_progress = time.monotonic()
        except (StompUnavailableError, StopRequested) as exc:
            self._failure = exc
            self.stop_requested.set()
        except Exception as exc:
            log.exception("ingestor.worker_failed", sensor=self.sensor, worker=name, error=repr(exc))
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
        for incoming in unpack_frame(ack_id(frame), generation, body, dict(frame.headers)):
            self.inbox.put(incoming)

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
        conflicts = find_conflicts(
            self.es, [p for p in outcome.duplicates if not p.record], self.retry_policy, self.stop_requested
        )
        conflicting = {id(p) for p, _reason in conflicts}
        duplicates = [p for p in outcome.duplicates if id(p) not in conflicting]
        duplicate_data = [p for p in duplicates if not p.record]
        rejected = prepared.rejected + [
            Rejected(p.incoming, stage, reason, p.document.get("device_key"))
            for stage, failures in (("index", outcome.rejected), ("conflict", conflicts))
            for p, reason in failures
        ]
        if rejected:
            self._dead_letter(rejected)
        created = [p for p in outcome.created if not p.record]  # gateway records are not sensor data
        if created:
            try:
                written = [(p.index, p.document) for p in created]
                run_after_index(self.es, self.plugin, written, self.prefix, self.settings.zone)
            except Exception as exc:  # derived data: recomputed by the next batch, never blocks ingestion
                log.error("ingestor.after_index_failed", sensor=self.sensor, error=str(exc))
        done = [p.incoming for p in outcome.created + duplicates] + [r.incoming for r in rejected]
        due, acked = self._ack(done)
        with self._counts_lock:
            self.indexed += len(created)
            self.duplicates += len(duplicate_data)
            self.conflicts += len(conflicts)
            self.dead_lettered += len(rejected)
        metrics.INDEXED.labels(self.sensor).inc(len(created))
        metrics.DUPLICATES.labels(self.sensor).inc(len(duplicate_data))
        self._observe_lag(created)
        self._count_flags(created)
        self.last_batch_at = time.time()
        if acked < due:
            log.warning(
                "ingestor.stale_acks_skipped",
                sensor=self.sensor,
                skipped=due - acked,
                note="connection was renewed; ActiveMQ redelivers them and the ids deduplicate",
            )

    def _elasticsearch_unavailable(self) -> None:
        self.es_ok = False  # /healthz reports it while bulk.write keeps retrying; set back on success

    def _ack(self, done: list[Incoming]) -> tuple[int, int]:
        """ACK the broker messages that are now complete: a message alone, an envelope once its last item is
        done. ACK frames of one connection generation go out in one socket write; stale ones are skipped.
        Returns (ACKs due, ACKs sent)."""
        due: dict[int, list[str]] = {}
        for incoming in done:
            if incoming.delivery is None or incoming.delivery.item_done():
                due.setdefault(incoming.generation, []).append(incoming.ack_id)
        acked = 0
        for generation in sorted(due):
            ids = due[generation]
            try:
                acked += len(ids) if self.link.ack_many(ids, generation) else 0
            except (StompException, StompUnavailableError, OSError):
                break  # connection lost: the rest is redelivered
        return sum(len(ids) for ids in due.values()), acked

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
        operations: list[dict[str, object]] = []
        for r in rejected:
            key = str(r.incoming.headers.get("message-id") or r.incoming.body)  # redelivery: one record
            operations.append(
                {"create": {"_index": naming.deadletter_index(self.prefix), "_id": record_id(r.stage, key)}}
            )
            operations.append(record_document(r.reason, r.stage, self.sensor, r.incoming.body, r.device_key))
        try:
            self.es.bulk(operations=operations)
        except Exception as exc:
            log.warning("ingestor.deadletter_record_failed", error=str(exc))


def run_ingestor(sensor: str) -> None:
    obs = ObservabilitySettings()
    ingestor = Ingestor(sensor)
    if obs.metrics_port:
        serve_health_and_metrics(obs.metrics_host, obs.metrics_port, ingestor.health)
    settings = ingestor.settings
    QueueDepthSampler(
        sensor,
        ingestor.stomp_settings,
        ingestor.es,
        ingestor.prefix,
        metrics_every=settings.queue_stats_interval_s if obs.metrics_port else 0.0,
        sample_every=settings.queue_depth_sample_s,
        replicas=settings.index_replicas,
    ).start(ingestor.stop_requested)
    raise SystemExit(ingestor.run())
