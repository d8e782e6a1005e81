"""Readiness probes speaking each protocol, bounded by `timeout`; shared by the stack and test fixtures."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def mqtt_ready(
    host: str,
    port: int,
    timeout: float = 2.0,
    auth: tuple[str, str] | None = None,
    ca_file: Path | None = None,
) -> bool:
    """An MQTT 5 CONNECT gets a successful CONNACK (over TLS trusting `ca_file` when given)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if auth:
        client.username_pw_set(*auth)
    if ca_file:
        client.tls_set(ca_certs=str(ca_file))
    try:
        client.connect(host, port, keepalive=10)
    except OSError:
        return False
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        return client.is_connected()
    finally:
        client.disconnect()
        client.loop_stop()


def stomp_ready(host: str, port: int, timeout: float = 2.0, auth: tuple[str, str] | None = None) -> bool:
    """A STOMP CONNECT is answered by CONNECTED (a bare socket, so a booting broker cannot hang us)."""
    login = f"login:{auth[0]}\npasscode:{auth[1]}\n" if auth else ""
    frame = f"CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\n{login}\n\x00".encode()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(frame)
            reply = b""
            while b"\x00" not in reply and len(reply) < 4096:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                reply += chunk
            if reply.startswith(b"CONNECTED"):
                sock.sendall(b"DISCONNECT\n\n\x00")
                return True
            return False
    except OSError:
        return False


def elasticsearch_ready(
    url: str, timeout: float = 2.0, auth: tuple[str, str] | None = None, ca_file: Path | None = None
) -> bool:
    """Cluster health yellow or better (the integ-test zip has no `GET /`)."""
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/_cluster/health",
            params={"wait_for_status": "yellow", "timeout": "1s"},
            timeout=timeout,
            auth=auth,
            verify=ssl.create_default_context(cafile=str(ca_file)) if ca_file else True,
        )
        return response.status_code == 200 and not response.json().get("timed_out", True)
    except (httpx.HTTPError, ValueError):
        return False


def smtp_ready(host: str, port: int, timeout: float = 2.0) -> bool:
    """The server greets and answers NOOP with 250."""
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as client:
            return client.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False
