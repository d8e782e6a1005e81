"""The peer inside the benchmark: Telegraf 1.37.2 (`inputs.mqtt_consumer` -> `outputs.elasticsearch`)
on the same stack, in the same run, as what a user would pick instead of this pipeline.

Built once with `go install` into `.cache/bin` (about a minute; never committed), or taken from
TELEGRAF_BIN. At-least-once on its side: persistent MQTT session, QoS 1, no validation, no dead letters;
its documents have no deterministic id, so loss and duplicates are counted, not matched by id.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from finemeca.config import ElasticsearchSettings, MqttSettings
from tools.pipeline import free_port

VERSION = "v1.37.2"
PACKAGE = f"github.com/influxdata/telegraf/cmd/telegraf@{VERSION}"
BUILD_TAGS = "custom,inputs.mqtt_consumer,outputs.elasticsearch,parsers.json,parsers.json_v2"
CACHE_BIN = Path(".cache/bin")


def binary() -> Path:
    """Telegraf's executable: TELEGRAF_BIN, else .cache/bin/telegraf, built there if missing."""
    given = os.environ.get("TELEGRAF_BIN")
    if given:
        return Path(given)
    path = CACHE_BIN / "telegraf"
    if path.exists():
        return path
    go = shutil.which("go")
    if not go:
        raise RuntimeError(
            "the Telegraf peer needs Go to build it (or set TELEGRAF_BIN to a telegraf 1.37.2)"
        )
    print(f"building Telegraf {VERSION} into {CACHE_BIN} (about a minute, once)...", file=sys.stderr)
    CACHE_BIN.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(CACHE_BIN.resolve())}
    subprocess.run([go, "install", "-tags", BUILD_TAGS, PACKAGE], env=env, check=True)
    return path


def index_name(prefix: str, sensor: str) -> str:
    return f"{prefix}-telegraf-{sensor}"


def config(prefix: str, sensor: str, es_url: str, mqtt: MqttSettings) -> str:
    """The settings issue 14 names: persistent session, 1,000 undelivered, 1,000 per batch, 1 s flush."""
    return f"""
[agent]
  interval = "1s"
  flush_interval = "1s"
  metric_batch_size = 1000
  metric_buffer_limit = 100000
  omit_hostname = true

[[inputs.mqtt_consumer]]
  servers = ["tcp://{mqtt.host}:{mqtt.port}"]
  topics = ["{prefix}/{sensor}/#"]
  qos = 1
  client_id = "{prefix}-telegraf"
  persistent_session = true
  max_undelivered_messages = 1000
  data_format = "json"
  name_override = "{sensor}"
  tag_keys = ["idGateway", "idDevice"]
  json_string_fields = ["Customer", "Device", "Mod"]
  json_time_key = "Time"
  json_time_format = "2006-01-02 15:04:05"
  json_timezone = "UTC"

[[outputs.elasticsearch]]
  urls = ["{es_url}"]
  index_name = "{index_name(prefix, sensor)}"
  manage_template = false
  enable_sniffer = false
  health_check_interval = "0s"
  timeout = "30s"
"""


@contextmanager
def peer(sensor: str, prefix: str, log_dir: Path) -> Iterator[dict[str, int]]:
    """Run the ES proxy and Telegraf for one namespace; yields role -> pid once both are up."""
    es = ElasticsearchSettings()
    if not es.url.startswith("http://"):
        raise RuntimeError("the Telegraf peer's proxy speaks plain HTTP: run the bench on a plain stack")
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    procs: list[subprocess.Popen[str]] = []
    try:
        proxy = subprocess.Popen(
            [sys.executable, "-m", "tools.bench.es_proxy", "--upstream", es.url, "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=(log_dir / "es-proxy.log").open("w"),
            text=True,
        )
        procs.append(proxy)
        if (proxy.stdout.readline() if proxy.stdout else "").strip() != "ready":
            raise RuntimeError(f"the Telegraf peer's ES proxy did not start; see {log_dir / 'es-proxy.log'}")
        conf = log_dir / "telegraf.conf"
        conf.write_text(config(prefix, sensor, f"http://127.0.0.1:{port}", MqttSettings()))
        log = (log_dir / "telegraf.log").open("w")
        telegraf = subprocess.Popen(
            [str(binary()), "--config", str(conf)], stdout=log, stderr=subprocess.STDOUT, text=True
        )
        procs.append(telegraf)
        _wait_subscribed(telegraf, log_dir / "telegraf.log")
        yield {"telegraf": telegraf.pid, "telegraf es-proxy": proxy.pid}
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_subscribed(proc: subprocess.Popen[str], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Telegraf exited with {proc.returncode}; see {log}")
        if "Connected" in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"Telegraf did not connect to MQTT within {timeout:.0f}s; see {log}")
