"""Elasticsearch client factory and readiness check (cluster health, not GET /)."""

from __future__ import annotations

import threading
import time
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from finemeca.config import ElasticsearchSettings
from finemeca.errors import StopRequested


def make_client(settings: ElasticsearchSettings | None = None, **client_options: Any) -> Elasticsearch:
    """Client from ES_* settings; `client_options` go to `Elasticsearch()` (e.g. `serializer=`)."""
    settings = settings or ElasticsearchSettings()
    auth = None
    if settings.username and settings.password:
        auth = (settings.username, settings.password.get_secret_value())
    tls: dict[str, Any] = {"ca_certs": str(settings.ca_file)} if settings.ca_file else {}
    sniffing: dict[str, Any] = {}
    if settings.sniff:
        sniffing = {"sniff_on_start": True, "sniff_on_node_failure": True, "min_delay_between_sniffing": 60}
    return Elasticsearch(
        settings.nodes(),
        basic_auth=auth,
        verify_certs=settings.verify_certs,
        **tls,
        request_timeout=settings.request_timeout,
        retry_on_timeout=True,
        max_retries=3,
        **sniffing,
        **client_options,
    )


AUTO_REPLICAS = "0-1"  # no replica on one node, one replica as soon as the cluster has two data nodes


def replica_settings(replicas: int | None) -> dict[str, Any]:
    """Index settings for `replicas` copies; None follows the cluster size (`auto_expand_replicas`)."""
    if replicas is None:
        return {"auto_expand_replicas": AUTO_REPLICAS}
    return {"number_of_replicas": replicas, "auto_expand_replicas": False}


def ensure_index(es: Elasticsearch, name: str, mappings: dict[str, Any], replicas: int | None = None) -> None:
    """Create a one-shard index with `mappings` if missing, else add new fields to its mapping.

    Safe when several processes start at once: losing the creation race is not an error."""
    if not es.indices.exists(index=name):
        try:
            es.indices.create(
                index=name,
                mappings=mappings,
                settings={"number_of_shards": 1, **replica_settings(replicas)},
            )
            return
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
    es.indices.put_mapping(index=name, **mappings)


def wait_until_healthy(
    es: Elasticsearch, timeout: float = 120.0, status: str = "yellow", stop: threading.Event | None = None
) -> dict[str, object]:
    """Block until cluster health reaches `status`; raise with the last error after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            health = es.cluster.health(wait_for_status=status, timeout="5s")
            if not health.get("timed_out"):
                return dict(health)
        except Exception as exc:  # connection refused while starting
            last = exc
        if stop is not None and stop.wait(1.0):
            raise StopRequested("stop requested while waiting for Elasticsearch")
        if stop is None:
            time.sleep(1.0)
    raise TimeoutError(
        f"Elasticsearch at {', '.join(n.base_url for n in es.transport.node_pool.all())} not {status} after {timeout:.0f}s "
        f"(last error: {last}): check that the cluster is up and reachable from this host, its health "
        f"(GET _cluster/health), and the ES_URL/ES_USERNAME/ES_CA_FILE settings"
    )
