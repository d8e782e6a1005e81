"""Helpers shared by the whole sensor family (air, centrale, devicev01, ...).

The devices speak one dialect: `Customer`, `idGateway`, `idDevice`, `Device`, `Time` (local wall clock,
no zone), `msgCount`, `Length`, `RSSI`, `SNR`, `Mod`, then values with a `<Key>-U` unit. Missing values
arrive as the string `'NULL'`, `''` or JSON null. This module holds what every sensor folder would
otherwise repeat: the common payload model, the `'NULL'` handling, local time -> UTC, unit
normalisation, the document id and the common document fields.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from sensors.base import SensorPlugin, SimulatedMessage, UnknownFields

DEFAULT_TIMEZONE = "Europe/Brussels"  # default of the ingestor's SENSOR_TIMEZONE, which it hands to plugins

# Strings devices use to say "no value".
NULL_MARKERS = frozenset({"null", "none", "nan", "n/a", ""})

# Plausible device clock range; outside it the clock is unset or garbage (1970, 2165, ...).
MIN_YEAR, MAX_YEAR = 2000, 2099

# Bounds Elasticsearch enforces, checked here so that the reason names the field (docs/CONTRACTS.md).
INTEGER_MAX = 2**31 - 1  # `integer` fields (gateway_id, device_id)
LONG_MAX = 2**63 - 1  # `long` fields (msg_count)
# Text length is not refused: the ingestor cuts a keyword to its mapping's `ignore_above` (ingestor/keywords.py).

_LOCAL_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)


# --------------------------------------------------------------------------- 'NULL' and number handling


def null_to_none(value: Any) -> Any:
    """`'NULL'`, `''`, `'null'`, `None` -> None; other values unchanged (strings stripped)."""
    if isinstance(value, str):
        value = value.strip()
        if value.lower() in NULL_MARKERS:
            return None
    return value


def _number_or_none(value: Any) -> Any:
    value = null_to_none(value)
    if isinstance(value, bool):  # JSON true/false is not a number (pydantic would coerce it to 1/0)
        raise ValueError("expected a number, got a boolean")
    return value


def _text_or_none(value: Any) -> Any:
    value = null_to_none(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a device named 12 is still a name
    return value


def _storable_text(value: str | None) -> str | None:
    """Valid Unicode: what a JSON encoder can write (a lone surrogate cannot be encoded as UTF-8)."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"text is not valid Unicode (lone surrogate at character {exc.start})") from None
    return value


OptionalText = Annotated[str | None, BeforeValidator(_text_or_none), AfterValidator(_storable_text)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
OptionalFloat = Annotated[FiniteFloat | None, BeforeValidator(_number_or_none)]
OptionalInt = Annotated[int | None, BeforeValidator(_number_or_none)]
RequiredInt = Annotated[int, BeforeValidator(_number_or_none), Field(ge=0)]
DeviceId = Annotated[RequiredInt, Field(le=INTEGER_MAX)]
MessageCount = Annotated[RequiredInt, Field(le=LONG_MAX)]


# --------------------------------------------------------------------------- time


def parse_local_time(text: str) -> datetime:
    """Parse the device `Time`: 'YYYY-MM-DD HH:MM:SS' (also 'T', fractions, or an explicit offset).

    Returns a naive datetime for a wall-clock time, an aware one if the device sent an offset.
    """
    text = text.strip()
    if not _LOCAL_TIME_RE.match(text):
        raise ValueError(f"Time {text!r} is not 'YYYY-MM-DD HH:MM:SS'")
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"Time {text!r} is not a valid date: {exc}") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"Time {text!r} is outside {MIN_YEAR}-{MAX_YEAR}: device clock not set?")
    return parsed


def local_to_utc(moment: datetime, tz: ZoneInfo, received_at: datetime | None = None) -> datetime:
    """Wall-clock time in `tz` -> aware UTC datetime.

    Rule (sensors/README.md, "Time"):
    - ambiguous time (autumn fall-back, e.g. 2022-10-30 02:30 in Brussels happens twice): the occurrence
      closest to `received_at` (the gateway's receive time); without it, or at equal distance, the FIRST
      occurrence, i.e. still summer time (02:30+02:00 = 00:30Z);
    - non-existent time (spring-forward gap, e.g. 2022-03-27 02:30): read with the offset in force
      before the switch (+01:00), i.e. 01:30Z, which is 03:30 summer time; `received_at` plays no part.
    An already aware datetime (the device sent an offset) is simply converted.
    """
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    first = _first_utc(moment, tz)
    if received_at is None or not is_ambiguous(moment, tz):
        return first
    second = moment.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return second if abs(second - received_at) < abs(first - received_at) else first


