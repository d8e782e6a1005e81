"""Starts gateway and ingestor processes locally (demo, benchmarks, end-to-end tests).

Each role runs as its own OS process, exactly as in a container: `finemeca <role> run --sensor <name>`,
configured by environment variables, with /healthz on its own port.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("gateway", "ingestor")


def _die_with_parent() -> None:
    """Child side of fork: get SIGTERM if the supervising process dies (no orphans after a crash)."""

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RoleProcess:
    role: str
    sensor: str
    replica: str
    env: dict[str, str]
    log_path: Path
    port: int
    popen: subprocess.Popen[bytes] | None = None
    command: list[str] | None = None  # finemeca sub-command; default `<role> run --sensor <sensor>`

    @property
    def name(self) -> str:
        if not self.sensor:
            return self.role
        return f"{self.role}-{self.sensor}" + (f"-{self.replica}" if self.replica else "")

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        env = {**os.environ, **self.env, "METRICS_PORT": str(self.port), "METRICS_HOST": "127.0.0.1"}
        if self.role == "gateway" and self.replica:
            env["GATEWAY_REPLICA"] = self.replica
        command = self.command or [self.role, "run", "--sensor", self.sensor]
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "finemeca.cli", *command],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def health(self) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                return json.loads(resp.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())  # type: ignore[no-any-return]
        except OSError:
            return None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful drain), then SIGKILL after `timeout`."""
        if not self.alive():
            return self.popen.returncode if self.popen else None
        assert self.popen is not None
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(10)

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye (failure tests)."""
        if self.alive():
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(10)


@dataclass
class LocalPipeline:
    sensors: list[str]
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    gateways: int = 1
    ingestors: int = 1
    processes: list[RoleProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        for sensor in self.sensors:
            for role, count in (("ingestor", self.ingestors), ("gateway", self.gateways)):
                for i in range(count):
                    replica = str(i + 1) if count > 1 else ""
                    proc = RoleProcess(role, sensor, replica, dict(self.env), Path(), free_port())
                    proc.log_path = self.log_dir / f"{proc.name}.log"
                    self.processes.append(proc)

    def add(self, role: str, command: list[str], env: dict[str, str] | None = None) -> RoleProcess:
        """Another long-running role (alerts, mailer, status page) supervised with the others."""
        proc = RoleProcess(
            role,
            "",
            "",
            {**self.env, **(env or {})},
            self.log_dir / f"{role}.log",
            free_port(),
            command=command,
        )
        self.processes.append(proc)
        return proc

    def get(self, role: str, sensor: str, replica: str = "") -> RoleProcess:
        for proc in self.processes:
            if (proc.role, proc.sensor, proc.replica) == (role, sensor, replica):
                return proc
        raise KeyError(f"no {role} for {sensor} (replica {replica!r})")

    def start(self, timeout: float = 90.0) -> None:
        for proc in self.processes:
            proc.start()
        try:
            self.wait_healthy(timeout)
        except Exception:
            self.stop()
            raise

    def wait_healthy(self, timeout: float = 90.0, procs: list[RoleProcess] | None = None) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(procs or self.processes)
        while waiting and time.monotonic() < deadline:
            for proc in list(waiting):
                if not proc.alive():
                    raise RuntimeError(
                        f"{proc.name} exited with code {proc.popen and proc.popen.returncode}; "
                        f"see {proc.log_path}"
                    )
                state = proc.health()
                if state and state.get("ok"):
                    waiting.remove(proc)
            time.sleep(0.3)
        if waiting:
            names = ", ".join(f"{p.name} ({p.log_path})" for p in waiting)
            raise TimeoutError(f"not healthy after {timeout:.0f}s: {names}")

    def stop(self) -> None:
        # gateways first (stop taking MQTT), then ingestors drain the queue they were fed
        for role in ROLES:
            for proc in self.processes:
                if proc.role == role:
                    proc.stop()
        for proc in self.processes:
            if proc.role not in ROLES:
                proc.stop()

    def __enter__(self) -> LocalPipeline:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
