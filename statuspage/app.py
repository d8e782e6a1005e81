"""Starlette app: the static page, `/api/status` (JSON), `/events` (server-sent events), `/healthz`.

One background poller reads Elasticsearch every `refresh_seconds` and every viewer gets that same
snapshot, so ten phones on the page cost Elasticsearch no more than one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from finemeca.es import make_client
from finemeca.logs import get_logger
from statuspage.settings import StatusPageSettings
from statuspage.snapshot import take_snapshot

STATIC_DIR = Path(__file__).resolve().parent / "static"
SSE_KEEPALIVE_SECONDS = 15.0
log = get_logger("statuspage")


class Poller:
    """Keeps the latest snapshot; wakes every SSE stream when a new one is taken."""

    def __init__(self, es: Elasticsearch, settings: StatusPageSettings) -> None:
        self.es, self.settings = es, settings
        self.snapshot: dict[str, Any] | None = None
        self.last_success = 0.0
        self.version = 0
        self.changed = asyncio.Condition()

    async def refresh(self) -> None:
        try:
            snapshot = await run_in_threadpool(take_snapshot, self.es, self.settings)
            self.last_success = time.monotonic()
        except Exception as exc:  # keep showing the last data with a visible error
            log.warning("snapshot_failed", error=str(exc))
            snapshot = dict(self.snapshot or {"lines": [], "sensors": [], "counts": {}})
            snapshot["error"] = f"Elasticsearch unreachable: {type(exc).__name__}"
        async with self.changed:
            self.snapshot, self.version = snapshot, self.version + 1
            self.changed.notify_all()

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.settings.refresh_seconds)

    def healthy(self) -> bool:
        return time.monotonic() - self.last_success < max(30.0, 5 * self.settings.refresh_seconds)

    async def stream(self, request: Request) -> AsyncIterator[str]:
        version = -1
        while not await request.is_disconnected():
            async with self.changed:
                if self.version == version:
                    try:
                        await asyncio.wait_for(self.changed.wait(), SSE_KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                version, snapshot = self.version, self.snapshot
            yield f"data: {json.dumps(snapshot, separators=(',', ':'))}\n\n"


def create_app(settings: StatusPageSettings | None = None, es: Elasticsearch | None = None) -> Starlette:
    settings = settings or StatusPageSettings()
    poller = Poller(es or make_client(), settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(poller.run())
        try:
            yield
        finally:
            task.cancel()

    async def index(_: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def status(_: Request) -> Response:
        if poller.snapshot is None:
            await poller.refresh()
        return JSONResponse(poller.snapshot)

    async def events(request: Request) -> Response:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(poller.stream(request), media_type="text/event-stream", headers=headers)

    async def healthz(_: Request) -> Response:
        ok = poller.healthy()
        body = {
            "ok": ok,
            "error": (poller.snapshot or {}).get("error"),
            "air_index": settings.air_index_name(),
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    routes = [
        Route("/", index),
        Route("/api/status", status),
        Route("/events", events),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.poller = poller
    return app
