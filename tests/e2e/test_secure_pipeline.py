"""The pipeline against a secured stack (second instance, `--secure`): credentials everywhere, TLS for
Elasticsearch; documents arrive, and clients without credentials are refused."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import stomp
from pydantic import SecretStr
from stomp.exception import ConnectFailedException

from finemeca import naming
from finemeca.config import ElasticsearchSettings, MqttSettings
from finemeca.es import make_client
from tests.e2e.helpers import BackgroundPublisher, assert_exactly_once, simulated_stream
from tools.simulate.publisher import MqttPublisher, PublishError

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SENSOR = "devicev01"


def _mqtt(env: dict[str, str], password: str | None) -> MqttSettings:
    return MqttSettings(
        port=int(env["MQTT_PORT"]),
        username=env["MQTT_USERNAME"] if password else None,
        password=SecretStr(password) if password else None,
    )


def test_secured_pipeline_indexes_with_credentials(secure_stack, start_pipeline, prefix):
    env = secure_stack
    es = make_client(
        ElasticsearchSettings(
            url=env["ES_URL"],
            username=env["ES_USERNAME"],
            password=SecretStr(env["ES_PASSWORD"]),
            ca_file=Path(env["ES_CA_FILE"]),
        )
    )
    assert env["ES_URL"].startswith("https://")
    stream = simulated_stream(prefix, SENSOR, 1_000, devices=10)
    try:
        pipeline = start_pipeline([SENSOR], **env)
        stats = BackgroundPublisher(stream.items, rate=None, settings=_mqtt(env, env["MQTT_PASSWORD"]))
        stats.start().join()
        assert_exactly_once(es, naming.data_index_alias(SENSOR, prefix), stream.ids)
        for proc in pipeline.processes:
            state = proc.health() or {}
            assert state.get("ok"), f"{proc.name} not healthy on the secure stack: {state}"
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
        es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")
        es.close()


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_mqtt_refuses_missing_or_wrong_credentials(secure_stack, password):
    settings = _mqtt(secure_stack, password)
    if password:
        settings = settings.model_copy(update={"username": secure_stack["MQTT_USERNAME"]})
    with pytest.raises(PublishError, match="refused"):
        MqttPublisher(settings).connect(timeout=10)


def test_stomp_refuses_anonymous(secure_stack):
    conn = stomp.Connection12([("127.0.0.1", int(secure_stack["STOMP_PORT"]))], reconnect_attempts_max=1)
    with pytest.raises(ConnectFailedException):
        conn.connect(wait=True)  # ActiveMQ answers ERROR and closes: stomp.py reports a failed connect
    assert not conn.is_connected()


def test_elasticsearch_refuses_anonymous_and_plain_http(secure_stack):
    url = secure_stack["ES_URL"]
    context = ssl.create_default_context(cafile=secure_stack["ES_CA_FILE"])
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/_cluster/health", context=context, timeout=10)
    assert refused.value.code == 401
    with pytest.raises(OSError):  # TLS only: a plain HTTP request is dropped without an answer
        urllib.request.urlopen(f"{url.replace('https://', 'http://')}/_cluster/health", timeout=10)
