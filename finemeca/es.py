"""Elasticsearch client factory and readiness check (cluster health, not GET /)."""

from __future__ import annotations

import threading
import time
from typing import Any

from elasticsearch import Elasticsearch

from finemeca.config import ElasticsearchSettings


def make_client(settings: ElasticsearchSettings | None = None, **client_options: Any) -> Elasticsearch:
    """Client from ES_* settings; `client_options` go to `Elasticsearch()` (e.g. `serializer=`)."""
    settings = settings or ElasticsearchSettings()
    auth = None
    if settings.username and settings.password:
        auth = (settings.username, settings.password.get_secret_value())
    tls: dict[str, Any] = {"ca_certs": str(settings.ca_file)} if settings.ca_file else {}
    return Elasticsearch(
        settings.url,
        basic_auth=auth,
        verify_certs=settings.verify_certs,
        **tls,
        request_timeout=settings.request_timeout,
        retry_on_timeout=True,
        max_retries=3,
        **client_options,
    )


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
            raise InterruptedError("stop requested while waiting for Elasticsearch")
        if stop is None:
            time.sleep(1.0)
    raise TimeoutError(
        f"Elasticsearch at {es.transport.node_pool.get().base_url} not {status} after {timeout:.0f}s "
        f"(last error: {last}). Is it running? Try `finemeca stack status`."
    )
