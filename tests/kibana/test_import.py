"""`finemeca kibana import` against a local HTTP server that answers like Kibana 8.19's API.

The server is a stand-in for Kibana (not available in any registry we reach): it implements
`GET /api/status` and `POST /api/saved_objects/_import` with the response shapes Kibana documents,
including HTTP 200 with `success: false` and `errors` for a partial failure.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from kibana.cli import app

OK_USER = ("elastic", "changeme")


class FakeKibana:
    def __init__(self) -> None:
        self.not_ready_polls = 0  # answer 503 this many times before "available"
        self.level = "available"  # overall level once ready
        self.saved_objects_level = "available"
        self.import_errors: list[dict] = []
        self.require_auth = False
        self.imports: list[dict] = []


@pytest.fixture
def kibana(monkeypatch) -> Iterator[tuple[FakeKibana, str]]:
    monkeypatch.setenv("KIBANA_READY_INTERVAL", "0.05")
    state = FakeKibana()

    class Handler(BaseHTTPRequestHandler):
        def _authorized(self) -> bool:
            import base64

            expected = "Basic " + base64.b64encode(":".join(OK_USER).encode()).decode()
            return not state.require_auth or self.headers.get("Authorization") == expected

        def _json(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if not self._authorized():
                return self._json(
                    401, {"statusCode": 401, "error": "Unauthorized", "message": "unauthorized"}
                )
            if state.not_ready_polls > 0:
                state.not_ready_polls -= 1
                return self._json(503, {"status": {"overall": {"level": "unavailable"}}})
            core = {
                "elasticsearch": {"level": "available"},
                "savedObjects": {"level": state.saved_objects_level},
            }
            return self._json(200, {"status": {"overall": {"level": state.level}, "core": core}})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not self._authorized():
                return self._json(
                    401, {"statusCode": 401, "error": "Unauthorized", "message": "unauthorized"}
                )
            if self.headers.get("kbn-xsrf") != "true":
                return self._json(400, {"message": "Request must contain a kbn-xsrf header."})
            assert self.path == "/api/saved_objects/_import?overwrite=true"
            assert b'name="file"; filename="' in body and b'.ndjson"' in body
            objects = [
                json.loads(line)
                for line in body.split(b"\r\n\r\n", 1)[1].splitlines()
                if line.startswith(b"{")
            ]
            state.imports.append({"count": len(objects)})
            failed = {e["id"] for e in state.import_errors}
            self._json(
                200,
                {
                    "success": not state.import_errors,
                    "successCount": len([o for o in objects if o["id"] not in failed]),
                    "successResults": [],
                    "errors": state.import_errors,
                },
            )

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def run(url: str, *extra: str):
    return CliRunner().invoke(app, ["import", "--url", url, "--timeout", "10", *extra])


def test_success(kibana):
    state, url = kibana
    result = run(url)
    assert result.exit_code == 0, result.output
    built = len(objects_in_build())
    assert f"imported {built} saved objects" in result.output
    assert state.imports == [{"count": built}]


def test_partial_failure_exits_non_zero_and_prints_each_error(kibana):
    state, url = kibana
    state.import_errors = [
        {
            "id": "abc",
            "type": "lens",
            "meta": {"title": "Air: leak events"},
            "error": {"type": "missing_references", "references": [{"type": "index-pattern", "id": "zzz"}]},
        },
        {"id": "def", "type": "dashboard", "title": "Finemeca: air", "error": {"type": "conflict"}},
    ]
    result = run(url)
    assert result.exit_code == 1
    assert "FAILED lens abc (Air: leak events): missing_references" in result.output
    assert "FAILED dashboard def (Finemeca: air): conflict" in result.output
    assert "2 object(s) failed" in result.output


def test_unauthorized_fails_fast(kibana):
    state, url = kibana
    state.require_auth = True
    result = run(url, "--username", "elastic", "--password", "wrong")
    assert result.exit_code == 1
    assert "HTTP 401" in result.output
    assert state.imports == []


def test_credentials_from_environment(kibana, monkeypatch):
    state, url = kibana
    state.require_auth = True
    monkeypatch.setenv("KIBANA_USERNAME", OK_USER[0])
    monkeypatch.setenv("KIBANA_PASSWORD", OK_USER[1])
    result = run(url)
    assert result.exit_code == 0, result.output


def test_waits_until_kibana_is_ready(kibana):
    state, url = kibana
    state.not_ready_polls = 2
    result = run(url)
    assert result.exit_code == 0, result.output
    assert state.not_ready_polls == 0


def test_never_ready_times_out(monkeypatch):
    monkeypatch.setenv("KIBANA_READY_INTERVAL", "0.2")
    result = CliRunner().invoke(app, ["import", "--url", "http://127.0.0.1:9", "--timeout", "1"])
    assert result.exit_code == 1
    assert "not available after" in result.output


def test_degraded_kibana_whose_saved_objects_are_available_imports_at_once(kibana):
    """Under the compose memory limit Kibana often stays `degraded` and still serves `_import`."""
    state, url = kibana
    state.level = "degraded"
    result = run(url)
    assert result.exit_code == 0, result.output
    assert state.imports == [{"count": len(objects_in_build())}]


def test_degraded_kibana_without_saved_objects_is_not_ready(kibana):
    state, url = kibana
    state.level, state.saved_objects_level = "degraded", "unavailable"
    result = CliRunner().invoke(app, ["import", "--url", url, "--timeout", "1"])
    assert result.exit_code == 1
    assert "saved objects 'unavailable'" in result.output


def objects_in_build() -> list[str]:
    from kibana.build import render_ndjson

    return render_ndjson().splitlines()
