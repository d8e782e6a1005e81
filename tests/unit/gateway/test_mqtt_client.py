"""The gateway's lean PUBLISH decoding (pure logic): the same message as paho's own decoding, and paho's
path for everything it does not handle (QoS 0/2, properties, MQTT 3.1.1 edge cases)."""

from __future__ import annotations

import struct

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.mqtt_client import BatchingClient

TOPIC = b"finemeca/air/170/100"
PAYLOAD = b'{"idGateway":170,"idDevice":100}'


def publish_packet(qos: int, protocol: int, properties: bytes = b"\x00", flags: int = 0) -> tuple[int, bytes]:
    """(fixed header command byte, variable header + payload) of one PUBLISH."""
    body = struct.pack("!H", len(TOPIC)) + TOPIC + (struct.pack("!H", 4711) if qos else b"")
    if protocol == mqtt.MQTTv5:
        body += properties
    return 0x30 | (qos << 1) | flags, body + PAYLOAD


def decode(client_class: type[mqtt.Client], command: int, packet: bytes, protocol: int) -> mqtt.MQTTMessage:
    client = client_class(CallbackAPIVersion.VERSION2, client_id="decode-test", protocol=protocol)
    client.manual_ack_set(True)
    received: list[mqtt.MQTTMessage] = []
    client.on_message = lambda _c, _u, message: received.append(message)
    client._in_packet = {"command": command, "packet": bytearray(packet)}
    assert client._handle_publish() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    (message,) = received
    return message


def fields(message: mqtt.MQTTMessage) -> tuple[object, ...]:
    return (message.mid, message.topic, bytes(message.payload), message.qos, message.dup, message.retain)


@pytest.mark.parametrize("protocol", [mqtt.MQTTv5, mqtt.MQTTv311], ids=["v5", "v3.1.1"])
@pytest.mark.parametrize("flags", [0, 0x08, 0x01], ids=["plain", "dup", "retained"])
def test_a_qos1_publish_decodes_as_paho_decodes_it(protocol: int, flags: int):
    command, packet = publish_packet(1, protocol, flags=flags)
    lean = decode(BatchingClient, command, packet, protocol)
    assert fields(lean) == fields(decode(mqtt.Client, command, packet, protocol))
    assert lean.properties is None  # no Properties object built: nothing was in it


def test_a_publish_with_properties_takes_pahos_path_and_keeps_them():
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = 60
    command, packet = publish_packet(1, mqtt.MQTTv5, properties=props.pack())
    message = decode(BatchingClient, command, packet, mqtt.MQTTv5)
    assert fields(message) == fields(decode(mqtt.Client, command, packet, mqtt.MQTTv5))
    assert message.properties is not None and message.properties.MessageExpiryInterval == 60


def test_qos0_takes_pahos_path():
    command, packet = publish_packet(0, mqtt.MQTTv5)
    message = decode(BatchingClient, command, packet, mqtt.MQTTv5)
    assert fields(message) == fields(decode(mqtt.Client, command, packet, mqtt.MQTTv5))
    assert message.properties is not None  # paho's own decoding built it
