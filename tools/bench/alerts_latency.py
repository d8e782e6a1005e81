"""Leak -> mail latency of the alert job, side by side with ElastAlert2 on the same data (issue 11 #5).

Runs on the local stack: gateway + ingestor for `air` (unique index prefix), our alert job and mailer
with their defaults, and ElastAlert2 2.31 (its own Python >= 3.12 venv under .cache/, its own writeback
index, `ES_VERSION` set) reading the same index and mailing the same SMTP sink. 15 air lines send one
reading every 5 s (the demo's rate); planned leaks start on several lines. Latency = mail received by
the sink - gateway receive time (`received_at`) of the line's first low reading.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from finemeca.config import ElasticsearchSettings, MqttSettings, SmtpSettings
from finemeca.es import make_client
from sensors.registry import get_sensor
from sensors.simulation import Episode
from tools.bench import sections
from tools.pipeline import LocalPipeline
from tools.simulate.publisher import MqttPublisher, encode
from tools.stack import mailbox

EA2_VENV = Path(".cache/elastalert-venv")
EA2_REQUIREMENT = "elastalert2==2.31.*"
EA2_PYTHONS = ("3.13", "3.12")


@dataclass
class LatencyResult:
    leaks: int
    ours: list[float] = field(default_factory=list)
    elastalert2: list[float] = field(default_factory=list)
    elastalert2_problem: str | None = None

    @staticmethod
    def p(values: list[float], q: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    def summary(self) -> dict[str, Any]:
        def figures(values: list[float]) -> dict[str, Any]:
            return {
                "mailed": len(values),
                "p50_s": self.p(values, 0.5),
                "p95_s": self.p(values, 0.95),
                "max_s": max(values) if values else None,
                "mean_s": round(statistics.mean(values), 1) if values else None,
            }

        return {"leaks": self.leaks, "ours": figures(self.ours), "elastalert2": figures(self.elastalert2),
                "elastalert2_problem": self.elastalert2_problem}  # fmt: skip


def elastalert2_binary() -> Path:
    """ElastAlert2 in its own venv (it needs Python >= 3.12; pyenv provides it), installed once."""
    binary = EA2_VENV / "bin" / "elastalert"
    if binary.exists():
        return binary
    pythons = Path.home() / ".pyenv" / "versions"
    candidates = sorted(pythons.glob("3.1[23]*/bin/python")) if pythons.is_dir() else []
    python = next((str(c) for c in candidates), shutil.which("python3.12") or shutil.which("python3.13"))
    if not python:
        raise RuntimeError(
            "ElastAlert2 2.31 needs Python >= 3.12: install one (pyenv install 3.12) and re-run"
        )
    subprocess.run([python, "-m", "venv", str(EA2_VENV)], check=True)
    subprocess.run([str(EA2_VENV / "bin" / "pip"), "install", "-q", EA2_REQUIREMENT], check=True)
    return binary


def elastalert2_files(work: Path, index: str, es_url: str, smtp_port: int, writeback: str) -> Path:
    """Config + one rule equivalent to our default `air-leak` (3 consecutive low readings per line)."""
    host, port = es_url.split("//")[-1].split(":")
    rules = work / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(
        f"rules_folder: {rules}\nrun_every: {{seconds: 10}}\nbuffer_time: {{minutes: 2}}\n"
        f"es_host: {host}\nes_port: {int(port)}\nwriteback_index: {writeback}\n"
        "alert_time_limit: {minutes: 30}\nmax_query_size: 10000\n"
    )
    (rules / "leak.yaml").write_text(
        f"name: bench-leak\ntype: frequency\nindex: {index}\nnum_events: 3\ntimeframe: {{seconds: 14}}\n"
        "query_key: device_key\nrealert: {minutes: 10}\nfilter:\n- term: {leak: true}\n"
        "alert: [email]\nemail: [elastalert2@bench.example]\nfrom_addr: elastalert2@bench.example\n"
        f"smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\n"
        "alert_subject: 'EA2 leak {0}'\nalert_subject_args: [device_key]\n"
    )
    return work / "config.yaml"


def first_low_readings(es: Elasticsearch, index: str, planned: list[Episode]) -> dict[str, datetime]:
    es.indices.refresh(index=index)
    found = {}
    for episode in planned:
        hits = es.search(
            index=index, size=1, sort=[{"@timestamp": "asc"}],
            query={"bool": {"filter": [
                {"term": {"device_key": episode.device_key}}, {"term": {"leak": True}},
                {"range": {"@timestamp": {"gte": (episode.start - timedelta(seconds=10)).isoformat()}}},
            ]}},
        )["hits"]["hits"]  # fmt: skip
        if hits:
            found[episode.device_key] = datetime.fromisoformat(hits[0]["_source"]["received_at"])
    return found


def mail_times(since: float, match: Any) -> dict[str, list[datetime]]:
    """Mails per device accepted by `match`, oldest first (sink receive time from the file name, ns)."""
    found: dict[str, list[datetime]] = {}
    for path in mailbox.message_files():
        received_ns = int(path.name.split("-")[0].split(".")[0])
        if received_ns / 1e9 < since:
            continue
        device = match(mailbox.read_message(path))
        if device:
            found.setdefault(device, []).append(datetime.fromtimestamp(received_ns / 1e9, UTC))
    return found


def latencies(starts: dict[str, datetime], mails: dict[str, list[datetime]]) -> list[float]:
    """Per leak: the first mail about its line after its first low reading."""
    found = []
    for device, first_low in starts.items():
        after = [at for at in mails.get(device, []) if at >= first_low]
        if after:
            found.append(round((after[0] - first_low).total_seconds(), 1))
    return found


def ours(msg: Any) -> str | None:
    if msg["X-Finemeca-Event-Kind"] == "fired" and "ours@bench.example" in str(msg["To"]):
        return str(msg["X-Finemeca-Device"])
    return None


def theirs(msg: Any) -> str | None:
    subject = str(msg["Subject"] or "")
    return subject.split("EA2 leak ")[-1].strip() if subject.startswith("EA2 leak ") else None


def run(leaks: int = 10, lines: int = 15, period_s: float = 5.0, spacing_s: float = 30.0,
        leak_s: float = 60.0, with_elastalert2: bool = True) -> LatencyResult:  # fmt: skip
    if leaks > lines:
        raise ValueError(f"at most one leak per line: {leaks} leaks > {lines} lines")
    es = make_client()
    tag = f"lat{secrets.token_hex(3)}"
    index = f"{tag}-air-data"
    work = Path("var/bench") / tag
    result = LatencyResult(leaks=leaks)
    env = {
        "ES_INDEX_PREFIX": tag, "ALERTS_INDEX_PREFIX": tag, "ALERTS_SENSORS": "air",
        "ALERTS_STATE_INDEX": f"{tag}-alerts-state", "ALERTS_HISTORY_INDEX": f"{tag}-alerts-history",
        "ALERTS_QUEUE": f"/queue/{tag}.alerts", "MAILER_QUEUE": f"/queue/{tag}.alerts",
        "MAILER_DEAD_LETTER_QUEUE": f"/queue/DLQ.{tag}.alerts", "MAILER_SENT_INDEX": f"{tag}-alerts-sent",
        "MAILER_DEFAULT_RECIPIENTS": "ours@bench.example", "LOG_FORMAT": "json",
    }  # fmt: skip
    pipeline = LocalPipeline(["air"], work / "logs", env=env)
    pipeline.add("alerts", ["alerts", "run"])
    pipeline.add("mailer", ["mailer", "run"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop what it started
    started = time.time()
    pipeline.start(timeout=180)
    ea2: subprocess.Popen[bytes] | None = None
    try:
        now = datetime.now(UTC) + timedelta(seconds=5)
        plugin: Any = get_sensor("air")
        keys = plugin.simulator(lines, 0, now, period_s=period_s).device_keys()
        planned = [
            Episode(keys[i], now + timedelta(seconds=30 + i * spacing_s),
                    now + timedelta(seconds=30 + i * spacing_s + leak_s))
            for i in range(leaks)
        ]  # fmt: skip
        simulator = plugin.simulate(lines, 0, now, period_s=period_s, leaks=planned)
        if with_elastalert2:
            try:
                ea2 = start_elastalert2(es, work, index, tag)
            except Exception as exc:  # the peer is optional: say exactly why it did not run
                result.elastalert2_problem = f"{type(exc).__name__}: {exc}"
        duration = 30 + leaks * spacing_s + leak_s + 20
        publisher = MqttPublisher(MqttSettings())
        publisher.connect()
        worker = threading.Thread(
            target=publisher.publish_all,
            args=(encode("air", simulator, MqttSettings().topic_prefix),),
            kwargs={"rate": lines / period_s, "duration": duration},
            daemon=True,
        )
        worker.start()
        while worker.is_alive():
            worker.join(10)
            print(f"  publishing... {time.time() - started:.0f}s / {duration + 30:.0f}s", flush=True)
        time.sleep(40)  # the last mails
        publisher.close()
        starts = first_low_readings(es, index, planned)
        for match, into in ((ours, result.ours), (theirs, result.elastalert2)):
            into += latencies(starts, mail_times(started, match))
        if ea2 is not None and ea2.poll() is not None and not result.elastalert2:
            result.elastalert2_problem = (
                f"ElastAlert2 exited with {ea2.returncode}; see {work}/elastalert2.log"
            )
    finally:
        if ea2 is not None:
            ea2.terminate()
            ea2.wait(timeout=30)
        pipeline.stop()
        es.options(ignore_status=404).indices.delete(index=f"{tag}-*")
    return result


def start_elastalert2(es: Elasticsearch, work: Path, index: str, tag: str) -> subprocess.Popen[bytes]:
    binary = elastalert2_binary()
    version = "8.19.0"
    for node in dict(es.nodes.info()).get("nodes", {}).values():
        version = node.get("version", version)
    config = elastalert2_files(
        work, f"{index}*", ElasticsearchSettings().url, SmtpSettings().port, f"{tag}-ea2"
    )
    env = {**os.environ, "ES_VERSION": version}
    subprocess.run(
        [str(binary.parent / "elastalert-create-index"), "--config", str(config), "--index", f"{tag}-ea2"],
        env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    log = (work / "elastalert2.log").open("ab")
    return subprocess.Popen(
        [str(binary), "--config", str(config), "--verbose"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


SECTION_TITLE = "## Alerts: first low reading -> mail, ours vs ElastAlert2"
SECTION_FILE = Path(__file__).with_name("alerts_latency.md")  # kept by `finemeca bench` rewrites


def markdown_section(result: LatencyResult, command: str) -> str:
    s = result.summary()
    rows = [
        (name, s[key]) for name, key in (("this project (alerts job + mailer)", "ours"),
                                         ("ElastAlert2 2.31 (frequency rule)", "elastalert2"))
    ]  # fmt: skip
    lines = [
        SECTION_TITLE,
        "",
        f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: 15 air lines, one reading per 5 s each (the",
        f"demo's rate), {result.leaks} leaks started one after the other, both engines on the same index and",
        "SMTP sink. Latency = mail stored by the sink - gateway receive time of the line's first low reading.",
        "Both need 3 low readings (10 s at this rate). Ours: defaults (`ALERTS_INTERVAL` 2 s, ingest slice",
        "up to now - refresh interval - 1 s). ElastAlert2: `run_every` 10 s, `frequency` 3 events in 14 s per",
        "`device_key`, filter `leak: true`.",
        "",
        "| engine | mailed / leaks | p50, s | p95, s | max, s |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {f['mailed']} / {result.leaks} | {f['p50_s']} | {f['p95_s']} | {f['max_s']} |"
            for name, f in rows
        ),
        "",
    ]
    if result.elastalert2_problem:
        lines += [f"ElastAlert2 did not run: {result.elastalert2_problem}", ""]
    return "\n".join(lines)


def write_section(section: str, output: Path) -> None:
    """Keep the section beside the code (the full report re-includes it) and patch it into `output`."""
    sections.write_section(section, SECTION_TITLE, SECTION_FILE, output)
