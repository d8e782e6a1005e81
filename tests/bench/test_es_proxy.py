"""The Telegraf peer's proxy against the real local Elasticsearch: `GET /` answered, the rest forwarded."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from finemeca.config import ElasticsearchSettings
from tools.pipeline import free_port

pytestmark = pytest.mark.integration


def test_proxy_answers_the_root_and_forwards_the_rest(stack):
    es = ElasticsearchSettings()
    port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, "-m", "tools.bench.es_proxy", "--upstream", es.url, "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proxy.stdout is not None and proxy.stdout.readline().strip() == "ready"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            root = json.loads(response.read())
        assert root["version"]["number"].startswith("8.")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_cluster/health") as response:
            assert json.loads(response.read())["status"] in {"green", "yellow"}
    finally:
        proxy.terminate()
        proxy.wait(10)
