"""The sensor plugin contract.

Everything sensor-specific lives in `sensors/<name>/`; the gateway, ingestor and alerts
engines only talk to a `SensorPlugin`. A new sensor = one new folder exposing `PLUGIN`
(see `sensors/registry.py`) + one compose block.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

Document = dict[str, Any]

# A field the contract does not know is dead-lettered by default: indexing the rest would silently
# drop it. `ignore` keeps the message and leaves the unknown field out of the document.
UNKNOWN_FIELDS_ENV = "SENSOR_UNKNOWN_FIELDS"


MAX_NAMES_LISTED = 10  # a reason lists at most this many names, then says how many more
MAX_NAME_CHARS = 60


def listing(names: list[str], shown: int = MAX_NAMES_LISTED) -> str:
    """'a, b, c … and 4,997 more': a bounded list for a reason or a log line."""
    cut = [name if len(name) <= MAX_NAME_CHARS else f"{name[:MAX_NAME_CHARS]}…" for name in names[:shown]]
    more = f" … and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(cut) + more


class UnknownFieldsError(ValueError):
    """The message carries fields its sensor contract does not define."""


@dataclass(frozen=True)
class SimulatedMessage:
    """One message a simulator wants published: the device's topic ids and the JSON payload."""

    id_gateway: int
    id_device: int
    payload: dict[str, Any]


class SensorPlugin(ABC):
    """What each sensor folder provides. Engines never import a sensor module directly."""

    name: ClassVar[str]
    payload_model: ClassVar[type[BaseModel]]
    folder: ClassVar[Path]

    def parse(self, raw: bytes | str | dict[str, Any]) -> BaseModel:
        """Validate a raw message; raises pydantic.ValidationError or ValueError with a readable reason."""
        data = json.loads(raw) if isinstance(raw, (bytes, str)) else raw
        if not isinstance(data, dict):
            raise ValueError(f"payload must be a JSON object, got {type(data).__name__}")
        payload = self.payload_model.model_validate(data)
        unknown = sorted(payload.model_extra or {})
        if unknown and os.environ.get(UNKNOWN_FIELDS_ENV, "reject").lower() != "ignore":
            raise UnknownFieldsError(
                f"unknown field(s) {listing(unknown)} not in the {self.name} contract: extend "
                f"sensors/{self.name}/payload.py and re-drive, or set {UNKNOWN_FIELDS_ENV}=ignore"
            )
        return payload

    @abstractmethod
    def to_document(self, payload: BaseModel, tz: ZoneInfo, received_at: datetime | None = None) -> Document:
        """Elasticsearch document for one message. Must contain '@timestamp' (aware UTC datetime or ISO str).

        `received_at` (aware UTC) is when the gateway received the message, when known: it only decides
        a device time that is ambiguous (the repeated hour of the autumn DST switch)."""

    @abstractmethod
    def document_id(self, payload: BaseModel) -> str:
        """Deterministic id from the message identity: the same message always gets the same id."""

    @abstractmethod
    def timestamp(self, payload: BaseModel, tz: ZoneInfo, received_at: datetime | None = None) -> datetime:
        """UTC time of the measurement, as in `to_document` for the same `received_at`. Without
        `received_at` it depends on the message alone: the engine chooses the daily index with that."""

    def index_mappings(self) -> dict[str, Any]:
        """`mappings` for the composable index template, from `<folder>/mapping.json`."""
        return json.loads((self.folder / "mapping.json").read_text())  # type: ignore[no-any-return]

    def rules_file(self) -> Path | None:
        """Default alert rules shipped with the sensor, if any."""
        path = self.folder / "rules.yml"
        return path if path.exists() else None

    def extra_indices(self) -> dict[str, dict[str, Any]]:
        """Other indices the sensor writes (name without prefix -> mappings), created by the ingestor."""
        return {}

    def after_index(self, es: Any, documents: list[Document], index_prefix: str) -> None:
        """Hook run after a batch was indexed (e.g. centrale daily consumption); must be idempotent."""
        return None

    @abstractmethod
    def simulate(
        self, devices: int, seed: int = 0, start: datetime | None = None
    ) -> Iterator[SimulatedMessage]:
        """Endless stream of realistic messages, round-robin over `devices` devices."""
