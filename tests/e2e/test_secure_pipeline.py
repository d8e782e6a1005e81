"""The pipeline against a secured stack (second instance, `--secure`): credentials everywhere, TLS for
MQTT and Elasticsearch, private (non-default) prefixes; 1,000 messages arrive, a leak reaches a mail,
and clients without credentials or without TLS are refused."""

from __future__ import annotations

import itertools
import json
import ssl
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stomp
from pydantic import SecretStr
from stomp.exception import ConnectFailedException

from finemeca import naming
from finemeca.config import ElasticsearchSettings, MqttSettings
from finemeca.es import make_client
from sensors.air.simulator import AirSimulator
from sensors.simulation import Episode
from tests.alerts.conftest import wait_until
from tests.e2e.helpers import BackgroundPublisher, assert_exactly_once, simulated_stream, wait_for_count
from tools.simulate.publisher import MqttPublisher, PublishError
from tools.stack import mailbox as mail_reader

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SENSOR = "devicev01"


def _mqtt(env: dict[str, str], password: str | None, tls: bool = True) -> MqttSettings:
    return MqttSettings(
        port=int(env["MQTT_PORT"]),
        username=env["MQTT_USERNAME"] if password else None,
        password=SecretStr(password) if password else None,
        tls=tls,
        ca_file=Path(env["MQTT_CA_FILE"]) if tls else None,
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


def test_mqtt_refuses_plain_text(secure_stack):
    settings = _mqtt(secure_stack, secure_stack["MQTT_PASSWORD"], tls=False)
    with pytest.raises(PublishError):
        MqttPublisher(settings).connect(timeout=10)


def test_secured_pipeline_carries_a_leak_to_a_mail(secure_stack, start_pipeline, prefix):
    """Back-dated air readings with a leak on 10-100 through gateway, ingestor, alert job and mailer, all
    authenticated, MQTT and Elasticsearch over TLS, SMTP with a login; one leak mail arrives."""
    env = secure_stack
    now = datetime.now(UTC)
    leak = Episode("10-100", now - timedelta(minutes=8), now - timedelta(minutes=2))
    simulator = AirSimulator(3, seed=5, start=now - timedelta(minutes=12), leaks=[leak], radio_loss=0.0)
    payloads = [m.payload for m in itertools.islice(simulator, 3 * 24)]
    items = [
        (naming.mqtt_device_topic("air", p["idGateway"], p["idDevice"], prefix), json.dumps(p).encode())
        for p in payloads
    ]
    client_env = {k: v for k, v in env.items() if k != "MAIL_DIR"}
    pipeline = start_pipeline(["air"], **client_env)
    publisher = BackgroundPublisher(items, rate=None, settings=_mqtt(env, env["MQTT_PASSWORD"]))
    publisher.start().join()
    es = make_client(
        ElasticsearchSettings(
            url=env["ES_URL"],
            username=env["ES_USERNAME"],
            password=SecretStr(env["ES_PASSWORD"]),
            ca_file=Path(env["ES_CA_FILE"]),
        )
    )
    try:
        wait_for_count(es, naming.data_index_alias("air", prefix), len(items), timeout=90)
        extra = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_SECURITY": "none",
            "ALERTS_SENSORS": "air",
            "ALERTS_INTERVAL": "2s",
            "ALERTS_FIRST_LOOKBACK": "15m",
            "KIBANA_PUBLIC_URL": "https://kibana.plant.example",
            "MAILER_DEFAULT_RECIPIENTS": f"ops+{prefix}@example.com",
        }
        jobs = [
            pipeline.add("alerts", ["alerts", "run"], extra),
            pipeline.add("mailer", ["mailer", "run"], extra),
        ]
        for proc in jobs:
            proc.start()
        pipeline.wait_healthy(procs=jobs)

        def leak_mails() -> list[object]:
            return [
                m
                for m in mail_reader.list_messages(Path(env["MAIL_DIR"]))
                if m["X-Finemeca-Rule"] == "air-leak"
                and m["X-Finemeca-Device"] == "10-100"
                and prefix in str(m["To"])
            ]

        assert wait_until(leak_mails, timeout=120, what="the leak mail of 10-100 on the secure stack")
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
        es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")
        es.close()
