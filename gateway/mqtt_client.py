"""paho's MQTT client with two per-message costs removed (the gateway's hot path, issue 14).

- paho reads ONE packet per pass of its network loop (a `select` and the loop's bookkeeping per message):
  `loop_read` here reads every packet already received, until the socket would block, and the socket is
  read in 64 KiB chunks instead of one `recv` per packet header and body;
- `ack` wakes the network thread with one socket write per PUBACK: `ack_many` queues a batch's PUBACKs and
  wakes it once;
- paho decodes every MQTT 5 PUBLISH into a `Properties` object, about 60 % of its receive time: a QoS 1
  PUBLISH without properties (what devices send) is decoded here without one; any other PUBLISH (QoS 0 or
  2, properties such as a topic alias, a malformed packet) takes paho's own path.
Both touch paho 2.x internals (`_packet_read`, `_out_packet`, `_sockpairW`), pinned in pyproject.toml.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt

QOS1 = 0x02  # PUBLISH fixed header: QoS bits (0x06) of a QoS 1 message

READ_CHUNK = 65536
MAX_PACKETS_PER_READ = 10_000


class BatchingClient(mqtt.Client):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recv_buffer = b""
        self._recv_pos = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._recv_pos >= len(self._recv_buffer):
            self._recv_buffer, self._recv_pos = super()._sock_recv(READ_CHUNK), 0  # may raise BlockingIOError
            if not self._recv_buffer:
                return b""  # connection closed
        chunk = self._recv_buffer[self._recv_pos : self._recv_pos + bufsize]
        self._recv_pos += len(chunk)
        return chunk

    def _sock_close(self) -> None:
        self._recv_buffer, self._recv_pos = b"", 0  # bytes of a dead connection never reach the next one
        super()._sock_close()

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """Read every packet available now (paho reads one per loop pass)."""
        for _ in range(MAX_PACKETS_PER_READ):
            if self._sock is None:
                return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)  # type: ignore[no-any-return]
            if rc == mqtt.MQTTErrorCode.MQTT_ERR_AGAIN:
                break
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK (QoS 1) each message id; the network thread is woken once for all of them."""
        for mid in mids:
            packet = struct.pack("!BBH", mqtt.PUBACK, 2, mid)
            self._out_packet.append(
                {
                    "command": mqtt.PUBACK,
                    "mid": mid,
                    "qos": 1,
                    "pos": 0,
                    "to_process": 4,
                    "packet": packet,
                    "info": None,
                }
            )
        if self._sockpairW is not None:
            with contextlib.suppress(BlockingIOError):
                self._sockpairW.send(mqtt.sockpair_data)
        self._call_socket_register_write()

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        """A QoS 1 PUBLISH without properties, decoded without paho's per-message `Properties`."""
        command = self._in_packet["command"]
        packet = self._in_packet["packet"]
        if command & 0x06 != QOS1 or len(packet) < 4:
            return super()._handle_publish()  # type: ignore[no-any-return]
        topic_end = 2 + int.from_bytes(packet[0:2], "big")
        payload_at = topic_end + 2  # after the packet id
        if self._protocol == mqtt.MQTTv5:
            if len(packet) <= payload_at or packet[payload_at] != 0:  # properties present (or malformed)
                return super()._handle_publish()  # type: ignore[no-any-return]
            payload_at += 1  # the property length byte: 0
        if topic_end == 2 or len(packet) < payload_at:  # no topic (alias) or truncated: paho decides
            return super()._handle_publish()  # type: ignore[no-any-return]
        mid = int.from_bytes(packet[topic_end : topic_end + 2], "big")
        message = mqtt.MQTTMessage(mid, bytes(packet[2:topic_end]))
        message.qos = 1
        message.dup = bool(command & 0x08)
        message.retain = bool(command & 0x01)
        message.payload = bytes(packet[payload_at:])
        message.timestamp = mqtt.time_func()
        self._handle_on_message(message)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS if self._manual_ack else self._send_puback(message.mid)  # type: ignore[no-any-return]
