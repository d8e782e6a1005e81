"""Shape of the simulated streams shared by every sensor: deterministic, counters, time, radio gaps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sensors.devicev01 import PLUGIN as DEVICEV01
from sensors.fields import FamilyPayload
from sensors.registry import available_sensors, get_sensor
from sensors.simulation import MSG_COUNT_MODULO, Episode

START = datetime(2022, 4, 17, 21, 54, 41, tzinfo=UTC)


@pytest.mark.parametrize("name", available_sensors())
def test_same_seed_same_messages_and_every_message_validates(name):
    plugin = get_sensor(name)
    first = list(itertools.islice(plugin.simulate(5, seed=3, start=START), 200))
    again = list(itertools.islice(plugin.simulate(5, seed=3, start=START), 200))
    other = list(itertools.islice(plugin.simulate(5, seed=4, start=START), 200))
    assert first == again
    assert first != other
    for message in first:
        payload = plugin.parse(message.payload)
        assert isinstance(payload, FamilyPayload)
        assert (payload.id_gateway, payload.id_device) == (message.id_gateway, message.id_device)
        plugin.to_document(payload, ZoneInfo("Europe/Brussels"))


@pytest.mark.parametrize("name", available_sensors())
def test_round_robin_local_times_and_msg_count_jumps_on_radio_gaps(name):
    messages = list(itertools.islice(get_sensor(name).simulate(4, seed=1, start=START), 2000))
    assert messages[0].payload["Time"] == "2022-04-17 23:54:41"  # Brussels wall clock
    assert len({(m.id_gateway, m.id_device) for m in messages}) == 4
    steps = []
    for device in {(m.id_gateway, m.id_device) for m in messages}:
        counts = [m.payload["msgCount"] for m in messages if (m.id_gateway, m.id_device) == device]
        steps += [(b - a) % MSG_COUNT_MODULO for a, b in itertools.pairwise(counts)]
    assert set(steps) >= {1, 2}  # mostly consecutive, some lost on the radio
    assert max(steps) < 10


def test_silenced_device_sends_nothing_in_its_window():
    end = START + timedelta(minutes=30)
    stream = DEVICEV01.simulate(2, start=START, silences=[Episode("170-100", START, end)])
    messages = list(itertools.islice(stream, 200))
    quiet = [m for m in messages if m.id_device == 100]
    assert quiet
    first_time = datetime.fromisoformat(quiet[0].payload["Time"]).replace(tzinfo=ZoneInfo("Europe/Brussels"))
    assert first_time >= end


def test_no_devices_is_an_error():
    with pytest.raises(ValueError, match="devices must be >= 1"):
        next(get_sensor("air").simulate(0))
