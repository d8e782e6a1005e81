"""The shared retry policy: retries what it is told to, stops on the stop event, bounded by attempts/age."""

from __future__ import annotations

import threading
import time

import pytest

from finemeca.errors import StopRequested
from finemeca.retry import RetryPolicy, retrying


def test_retries_until_it_works():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("down")
        return "ok"

    assert retrying(RetryPolicy(initial=0.001, cap=0.002), retry_on=(OSError,))(flaky) == "ok"
    assert len(calls) == 3


def test_other_errors_are_not_retried():
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        retrying(RetryPolicy(initial=0.001), retry_on=(OSError,))(broken)
    assert len(calls) == 1


def test_max_attempts_reraises_the_last_error():
    with pytest.raises(OSError, match="still down"):
        retrying(RetryPolicy(initial=0.001, max_attempts=3), retry_on=(OSError,))(
            lambda: (_ for _ in ()).throw(OSError("still down"))
        )


def test_stop_event_interrupts_the_wait_with_stop_requested():
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()

    def never() -> None:
        raise OSError("down")

    with pytest.raises(StopRequested):
        retrying(RetryPolicy(initial=30, cap=30), stop=stop, retry_on=(OSError,))(never)
    assert time.monotonic() - started < 5


def test_iteration_form():
    attempts = 0
    for attempt in retrying(RetryPolicy(initial=0.001), retry_on=(OSError,)):
        with attempt:
            attempts += 1
            if attempts < 2:
                raise OSError("once")
    assert attempts == 2


def test_stop_requested_is_not_an_os_error():
    assert not issubclass(StopRequested, OSError)
