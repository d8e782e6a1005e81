"""Local stack: Mosquitto, ActiveMQ, Elasticsearch and an SMTP sink as plain background processes.

Python API (used by tests, e.g. failure tests stopping Elasticsearch for a while):
`up()`, `down()`, `status()`, `start_service(name)`, `stop_service(name)`, `kill_service(name)`; CLI: `finemeca stack`.
"""

from tools.stack.manager import (
    SERVICE_NAMES,
    down,
    kill_service,
    paused_service,
    start_service,
    status,
    stop_service,
    up,
)
from tools.stack.service import ServiceError, ServiceStatus
from tools.stack.settings import StackSettings

__all__ = [
    "SERVICE_NAMES",
    "ServiceError",
    "ServiceStatus",
    "StackSettings",
    "down",
    "kill_service",
    "paused_service",
    "start_service",
    "status",
    "stop_service",
    "up",
]
