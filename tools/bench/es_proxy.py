"""BENCHMARK ONLY: a reverse proxy in front of the test Elasticsearch for the Telegraf peer.

Telegraf's Elasticsearch client starts with `GET /` (the version), which the integ-test build of
Elasticsearch this stack runs does not serve (405). The proxy answers `GET /` and `HEAD /` with the
node's real version and forwards every other request unchanged. Plain HTTP upstream only.
Run as `python -m tools.bench.es_proxy --upstream http://127.0.0.1:9200 --port N` (prints `ready`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


def _root_body(upstream: str) -> bytes:
    """What `GET /` of a real node answers, with the upstream node's version."""
    parts = urlsplit(upstream)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 9200, timeout=30)
    conn.request("GET", "/_nodes/_local?filter_path=nodes.*.version,cluster_name")
    info = json.loads(conn.getresponse().read())
    conn.close()
    version = next(iter(info["nodes"].values()))["version"]
    root = {
        "name": "bench-proxy",
        "cluster_name": info.get("cluster_name", "bench"),
        "version": {"number": version, "build_flavor": "default", "lucene_version": ""},
        "tagline": "You Know, for Search",
    }
    return json.dumps(root).encode()


def make_handler(upstream: str) -> type[BaseHTTPRequestHandler]:
    parts = urlsplit(upstream)
    root = _root_body(upstream)
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _forward(self) -> None:
            if self.path in ("/", "") and self.command in ("GET", "HEAD"):
                product = [("Content-Type", "application/json"), ("X-Elastic-Product", "Elasticsearch")]
                self._reply(200, product, root)
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            for attempt in range(2):  # a kept-alive upstream connection may have been closed meanwhile
                conn = getattr(local, "conn", None) or http.client.HTTPConnection(
                    parts.hostname or "127.0.0.1", parts.port or 9200, timeout=120
                )
                local.conn = conn
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
                    if attempt:
                        raise
            self._reply(response.status, response.getheaders(), data)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815 (http.server names)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.upstream))
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
