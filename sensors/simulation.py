"""Simulation machinery shared by the sensor simulators: device roster, clock, msgCount, radio.

A sensor's `simulator.py` subclasses `FamilySimulator` and only writes its signal (`values`). The
stream is endless, deterministic for a seed, and round-robin over the devices: every `period_s`
seconds of simulated time each device sends one message, at its own offset within the period.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sensors.base import SimulatedMessage
from sensors.fields import DEFAULT_TIMEZONE, device_key, format_local_time

MSG_COUNT_MODULO = 65536  # LoRa frame counters are 16-bit on these devices


@dataclass(frozen=True)
class Episode:
    """A time window on one device (`device_key` '<idGateway>-<idDevice>'): a forced leak, a silence."""

    device_key: str
    start: datetime
    end: datetime

    def covers(self, key: str, moment: datetime) -> bool:
        return key == self.device_key and self.start <= moment < self.end


@dataclass
class SimulatedDevice:
    """One simulated device and its state (signal state lives in `state`, owned by the sensor)."""

    index: int
    id_gateway: int
    id_device: int
    name: str
    msg_count: int
    rssi_mean: float
    offset: timedelta
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return device_key(self.id_gateway, self.id_device)


def as_utc(moment: datetime | None) -> datetime:
    """`None` -> now (whole seconds); a naive datetime is taken as UTC."""
    if moment is None:
        return datetime.now(UTC).replace(microsecond=0)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FamilySimulator(ABC):
    """Endless, seeded stream of family messages. Subclasses set the class constants and `values`."""

    sensor: ClassVar[str]
    mod: ClassVar[str]
    gateway_base: ClassVar[int]  # distinct per sensor so device keys don't collide across sensors
    device_base: ClassVar[int] = 100
    devices_per_gateway: ClassVar[int] = 8
    customer: ClassVar[str] = "finemeca"
    radio_loss: ClassVar[float] = 0.005  # probability that one message never reaches the gateway

    def __init__(
        self,
        devices: int,
        seed: int = 0,
        start: datetime | None = None,
        *,
        silences: list[Episode] | None = None,
        period_s: float = 30.0,
        timezone: str = DEFAULT_TIMEZONE,
        radio_loss: float | None = None,
    ) -> None:
        if devices < 1:
            raise ValueError(f"devices must be >= 1, got {devices}")
        if period_s <= 0:
            raise ValueError(f"period_s must be > 0, got {period_s}")
        self.rng = random.Random(f"{self.sensor}:{seed}")
        self.start = as_utc(start)
        self.period = timedelta(seconds=period_s)
        self.tz = ZoneInfo(timezone)
        self.silences = list(silences or [])
        self.radio_loss_rate = self.radio_loss if radio_loss is None else radio_loss
        self.devices = [self._new_device(i, devices) for i in range(devices)]
        for device in self.devices:
            self.init_state(device)

    def _new_device(self, index: int, total: int) -> SimulatedDevice:
        return SimulatedDevice(
            index=index,
            id_gateway=self.gateway_base + index // self.devices_per_gateway,
            id_device=self.device_base + index,
            name=self.device_name(index),
            msg_count=self.rng.randrange(0, 5000),
            rssi_mean=self.rng.uniform(-110.0, -45.0),
            offset=self.period * index / total,
        )

    def device_name(self, index: int) -> str:
        return f"{self.sensor}-{index + 1}"

    def device_keys(self) -> list[str]:
        return [device.key for device in self.devices]

    def __iter__(self) -> Iterator[SimulatedMessage]:
        tick = 0
        while True:
            base = self.start + self.period * tick
            for device in self.devices:
                moment = base + device.offset
                device.msg_count = (device.msg_count + 1) % MSG_COUNT_MODULO  # counts even when lost
                values = self.values(device, moment)  # signal state advances even when not heard
                if self._silenced(device, moment) or self.rng.random() < self.radio_loss_rate:
                    continue
                yield SimulatedMessage(
                    device.id_gateway, device.id_device, self._payload(device, moment, values)
                )
            tick += 1

    def _silenced(self, device: SimulatedDevice, moment: datetime) -> bool:
        return any(episode.covers(device.key, moment) for episode in self.silences)

    def _payload(self, device: SimulatedDevice, moment: datetime, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "Customer": self.customer,
            "idGateway": device.id_gateway,
            "idDevice": device.id_device,
            "Device": device.name,
            "Time": format_local_time(moment.astimezone(self.tz)),
            "msgCount": device.msg_count,
            "Length": 94 + 2 * len(values),
            "RSSI": round(device.rssi_mean + self.rng.gauss(0.0, 3.0)),
            "SNR": round(self.rng.gauss(8.0, 2.5)),
            "Mod": self.mod,
            **values,
        }

    def local_hour(self, moment: datetime) -> float:
        """Hour of the day on the site's wall clock (0-24, fractional)."""
        local = moment.astimezone(self.tz)
        return local.hour + local.minute / 60 + local.second / 3600

    @abstractmethod
    def init_state(self, device: SimulatedDevice) -> None:
        """Give a new device its signal parameters (setpoints, units, ...) in `device.state`."""

    @abstractmethod
    def values(self, device: SimulatedDevice, moment: datetime) -> dict[str, Any]:
        """Advance the device's signal to `moment` and return its value/unit keys for the payload."""
