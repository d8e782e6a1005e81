"""Helpers for end-to-end tests: publish over real MQTT, read back from real Elasticsearch / ActiveMQ."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt
from elasticsearch import Elasticsearch
from paho.mqtt.enums import CallbackAPIVersion

from finemeca import naming


def publish(prefix: str, sensor: str, payloads: Iterable[dict[str, Any] | bytes], qos: int = 1) -> int:
    """Publish each payload on its device topic with QoS 1 and wait for every PUBACK."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    infos = []
    try:
        for payload in payloads:
            if isinstance(payload, dict):
                topic = naming.mqtt_device_topic(
                    sensor, payload.get("idGateway", 0), payload.get("idDevice", 0), prefix
                )
                body = json.dumps(payload).encode()
            else:
                topic, body = naming.mqtt_device_topic(sensor, 0, 0, prefix), payload
            infos.append(client.publish(topic, body, qos=qos))
        for info in infos:
            info.wait_for_publish(timeout=60)
            assert info.is_published(), "Mosquitto did not acknowledge a QoS 1 publish"
    finally:
        client.loop_stop()
        client.disconnect()
    return len(infos)


def count(es: Elasticsearch, index: str) -> int:
    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    try:
        return int(es.count(index=index)["count"])
    except Exception:
        return 0


def wait_for_count(es: Elasticsearch, index: str, expected: int, timeout: float = 60.0) -> int:
    """Wait until `index` holds `expected` documents; return what it holds then (to assert on)."""
    deadline = time.monotonic() + timeout
    n = count(es, index)
    while n < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        n = count(es, index)
    return n


def all_docs(es: Elasticsearch, index: str, size: int = 10_000) -> list[dict[str, Any]]:
    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    hits = es.search(index=index, size=size, sort=[{"@timestamp": "asc"}, {"msg_count": "asc"}])["hits"][
        "hits"
    ]
    return [{"_id": h["_id"], "_index": h["_index"], **h["_source"]} for h in hits]


def all_ids(es: Elasticsearch, index: str) -> list[str]:
    """Every document id (scrolls: no 10k limit)."""
    from elasticsearch.helpers import scan

    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    return [hit["_id"] for hit in scan(es, index=index, query={"query": {"match_all": {}}}, _source=False)]
