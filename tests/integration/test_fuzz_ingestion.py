"""Property-based fuzzing (hypothesis) of parse -> validate -> transform -> serialise -> index.

Every generated message, for every sensor, ends as a document the real Elasticsearch accepted under the
sensor's real mapping, or as a dead letter with a stage and a readable reason; and validation is complete:
nothing that passed it is refused by Elasticsearch (no `index`-stage rejection). Example counts and the
fixed seed come from the hypothesis profile in tests/conftest.py (`HYPOTHESIS_PROFILE=deep` for more).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer
from hypothesis import given
from hypothesis import strategies as st

from finemeca.config import ElasticsearchSettings
from finemeca.es import make_client
from finemeca.retry import RetryPolicy
from ingestor import bulk
from ingestor.indices import ensure_sensor_template
from ingestor.prepare import Incoming, prepare
from sensors.base import SensorPlugin
from sensors.fields import DEFAULT_TIMEZONE
from sensors.registry import available_sensors, get_sensor

pytestmark = pytest.mark.integration
STAGES = {"parse", "validate", "transform"}
ZONE = ZoneInfo(DEFAULT_TIMEZONE)

NASTY_TEXT = ["NULL", "null", "", "  ", " 12 ", "1e400", "-0", "0x10", "NaN", "Infinity", "\u0000", "é" * 300]
TIMES = [
    "2022-03-27 02:30:00",  # spring-forward gap
    "2022-10-30 02:30:00",  # ambiguous
    "2099-12-31 23:59:59+14:00",
    "2000-01-01 00:00:00-12:00",
    "2022-04-17T23:54:41.123456Z",
    "2022-13-01 00:00:00",
    "1970-01-01 00:00:00",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.integers(min_value=-5, max_value=70_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-100, max_value=3000),
    st.text(max_size=40),
    st.text(max_size=400),
    st.sampled_from(NASTY_TEXT + TIMES),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2110, 1, 1)).map(str),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=4,
)


def _sample(plugin: SensorPlugin) -> dict[str, Any]:
    return json.loads((plugin.folder / "sample.json").read_text())  # type: ignore[no-any-return]


def _keys(plugin: SensorPlugin) -> list[str]:
    fields = plugin.payload_model.model_fields.values()
    return sorted({field.alias or "" for field in fields} - {""})


@st.composite
def messages(draw: st.DrawFn, sensor: str) -> bytes:
    """A raw body: mostly the sensor's sample with some fields replaced, dropped or added; sometimes junk."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=300))
    plugin = get_sensor(sensor)
    payload = _sample(plugin)
    keys = _keys(plugin)
    for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
        payload[key] = draw(values)
    for key in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
        payload.pop(key, None)
    if draw(st.integers(0, 9)) == 0:
        payload[draw(st.text(max_size=12))] = draw(values)
    return json.dumps(payload, allow_nan=True).encode()


@pytest.fixture(scope="module")
def es_index(es_settings: ElasticsearchSettings) -> Iterator[tuple[Elasticsearch, str]]:
    """The ingestor's client (orjson) and a private prefix whose templates are the sensors' real mappings."""
    es = make_client(es_settings, serializer=OrjsonSerializer())
    prefix = "fuzz" + datetime.now().strftime("%H%M%S%f")
    for sensor in available_sensors():
        ensure_sensor_template(es, get_sensor(sensor), prefix)
    yield es, prefix
    es.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")
    es.close()


def _check(es: Elasticsearch, prefix: str, sensor: str, body: bytes) -> None:
    incoming = Incoming("1", 1, body, {"gateway-received-at": "1700000000000", "message-id": "ID:fuzz"})
    batch = prepare([incoming], get_sensor(sensor), ZONE, prefix)
    for rejected in batch.rejected:
        assert rejected.stage in STAGES and len(rejected.reason) > 10, rejected
    outcome = bulk.write(es, batch.ready, RetryPolicy(initial=0.1, max_attempts=3))
    refused = [reason for _p, reason in outcome.rejected]
    assert not refused, f"passed validation but Elasticsearch refused it: {refused} for {body[:300]!r}"
    assert len(outcome.created) + len(outcome.duplicates) + len(batch.rejected) == 1


@pytest.mark.parametrize("sensor", available_sensors())
def test_every_message_is_indexed_or_dead_lettered_with_a_reason(es_index, sensor):
    es, prefix = es_index

    @given(body=messages(sensor))
    def check(body: bytes) -> None:
        _check(es, prefix, sensor, body)

    check()
