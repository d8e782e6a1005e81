"""CPU and memory of running processes, sampled from /proc (Linux only)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def status_kib(pid: int, key: str) -> int:
    """A `kB` line of /proc/<pid>/status (VmRSS, VmHWM...), 0 when missing."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class ProcessUsage:
    """Usage of a named group of processes over a measurement window."""

    name: str
    pids: list[int]
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    peak_rss_kib: int = 0

    def cpu_total(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def rss_kib(self) -> int:
        return sum(status_kib(pid, "VmRSS") for pid in self.pids)

    @property
    def cpu_used(self) -> float:
        return self.cpu_end - self.cpu_start


@dataclass
class ProcSampler:
    """Samples every group each `interval` seconds in a daemon thread: peak RSS and CPU seconds."""

    groups: dict[str, list[int]]
    interval: float = 0.5
    usage: dict[str, ProcessUsage] = field(default_factory=dict)
    started: float = 0.0
    stopped: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.usage = {name: ProcessUsage(name, pids) for name, pids in self.groups.items()}
        for group in self.usage.values():
            group.cpu_start = group.cpu_end = group.cpu_total()
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="proc-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        for group in self.usage.values():
            group.peak_rss_kib = max(group.peak_rss_kib, group.rss_kib())
            group.cpu_end = group.cpu_total() or group.cpu_end

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> dict[str, ProcessUsage]:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self._sample()
        self.stopped = time.monotonic()
        return self.usage

    @property
    def elapsed(self) -> float:
        return (self.stopped or time.monotonic()) - self.started

    def cpu_percent(self, name: str) -> float:
        """Average CPU over the window, in % of one core."""
        return 100 * self.usage[name].cpu_used / self.elapsed if self.elapsed > 0 else 0.0
