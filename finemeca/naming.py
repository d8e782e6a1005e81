"""Names shared by every engine: MQTT topics, ActiveMQ queues, Elasticsearch indices.

Kept in one place so that gateway, ingestor, alerts, dashboards and the compose file agree.
"""

from __future__ import annotations

import uuid
from datetime import datetime

DEFAULT_PREFIX = "finemeca"


def mqtt_topic_filter(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Topic filter a gateway subscribes to: <prefix>/<sensor>/<idGateway>/<idDevice>."""
    return f"{prefix}/{sensor}/#"


def mqtt_device_topic(
    sensor: str, id_gateway: int | str, id_device: int | str, prefix: str = DEFAULT_PREFIX
) -> str:
    return f"{prefix}/{sensor}/{id_gateway}/{id_device}"


def shared_subscription(topic_filter: str, group: str) -> str:
    """MQTT 5 shared subscription: replicas in the same group split the messages."""
    return f"$share/{group}/{topic_filter}"


def data_queue(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"/queue/{prefix}.{sensor}.data"


def dead_letter_queue(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Per-queue DLQ, as named by ActiveMQ's individualDeadLetterStrategy (queuePrefix 'DLQ.')."""
    return f"/queue/DLQ.{prefix}.{sensor}.data"


def alerts_queue(prefix: str = DEFAULT_PREFIX) -> str:
    return f"/queue/{prefix}.alerts"


def alerts_dead_letter_queue(prefix: str = DEFAULT_PREFIX) -> str:
    return f"/queue/DLQ.{prefix}.alerts"


def alerts_state_index(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-alerts-state"


def alerts_history_index(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-alerts-history"


def alerts_sent_index(prefix: str = DEFAULT_PREFIX) -> str:
    """Mails already sent (mailer), so a redelivered event is not mailed twice."""
    return f"{prefix}-alerts-sent"


def data_index_alias(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Alias (and index pattern root) that readers use: every daily index of the sensor."""
    return f"{prefix}-{sensor}-data"


def data_index_pattern(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-{sensor}-data-*"


def daily_index(sensor: str, timestamp: datetime, prefix: str = DEFAULT_PREFIX) -> str:
    """Daily index chosen from the document's own UTC timestamp, so a redelivery lands in the same index."""
    return f"{prefix}-{sensor}-data-{timestamp:%Y.%m.%d}"


def template_name(sensor: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}-{sensor}-data"


# Kibana saved objects: ids are uuid5 of a readable name, so re-importing overwrites instead of duplicating,
# and an alert mail can link to a sensor's dashboard without importing the dashboards code.
KIBANA_ID_NAMESPACE = uuid.UUID("6f1d3c52-4a7e-4f8e-9c1a-3b5e7d2f0a11")  # fixed: ids must never change


def kibana_object_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(KIBANA_ID_NAMESPACE, f"{kind}:{name}"))


def sensor_dashboard_title(sensor: str) -> str:
    return f"Finemeca: {sensor}"


def sensor_dashboard_id(sensor: str) -> str:
    return kibana_object_id("dashboard", sensor_dashboard_title(sensor))
