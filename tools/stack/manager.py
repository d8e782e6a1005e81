"""Orchestration over all services: up (parallel), down, status, one-service start/stop."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from tools.stack import process, secure
from tools.stack.activemq import ActiveMQ
from tools.stack.elasticsearch import Elasticsearch
from tools.stack.mosquitto import Mosquitto
from tools.stack.service import Service, ServiceError, ServiceStatus
from tools.stack.settings import StackSettings
from tools.stack.smtp import SmtpSink

SERVICE_CLASSES: tuple[type[Service], ...] = (Mosquitto, ActiveMQ, Elasticsearch, SmtpSink)
SERVICE_NAMES: tuple[str, ...] = tuple(cls.name for cls in SERVICE_CLASSES)


def services(names: Iterable[str] | None = None, settings: StackSettings | None = None) -> list[Service]:
    settings = settings or StackSettings()
    wanted = list(names) if names else list(SERVICE_NAMES)
    unknown = sorted(set(wanted) - set(SERVICE_NAMES))
    if unknown:
        raise ServiceError(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICE_NAMES)}")
    return [cls(settings) for cls in SERVICE_CLASSES if cls.name in wanted]


def up(names: Iterable[str] | None = None, settings: StackSettings | None = None) -> list[ServiceStatus]:
    """Start what is not healthy yet, all in parallel, and wait until every service is ready."""
    selected = services(names, settings)
    _prepare(selected[0].settings)
    with ThreadPoolExecutor(max_workers=len(selected)) as pool:
        futures = [pool.submit(_start_and_wait, service) for service in selected]
        errors = [str(exc) for f in futures if (exc := f.exception()) is not None]
    if errors:
        raise ServiceError("\n".join(errors))
    return [service.status() for service in selected]


def _prepare(settings: StackSettings) -> None:
    """Secure mode: credentials, CA and client env file exist before services start in parallel."""
    if settings.secure:
        secure.write_client_env(settings, secure.credentials(settings), secure.ensure_tls(settings))


def _start_and_wait(service: Service) -> None:
    service.start()
    service.wait_ready()


def down(names: Iterable[str] | None = None, settings: StackSettings | None = None) -> list[str]:
    """Stop the services `up` started (pid files); returns the names actually stopped."""
    selected = services(names, settings)
    with ThreadPoolExecutor(max_workers=len(selected)) as pool:
        stopped = list(pool.map(lambda service: service.stop(), selected))
    return [service.name for service, was_running in zip(selected, stopped, strict=True) if was_running]


def status(names: Iterable[str] | None = None, settings: StackSettings | None = None) -> list[ServiceStatus]:
    selected = services(names, settings)
    with ThreadPoolExecutor(max_workers=len(selected)) as pool:
        return list(pool.map(lambda service: service.status(), selected))


def start_service(name: str, settings: StackSettings | None = None, wait: bool = True) -> ServiceStatus:
    """Start one service (e.g. after `stop_service` in a failure test) and wait until it is ready."""
    (service,) = services([name], settings)
    _prepare(service.settings)
    service.start()
    if wait:
        service.wait_ready()
    return service.status()


def kill_service(name: str, settings: StackSettings | None = None) -> bool:
    """SIGKILL one service started by `finemeca stack up` (crash tests); False when none was running."""
    (service,) = services([name], settings)
    return service.kill()


@contextlib.contextmanager
def paused_service(name: str, settings: StackSettings | None = None) -> Iterator[None]:
    """SIGSTOP one service for the duration of the block, then SIGCONT (a GC pause or a starved host)."""
    (service,) = services([name], settings)
    pid = service.pid()
    if pid is None:
        raise ServiceError(f"{name} is not running under `finemeca stack`: nothing to pause")
    members = process.session_pids(pid) or [pid]
    for member in members:
        os.kill(member, signal.SIGSTOP)
    try:
        yield
    finally:
        for member in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGCONT)


def stop_service(name: str, settings: StackSettings | None = None) -> bool:
    """Stop one service started by `finemeca stack up`; False when no such process was running."""
    (service,) = services([name], settings)
    return service.stop()