@lru_cache(maxsize=8192)  # devices report the same few seconds: the ingestor asks for each many times
def _first_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=tz, fold=0).astimezone(UTC)


@lru_cache(maxsize=8192)
def is_ambiguous(moment: datetime, tz: ZoneInfo) -> bool:
    """True when the naive wall-clock `moment` happens twice in `tz` (the repeated hour of a fall-back)."""
    first, second = (moment.replace(tzinfo=tz, fold=fold) for fold in (0, 1))
    if first.utcoffset() == second.utcoffset():
        return False
    # in a spring gap the two readings also differ, but neither converts back to the same wall clock
    return first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == moment


def iso_utc(moment: datetime) -> str:
    """'2022-04-17T21:54:41Z' (microseconds kept when present)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_local_time(moment: datetime) -> str:
    """The devices' `Time` format: '2022-04-17 23:54:41'."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- units


class UnitTable:
    """Converts a value sent in one of several units to a canonical unit.

    `factors` maps an accepted unit (case-insensitive) to its multiplier into the canonical unit;
    `offsets` (optional) is added after multiplying (for temperatures).
    """

    def __init__(
        self,
        quantity: str,
        canonical: str,
        factors: Mapping[str, float],
        offsets: Mapping[str, float] | None = None,
    ) -> None:
        self.quantity = quantity
        self.canonical = canonical
        self._factors = {unit.lower(): factor for unit, factor in factors.items()}
        self._offsets = {unit.lower(): offset for unit, offset in (offsets or {}).items()}
        self._spelling = list(factors)

    def check(self, unit: str | None) -> None:
        """Raise ValueError for a unit that is neither absent nor known."""
        if unit is not None and unit.lower() not in self._factors:
            raise ValueError(
                f"unknown {self.quantity} unit {unit!r} (expected one of {', '.join(self._spelling)})"
            )

    def to_canonical(self, value: float | None, unit: str | None) -> float | None:
        """Value in the canonical unit; a missing unit means the value is already canonical."""
        if value is None:
            return None
        self.check(unit)
        key = (unit or self.canonical).lower()
        return value * self._factors[key] + self._offsets.get(key, 0.0)


def check_range(name: str, value: float | None, low: float, high: float, unit: str) -> None:
    """Plausibility check after normalisation: a clear reason instead of a silently absurd document."""
    if value is not None and not low <= value <= high:
        raise ValueError(f"{name} {value:g} {unit} is outside the plausible range [{low:g}, {high:g}] {unit}")


def rounded(value: float | None, digits: int = 6) -> float | None:
    """Round away float noise from unit conversion (0.1 * 65 = 6.500000000000001)."""
    return None if value is None else round(value, digits)


# --------------------------------------------------------------------------- payload base model


