"""Background processes tracked by pid files; everything read from /proc (Linux only)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_children: list[subprocess.Popen[bytes]] = []


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_running(pid: int, marker: str) -> bool:
    """True when `pid` is alive (not a zombie) and its command line contains `marker` (guards pid reuse)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    if state in ("Z", "X"):
        return False
    command = cmdline(pid)
    return not command or marker in command  # empty for an instant while the process execs


def session_pids(sid: int) -> list[int]:
    """Every live process of session `sid` (a service started with start_new_session=True)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):  # fields[3] = session id
            pids.append(int(entry.name))
    return pids


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def spawn(
    argv: Sequence[str],
    log_file: Path,
    pid_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` detached in its own session, stdout+stderr appended to `log_file`; record its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.write_text(f"{proc.pid}\n")
    _children.append(proc)  # keep a reference: no "still running" ResourceWarning when a test spawns
    return proc.pid


def terminate(pid: int, marker: str, timeout: float = 30.0) -> None:
    """SIGTERM the process group of `pid` (its session leader), wait, then SIGKILL what is left."""
    if not is_running(pid, marker):
        return
    members = session_pids(pid) or [pid]
    _signal_all(pid, members, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not any(is_running(p, "") for p in members):
            return
        time.sleep(0.2)
    _signal_all(pid, members, signal.SIGKILL)
    _reap(pid)


def kill(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL the session of `pid` at once and wait until it is gone."""
    members = session_pids(pid) or [pid]
    _signal_all(pid, members, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(is_running(p, "") for p in members):
        _reap(pid)
        time.sleep(0.05)


def _signal_all(pgid: int, pids: Sequence[int], sig: signal.Signals) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, sig)
    for pid in pids:  # members that left the process group but stayed in the session
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def _reap(pid: int) -> None:
    """Collect our own child if `down` runs in the process that spawned it (tests)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
