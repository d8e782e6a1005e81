"""The sensor plugin contract.

Everything sensor-specific lives in `sensors/<name>/`; the gateway, ingestor, alerts and kibana
engines only talk to a `SensorPlugin`. A new sensor = one new folder exposing `PLUGIN` + one line in
`sensors/registry.py` + one compose block (recipe: sensors/README.md).

Plugins use the standard library and pydantic only: they never hold an Elasticsearch client nor
spell an index name. Derived data (e.g. centrale daily consumption) goes through a `DerivedStore`
that the ingestor implements.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel

Document = dict[str, Any]

# What to do with a field the contract does not know. `reject` (the default) dead-letters the message:
# indexing the rest would silently drop it. `ignore` keeps the message without the unknown field.
# The engine chooses (the ingestor's SENSOR_UNKNOWN_FIELDS); a plugin never reads the environment.
UnknownFields = Literal["reject", "ignore"]


MAX_NAMES_LISTED = 10  # a reason lists at most this many names, then says how many more
MAX_NAME_CHARS = 60


def listing(names: list[str], shown: int = MAX_NAMES_LISTED) -> str:
    """'a, b, c … and 4,997 more': a bounded list for a reason or a log line."""
    cut = [name if len(name) <= MAX_NAME_CHARS else f"{name[:MAX_NAME_CHARS]}…" for name in names[:shown]]
    more = f" … and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(cut) + more


class UnknownFieldsError(ValueError):
    """The message carries fields its sensor contract does not define.

    A `ValueError`, not one of finemeca.errors: plugins import nothing of ours (see the README's Layers).
    """


@dataclass(frozen=True)
class SimulatedMessage:
    """One message a simulator wants published: the device's topic ids and the JSON payload."""

    id_gateway: int
    id_device: int
    payload: dict[str, Any]


class DerivedStore(Protocol):
    """The Elasticsearch I/O an engine performs for a plugin's `after_index` hook.

    Index names are the engine's business: the plugin searches "its data" and writes into one of its
    own `extra_indices()` by the key it declared there.
    """

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """Search body (query, aggs, size, sort, ...) run over every daily index of the sensor's data;
        the batch just indexed is searchable. Returns the raw response (`hits`, `aggregations`)."""
        ...

    def write(self, extra_index: str, documents: dict[str, Document]) -> None:
        """Index (create or overwrite) `{_id: document}` into the plugin's extra index `extra_index`."""
        ...


class SensorPlugin(ABC):
    """What each sensor folder provides. Engines never import a sensor module directly."""

    name: ClassVar[str]
    payload_model: ClassVar[type[BaseModel]]
    folder: ClassVar[Path]

    def parse(self, raw: bytes | str | dict[str, Any], unknown_fields: UnknownFields = "reject") -> BaseModel:
        """Validate a raw message; raises pydantic.ValidationError or ValueError with a readable reason."""
        data = json.loads(raw) if isinstance(raw, (bytes, str)) else raw
        if not isinstance(data, dict):
            raise ValueError(f"payload must be a JSON object, got {type(data).__name__}")
        payload = self.payload_model.model_validate(data)
        unknown = sorted(payload.model_extra or {})
        if unknown and unknown_fields != "ignore":
            raise UnknownFieldsError(
                f"unknown field(s) {listing(unknown)} not in the {self.name} contract: extend "
                f"sensors/{self.name}/payload.py and re-drive, or set SENSOR_UNKNOWN_FIELDS=ignore"
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
        """Other indices the sensor writes (key -> mappings); the ingestor names and creates them."""
        return {}

    def after_index(self, store: DerivedStore, documents: list[Document], tz: ZoneInfo) -> None:
        """Hook run after a batch was indexed (e.g. centrale daily consumption); must be idempotent.

        `documents` are the ones newly created; `tz` is the devices' zone the engine configured.
        """
        return None

    def dashboard_file(self) -> Path | None:
        """Kibana dashboard of the sensor, as data (`dashboard.yml`, schema in kibana/spec.py), if any."""
        path = self.folder / "dashboard.yml"
        return path if path.exists() else None

    @abstractmethod
    def simulate(
        self, devices: int, seed: int = 0, start: datetime | None = None
    ) -> Iterator[SimulatedMessage]:
        """Endless stream of realistic messages, round-robin over `devices` devices."""