class FamilyPayload(BaseModel):
    """Fields every device of the family sends. Sensor payloads subclass this and add values + units.

    Unknown keys are kept on the model (`model_extra`); `SensorPlugin.parse` decides what to do with them
    (dead-letter by default, `SENSOR_UNKNOWN_FIELDS=ignore` to index the known fields only).
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True, str_strip_whitespace=True)

    customer: OptionalText = Field(None, alias="Customer")
    id_gateway: DeviceId = Field(alias="idGateway")
    id_device: DeviceId = Field(alias="idDevice")
    device: OptionalText = Field(None, alias="Device")
    time: str = Field(alias="Time", description="local wall clock as sent, e.g. '2022-04-17 23:54:41'")
    msg_count: MessageCount = Field(alias="msgCount")
    # bounds inside the optional: on `X | None` they would be applied to None too (a TypeError)
    length: Annotated[Annotated[int, Field(ge=0, le=65535)] | None, BeforeValidator(_number_or_none)] = Field(
        None, alias="Length"
    )
    rssi: Annotated[
        Annotated[FiniteFloat, Field(ge=-200, le=50)] | None, BeforeValidator(_number_or_none)
    ] = Field(None, alias="RSSI")
    snr: Annotated[Annotated[FiniteFloat, Field(ge=-50, le=50)] | None, BeforeValidator(_number_or_none)] = (
        Field(None, alias="SNR")
    )
    mod: OptionalText = Field(None, alias="Mod")

    @field_validator("time", mode="before")
    @classmethod
    def _time_is_a_date(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"Time must be a string 'YYYY-MM-DD HH:MM:SS', got {type(value).__name__}")
        parse_local_time(value)
        return value.strip()

    @cached_property
    def local_datetime(self) -> datetime:
        """`Time` parsed: naive wall clock (or aware if the device sent an offset)."""
        return parse_local_time(self.time)

    @property
    def device_key(self) -> str:
        return device_key(self.id_gateway, self.id_device)

    def utc_timestamp(self, tz: ZoneInfo, received_at: datetime | None = None) -> datetime:
        return local_to_utc(self.local_datetime, tz, received_at)


def device_key(id_gateway: int, id_device: int) -> str:
    """The unique device: '<idGateway>-<idDevice>'."""
    return f"{id_gateway}-{id_device}"


# --------------------------------------------------------------------------- id and common document


def document_id(sensor: str, payload: FamilyPayload) -> str:
    """`<sensor>-<idGateway>-<idDevice>-<Time compact>-<msgCount>`, e.g. 'devicev01-170-100-20220417T235441-237'.

    Built from the message alone (the wall clock as sent, not the UTC conversion) so that the id never
    depends on configuration: a redelivered message gets the same id even if SENSOR_TIMEZONE changed.
    A `Time` with an explicit offset is converted to UTC and suffixed 'Z'.
    """
    moment = payload.local_datetime
    if moment.tzinfo is not None:
        stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S") + "Z"
    else:
        stamp = moment.strftime("%Y%m%dT%H%M%S")
    if moment.microsecond:
        stamp += f".{moment.microsecond:06d}"
    return f"{sensor}-{payload.id_gateway}-{payload.id_device}-{stamp}-{payload.msg_count}"


def common_document(
    sensor: str, payload: FamilyPayload, tz: ZoneInfo, received_at: datetime | None = None
) -> dict[str, Any]:
    """Fields common to every sensor document (docs/CONTRACTS.md); None values are left out."""
    doc: dict[str, Any] = {
        "@timestamp": iso_utc(payload.utc_timestamp(tz, received_at)),
        "local_time": payload.time,
        "sensor": sensor,
        "customer": payload.customer,
        "gateway_id": payload.id_gateway,
        "device_id": payload.id_device,
        "device_key": payload.device_key,
        "device_name": payload.device,
        "msg_count": payload.msg_count,
        "length": payload.length,
        "rssi": payload.rssi,
        "snr": payload.snr,
        "modulation": payload.mod,
    }
    return without_none(doc)


def without_none(doc: dict[str, Any]) -> dict[str, Any]:
    """A value the device did not send is absent from the document, not null."""
    return {key: value for key, value in doc.items() if value is not None}


# --------------------------------------------------------------------------- plugin base for the family


class FamilySensor(SensorPlugin):
    """A `SensorPlugin` speaking the family dialect: the folder only adds its payload fields and values."""

    payload_model: ClassVar[type[FamilyPayload]]
    simulator: ClassVar[Any]  # a sensors.simulation.FamilySimulator subclass

    def parse(
        self, raw: bytes | str | dict[str, Any], unknown_fields: UnknownFields = "reject"
    ) -> FamilyPayload:
        return self._family(super().parse(raw, unknown_fields))

    def simulate(
        self, devices: int, seed: int = 0, start: datetime | None = None, **options: Any
    ) -> Iterator[SimulatedMessage]:
        """Endless seeded stream; options: `silences`, `period_s`, and what the sensor's simulator adds
        (e.g. air's `leaks`)."""
        return iter(self.simulator(devices, seed, start, **options))

    @abstractmethod
    def measurements(self, payload: Any) -> dict[str, Any]:
        """Sensor-specific document fields (values normalised to the contract's units)."""

    def to_document(
        self, payload: BaseModel, tz: ZoneInfo, received_at: datetime | None = None
    ) -> dict[str, Any]:
        family = self._family(payload)
        common = common_document(self.name, family, tz, received_at)
        return {**common, **without_none(self.measurements(family))}

    def document_id(self, payload: BaseModel) -> str:
        return document_id(self.name, self._family(payload))

    def timestamp(self, payload: BaseModel, tz: ZoneInfo, received_at: datetime | None = None) -> datetime:
        return self._family(payload).utc_timestamp(tz, received_at)

    def _family(self, payload: BaseModel) -> FamilyPayload:
        if not isinstance(payload, self.payload_model):
            raise TypeError(
                f"{self.name} expects a {self.payload_model.__name__}, got {type(payload).__name__}"
            )
        return payload
