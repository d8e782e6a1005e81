"""What the benchmark ran on: CPU, cores, RAM, Python, Elasticsearch version."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from elasticsearch import Elasticsearch


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _es_version(es: Elasticsearch) -> str:
    try:
        nodes = es.nodes.info(filter_path="nodes.*.version")["nodes"]
        return ", ".join(sorted({str(node["version"]) for node in nodes.values()}))
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"


def describe(es: Elasticsearch) -> dict[str, str]:
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{_ram_gib():.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Elasticsearch": _es_version(es),
    }
