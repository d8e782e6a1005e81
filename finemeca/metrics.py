"""Prometheus metrics and the /healthz + /metrics HTTP endpoint every long-running role exposes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

HealthCheck = Callable[[], dict[str, object]]


def serve_health_and_metrics(
    host: str,
    port: int,
    health: HealthCheck,
    registry: CollectorRegistry = DEFAULT_REGISTRY,
) -> ThreadingHTTPServer:
    """Start a daemon HTTP server: GET /healthz -> 200/503 JSON from `health()`, GET /metrics -> Prometheus."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                body = generate_latest(registry)
                self._reply(200, CONTENT_TYPE_LATEST, body)
            elif self.path.startswith("/healthz"):
                state = health()
                code = 200 if state.get("ok") else 503
                self._reply(code, "application/json", json.dumps(state, default=str).encode())
            else:
                self._reply(404, "text/plain", b"not found: try /healthz or /metrics\n")

        def _reply(self, code: int, ctype: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health-metrics", daemon=True).start()
    return server
