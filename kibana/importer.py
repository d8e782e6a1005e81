"""Import the saved objects into a running Kibana through its HTTP API (httpx).

Kibana answers `_import` with HTTP 200 even when objects failed: the body's `success` and `errors`
decide, and any failure is raised so the command exits non-zero.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from finemeca.errors import FinemecaError


class KibanaSettings(BaseSettings):
    """Where `finemeca kibana import` sends the dashboards (env `KIBANA_*`)."""

    model_config = SettingsConfigDict(env_prefix="KIBANA_", extra="ignore")

    url: str = "http://127.0.0.1:5601"
    username: str | None = None
    password: SecretStr | None = None
    verify_certs: bool = True
    ca_file: Path | None = None  # private CA of an HTTPS Kibana (the compose stack's certs volume)
    ready_timeout: float = 300.0
    ready_interval: float = 2.0


class KibanaError(FinemecaError):
    """Kibana refused the credentials, was not ready in time, or some objects failed to import."""


@dataclass
class ImportFailure:
    id: str
    type: str
    title: str
    error: dict[str, Any]

    def __str__(self) -> str:
        detail = self.error.get("message") or self.error.get("reason") or ""
        extra = self.error.get("references") or self.error.get("missingReferences")
        text = f"{self.type} {self.id} ({self.title}): {self.error.get('type', 'error')}"
        return text + (f": {detail}" if detail else "") + (f" {extra}" if extra else "")


@dataclass
class ImportResult:
    success: bool
    success_count: int
    failures: list[ImportFailure] = field(default_factory=list)


def make_client(settings: KibanaSettings, timeout: float = 30.0) -> httpx.Client:
    auth = None
    if settings.username and settings.password:
        auth = httpx.BasicAuth(settings.username, settings.password.get_secret_value())
    return httpx.Client(
        base_url=settings.url.rstrip("/"),
        auth=auth,
        verify=ssl.create_default_context(cafile=str(settings.ca_file))
        if settings.ca_file and settings.verify_certs
        else settings.verify_certs,
        timeout=timeout,
        headers={"kbn-xsrf": "true"},
    )


def ready_for_import(status: dict[str, Any]) -> bool:
    """`available`, or `degraded` with the saved-objects service itself available: Kibana under a tight
    memory limit often stays `degraded` (a plugin lagging) yet serves `_import` normally."""
    level = status.get("overall", {}).get("level")
    saved_objects = status.get("core", {}).get("savedObjects", {}).get("level", "available")
    return level == "available" or (level == "degraded" and saved_objects == "available")


def wait_until_ready(client: httpx.Client, timeout: float, interval: float = 2.0) -> None:
    """Poll `GET /api/status` until Kibana can import (see `ready_for_import`); 401/403 fail at once."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        try:
            response = client.get("/api/status")
            if response.status_code in (401, 403):
                raise KibanaError(
                    f"Kibana refused the credentials (HTTP {response.status_code}): {response.text[:300]}"
                )
            if response.status_code == 200:
                status = response.json().get("status", {})
                if ready_for_import(status):
                    return
                saved_objects = status.get("core", {}).get("savedObjects", {}).get("level")
                last = f"overall status {status.get('overall', {}).get('level')!r}, saved objects {saved_objects!r}"
            else:
                last = f"HTTP {response.status_code}"
        except (httpx.TransportError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() + interval > deadline:
            raise KibanaError(
                f"Kibana at {client.base_url} not available after {timeout:.0f}s (last: {last})"
            )
        time.sleep(interval)


def import_saved_objects(
    client: httpx.Client, ndjson: bytes, filename: str = "finemeca.ndjson"
) -> ImportResult:
    response = client.post(
        "/api/saved_objects/_import",
        params={"overwrite": "true"},
        files={"file": (filename, ndjson, "application/ndjson")},
    )
    if response.status_code != 200:
        raise KibanaError(f"import refused: HTTP {response.status_code}: {response.text[:500]}")
    body = response.json()
    failures = [
        ImportFailure(
            id=str(e.get("id")),
            type=str(e.get("type")),
            title=str(e.get("title") or e.get("meta", {}).get("title") or ""),
            error=e.get("error", {}),
        )
        for e in body.get("errors") or []
    ]
    return ImportResult(
        bool(body.get("success")) and not failures, int(body.get("successCount", 0)), failures
    )
