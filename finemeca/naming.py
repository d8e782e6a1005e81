"""Names shared by every engine: MQTT topics, ActiveMQ queues and message headers, Elasticsearch indices.

Kept in one place so that gateway, ingestor, alerts, dashboards and the compose file agree: no other
module spells one of these names.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import date, datetime

DEFAULT_PREFIX = "finemeca"


def mqtt_topic_filter(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Topic filter a gateway subscribes to: <prefix>/<sensor>/<idGateway>/<idDevice>."""
    return f"{prefix}/{sensor}/#"


def mqtt_device_topic(
    sensor: str, id_gateway: int | str, id_device: int | str, prefix: str = DEFAULT_PREFIX
) -> str:
    return f"{prefix}/{sensor}/{id_gateway}/{id_device}"


# idGateway / idDevice in a topic: plain decimal digits, short enough to stay a bounded header.
_TOPIC_ID = re.compile(r"^[0-9]{1,10}$")
MAX_TOPIC_SHOWN = 200  # characters of a topic quoted in a reason or a log line


def device_topic_problem(topic: str, sensor: str, prefix: str = DEFAULT_PREFIX) -> str | None:
    """Why `topic` is not `<prefix>/<sensor>/<idGateway>/<idDevice>` (ids in decimal digits), or None."""
    shown = topic if len(topic) <= MAX_TOPIC_SHOWN else f"{topic[:MAX_TOPIC_SHOWN]}… ({len(topic):,} chars)"
    expected = f"{prefix}/{sensor}/<idGateway>/<idDevice>"
    root = f"{prefix}/{sensor}/"
    if not topic.startswith(root):
        return f"topic {shown!r} is not under {root!r}: expected {expected}"
    levels = topic[len(root) :].split("/")
    if len(levels) != 2:
        return f"topic {shown!r} has {len(levels)} level(s) after {root!r}, expected 2: {expected}"
    for name, level in zip(("idGateway", "idDevice"), levels, strict=True):
        if not _TOPIC_ID.match(level):
            return f"topic {shown!r}: {name} level {level[:20]!r} is not a number of 1-10 digits ({expected})"
    return None


def topic_device_ids(topic: str) -> tuple[int, int] | None:
    """(idGateway, idDevice) from the last two levels of a device topic, or None if they are not numbers."""
    levels = topic.rsplit("/", 2)
    if len(levels) != 3 or not (_TOPIC_ID.match(levels[1]) and _TOPIC_ID.match(levels[2])):
        return None
    return int(levels[1]), int(levels[2])


def shared_subscription(topic_filter: str, group: str) -> str:
    """MQTT 5 shared subscription: replicas in the same group split the messages."""
    return f"$share/{group}/{topic_filter}"


# Gateway replicas of one shared group announce themselves on retained status topics (their will says
# "offline"); a live member adopts an offline member's persistent session so its share is not stranded.
GATEWAY_ONLINE = b"online"
GATEWAY_OFFLINE = b"offline"


def gateway_status_filter(sensor: str, group: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}/_gateways/{sensor}/{group}/+"


def gateway_status_topic(sensor: str, group: str, client_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}/_gateways/{sensor}/{group}/{client_id}"


def gateway_drain_topic(client_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    """A session's own marker topic: the marker arrives after every message queued before it."""
    return f"{prefix}/_drain/{client_id}"


def data_queue(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"/queue/{prefix}.{sensor}.data"


def dead_letter_queue(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Per-queue DLQ, as named by ActiveMQ's individualDeadLetterStrategy (queuePrefix 'DLQ.')."""
    return f"/queue/DLQ.{prefix}.{sensor}.data"


def alerts_queue(prefix: str = DEFAULT_PREFIX) -> str:
    return f"/queue/{prefix}.alerts"


def alerts_dead_letter_queue(prefix: str = DEFAULT_PREFIX) -> str:
    return f"/queue/DLQ.{prefix}.alerts"


def data_index_alias(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Alias (and index pattern root) that readers use: every daily index of the sensor."""
    return f"{prefix}-{sensor}-data"


def data_index_pattern(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-{sensor}-data-*"


def daily_index(sensor: str, timestamp: datetime, prefix: str = DEFAULT_PREFIX) -> str:
    """Daily index chosen from the document's own UTC timestamp, so a redelivery lands in the same index."""
    return _daily_index(prefix, sensor, timestamp.date())


@functools.lru_cache(maxsize=4096)
def _daily_index(prefix: str, sensor: str, day: date) -> str:  # once per day, not per document
    return f"{prefix}-{sensor}-data-{day:%Y.%m.%d}"


def extra_index(name: str, prefix: str = DEFAULT_PREFIX) -> str:
    """An index a sensor plugin declares in `extra_indices()` (e.g. `centrale-daily`)."""
    return f"{prefix}-{name}"


def template_name(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-{sensor}-data"


def deadletter_index(prefix: str = DEFAULT_PREFIX) -> str:
    """Dashboard-friendly record of every dead-lettered message (the DLQ itself is the source of truth)."""
    return f"{prefix}-deadletters"


def queue_depth_index(timestamp: datetime, prefix: str = DEFAULT_PREFIX) -> str:
    """Daily index of queue-depth samples (the operations dashboard's view of ActiveMQ)."""
    return f"{prefix}-queue-depth-{timestamp:%Y.%m.%d}"


def queue_depth_index_pattern(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-queue-depth-*"


def queue_depth_template(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-queue-depth"


def alerts_state_index(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-alerts-state"


def alerts_history_index(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-alerts-history"


def alerts_sent_index(prefix: str = DEFAULT_PREFIX) -> str:
    """The mailer's durable record of mailed events."""
    return f"{prefix}-alerts-sent"


# STOMP headers our messages carry (beside the standard `content-type`, `persistent`).
HEADER_SENSOR = "sensor"
HEADER_MQTT_TOPIC = "mqtt-topic"
HEADER_RECEIVED_AT = "gateway-received-at"  # epoch ms when the gateway received the MQTT message
HEADER_EVENT_ID = "event-id"  # alert events
# Dead-letter headers (selector-friendly names: JMS selectors reject '-').
DLQ_REASON = "dlq_reason"
DLQ_STAGE = "dlq_stage"
DLQ_SENSOR = "dlq_sensor"
DLQ_AT = "dlq_at"
DLQ_ORIGIN = "dlq_origin"
DLQ_TRUNCATED_FROM = "dlq_truncated_from"
# Set on a message re-driven from a DLQ (epoch ms; the reason it had): the consumer tries it again.
REDRIVEN_AT = "redriven_at"
REDRIVEN_FROM_REASON = "redriven_from_reason"


# Kibana saved objects: ids are uuid5 of a readable name, so re-importing overwrites instead of duplicating,
# and an alert mail can link to a sensor's dashboard without importing the dashboards code.
KIBANA_ID_NAMESPACE = uuid.UUID("6f1d3c52-4a7e-4f8e-9c1a-3b5e7d2f0a11")  # fixed: ids must never change


def kibana_object_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(KIBANA_ID_NAMESPACE, f"{kind}:{name}"))


def sensor_dashboard_title(sensor: str) -> str:
    return f"Finemeca: {sensor}"


def sensor_dashboard_id(sensor: str) -> str:
    return kibana_object_id("dashboard", sensor_dashboard_title(sensor))
