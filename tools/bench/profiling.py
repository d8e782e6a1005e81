"""Optional sampling profiles of our processes during a run, with py-spy (`pip install py-spy`).

Writes py-spy's collapsed stacks (`--format raw`) and prints where the samples fall, by function.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


class Profiler:
    def __init__(self, out_dir: Path, duration: float) -> None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(exe).exists():
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.exe, self.out_dir, self.duration = exe, out_dir, duration
        self.runs: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}

    def start(self, pids: dict[str, int]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            output = self.out_dir / f"{name.replace(' ', '-')}.txt"
            argv = [self.exe, "record", "--pid", str(pid), "--format", "raw", "--output", str(output)]
            argv += ["--duration", str(int(self.duration)), "--rate", "50", "--nonblocking"]
            self.runs[name] = (
                subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                output,
            )

    def stop(self) -> dict[str, Path]:
        for proc, _ in self.runs.values():
            try:
                proc.wait(self.duration + 30)
            except subprocess.TimeoutExpired:
                proc.terminate()
        return {name: output for name, (_, output) in self.runs.items() if output.exists()}


def top_functions(collapsed: Path, limit: int = 15, self_time: bool = False) -> list[tuple[str, float]]:
    """(function, % of non-idle samples) from py-spy raw output: inclusive time, or self time."""
    totals: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        samples += int(count)
        names = [frames[-1]] if self_time else list(dict.fromkeys(frames))
        for frame in names:
            totals[frame] += int(count)
    return [(name, 100 * n / samples) for name, n in totals.most_common(limit)] if samples else []
