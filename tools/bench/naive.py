"""BASELINE ONLY, never used in production: the naive per-message pipeline the benchmark compares against.

- forwarder: MQTT with automatic acknowledgement, one STOMP SEND per message, no transaction, no receipt.
- indexer: STOMP `ack:auto`, one Elasticsearch index request per message.

Both lose data on any hiccup (a message is acknowledged upstream before anything downstream holds it):
that is what the real gateway/ingestor avoid. Run as `python -m tools.bench.naive forwarder|indexer
--sensor <name>` (prints `ready` once subscribed) with the usual MQTT_*/STOMP_*/ES_* variables.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

import paho.mqtt.client as mqtt
import stomp
from paho.mqtt.enums import CallbackAPIVersion
from stomp.utils import Frame

from finemeca import naming
from finemeca.config import ElasticsearchSettings, MqttSettings, StompSettings
from finemeca.es import make_client
from ingestor.indices import ensure_sensor_template
from ingestor.settings import IngestorSettings
from sensors.registry import get_sensor


def _stomp_connection(settings: StompSettings) -> stomp.Connection12:
    conn = stomp.Connection12(settings.hosts(), auto_decode=False)
    password = settings.password.get_secret_value() if settings.password else None
    conn.connect(settings.username, password, wait=True)
    return conn


def run_forwarder(sensor: str, stop: threading.Event) -> None:
    mqtt_settings, stomp_settings = MqttSettings(), StompSettings()
    destination = naming.data_queue(sensor, stomp_settings.queue_prefix)
    conn = _stomp_connection(stomp_settings)

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        received_ms = str(int(time.time() * 1000))
        headers = {
            "persistent": "true",
            naming.HEADER_RECEIVED_AT: received_ms,
            naming.HEADER_MQTT_TOPIC: msg.topic,
        }
        conn.send(destination, msg.payload, headers=headers)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_subscribe = lambda *_: print("ready", flush=True)
    client.on_connect = lambda c, *_: c.subscribe(
        naming.mqtt_topic_filter(sensor, mqtt_settings.topic_prefix), qos=1
    )
    client.connect(mqtt_settings.host, mqtt_settings.port)
    client.loop_start()
    stop.wait()
    client.loop_stop()
    conn.disconnect()


def run_indexer(sensor: str, stop: threading.Event) -> None:
    plugin = get_sensor(sensor)
    stomp_settings, es_settings, settings = StompSettings(), ElasticsearchSettings(), IngestorSettings()
    es, prefix = make_client(es_settings), es_settings.index_prefix
    ensure_sensor_template(es, plugin, prefix)
    conn = _stomp_connection(stomp_settings)

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame: Frame) -> None:
            try:
                payload = plugin.parse(frame.body, settings.unknown_fields)
                document = plugin.to_document(payload, settings.zone)
                index = naming.daily_index(sensor, plugin.timestamp(payload, settings.zone), prefix)
                es.options(ignore_status=409).index(
                    index=index, id=plugin.document_id(payload), document=document, op_type="create"
                )
            except Exception as exc:  # the naive way: log and drop
                print(f"naive indexer dropped a message: {exc}", file=sys.stderr, flush=True)

    conn.set_listener("naive", Listener())
    conn.subscribe(naming.data_queue(sensor, stomp_settings.queue_prefix), "naive", ack="auto")
    print("ready", flush=True)
    stop.wait()
    conn.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("role", choices=["forwarder", "indexer"])
    parser.add_argument("--sensor", required=True)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    (run_forwarder if args.role == "forwarder" else run_indexer)(args.sensor, stop)


if __name__ == "__main__":
    main()
