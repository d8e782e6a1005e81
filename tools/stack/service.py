"""The shape every local service shares: install, start, health, stop, plus its state folder."""

from __future__ import annotations

import fcntl
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from finemeca.errors import FinemecaError
from tools.stack import process
from tools.stack.settings import StackSettings


class ServiceError(FinemecaError):
    """A service could not be installed or started; the message names it and its log file."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    pid: int | None
    healthy: bool
    managed: bool  # started by `finemeca stack up` (pid file) rather than found running
    rss_bytes: int
    log_file: Path


class Service(ABC):
    """One server run as a plain background process; state under `<STACK_DIR>/<name>/`."""

    name: str
    marker: str  # substring of the command line, to recognise our process behind a pid
    stop_timeout: float = 30.0

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.dir = settings.service_dir(self.name)
        self.pid_file = self.dir / f"{self.name}.pid"
        self.log_file = self.dir / f"{self.name}.log"
        self.mode_file = self.dir / "mode"  # "secure" or "plain": how the running process was started

    @property
    def secure(self) -> bool:
        """Mode of the running process when we started it, else the requested one (`STACK_SECURE`)."""
        running = self.running_mode()
        return self.settings.secure if running is None else running == "secure"

    def running_mode(self) -> str | None:
        if self.pid() is None:
            return None
        if not self.mode_file.exists():
            return "plain"  # started before modes were recorded
        return self.mode_file.read_text().strip()

    # -- what each service defines ------------------------------------------------------------
    @property
    @abstractmethod
    def url(self) -> str: ...

    @property
    @abstractmethod
    def port(self) -> int: ...

    @abstractmethod
    def install(self) -> None:
        """Make binaries available (apt, download) and write the configuration. Idempotent."""

    @abstractmethod
    def command(self) -> tuple[list[str], dict[str, str] | None]:
        """argv and environment (None = inherit) of the server process."""

    @abstractmethod
    def probe(self, timeout: float = 2.0) -> bool:
        """One readiness check speaking the service's protocol."""

    # -- shared behaviour -----------------------------------------------------------------------
    def pid(self) -> int | None:
        pid = process.read_pid(self.pid_file)
        return pid if pid is not None and process.is_running(pid, self.marker) else None

    def healthy(self) -> bool:
        return self.probe()

    def start(self) -> int | None:
        """Spawn the server unless it already answers; returns its pid (None when found healthy).

        A per-service file lock makes concurrent `finemeca stack up` runs start one process, not two.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            wanted = "secure" if self.settings.secure else "plain"
            if (running := self.running_mode()) not in (None, wanted):
                raise ServiceError(
                    f"{self.name} runs in {running} mode, {wanted} was asked: "
                    f"`finemeca stack stop {self.name}` first"
                )
            if self.healthy():
                return self.pid()
            if (pid := self.pid()) is not None:
                return pid  # started earlier, still booting
            if process.port_open(self.settings.host, self.port):
                raise ServiceError(
                    f"{self.name}: port {self.port} is taken by another process that does not answer "
                    f"as {self.name}; free it or set the STACK_*_PORT variable"
                )
            self.install()
            argv, env = self.command()
            pid = process.spawn(argv, self.log_file, self.pid_file, env=env, cwd=self.dir)
            self.mode_file.write_text(wanted + "\n")
            return pid

    def wait_ready(self, timeout: float | None = None) -> None:
        timeout = self.settings.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if self.pid_file.exists() and self.pid() is None:
                raise ServiceError(
                    f"{self.name} exited while starting; see {self.log_file}{self._log_tail()}"
                )
            time.sleep(0.5)
        raise ServiceError(
            f"{self.name} not ready after {timeout:.0f}s; see {self.log_file}{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 8) -> str:
        try:
            with self.log_file.open(errors="replace") as handle:
                tail = "".join(deque(handle, maxlen=lines))
        except OSError:
            return ""
        return "\n  last log lines:\n" + tail

    def stop(self) -> bool:
        """Stop the process recorded in our pid file; returns False when there was none."""
        pid = self.pid()
        if pid is not None:
            process.terminate(pid, self.marker, timeout=self.stop_timeout)
        self.pid_file.unlink(missing_ok=True)
        return pid is not None

    def kill(self) -> bool:
        """SIGKILL the server (crash tests: no shutdown hook, no final save); False when none ran."""
        pid = self.pid()
        if pid is None:
            return False
        process.kill(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> ServiceStatus:
        pid = self.pid()
        return ServiceStatus(
            name=self.name,
            url=self.url,
            pid=pid,
            healthy=self.healthy(),
            managed=pid is not None,
            rss_bytes=process.rss_bytes(process.session_pids(pid)) if pid else 0,
            log_file=self.log_file,
        )
