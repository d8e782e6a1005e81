"""The one retry/backoff policy of the project (tenacity underneath): exponential with full jitter,
capped, optionally bounded in attempts or age, and interrupted at once by a stop event.

    for attempt in retrying(RetryPolicy(initial=0.25, cap=30), stop=stop_event, retry_on=(OSError,)):
        with attempt:
            do_the_thing()

When the stop event is set, the loop raises `StopRequested` instead of sleeping again; when the policy's
attempts or age are exhausted, the last error is re-raised as is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_any,
    stop_never,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from finemeca.errors import StopRequested
from finemeca.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts: random in [0, min(cap, initial * 2**n)] (full jitter)."""

    initial: float = 0.5
    cap: float = 30.0
    max_attempts: int | None = None  # None: until it works or a stop is requested
    max_age: float | None = None  # seconds since the first attempt; None: no limit

    def delay(self, attempt: int) -> float:
        """Upper bound of the wait after `attempt` failed attempts (for logs and docs)."""
        return min(self.cap, self.initial * 2 ** max(attempt - 1, 0))


class _StopOnEvent(stop_base):
    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.event.is_set()


def _raise_stop_or_last_error(event: threading.Event | None) -> Callable[[RetryCallState], object]:
    def callback(retry_state: RetryCallState) -> object:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if event is not None and event.is_set():
            raise StopRequested(f"stop requested after {retry_state.attempt_number} attempt(s)") from error
        if error is not None:
            raise error
        return outcome.result() if outcome is not None else None

    return callback


def describe(error: BaseException | None) -> str:
    """`Type: message`, so an error with an empty message (e.g. stomp.py's connect failure) says something."""
    if error is None:
        return ""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _log_retry(
    name: str, fields: Mapping[str, object], on_retry: Callable[[BaseException], None] | None
) -> Callable[[RetryCallState], None]:
    def before_sleep(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        wait = retry_state.next_action.sleep if retry_state.next_action else None
        log.warning(
            f"{name}.retry",
            **fields,
            attempt=retry_state.attempt_number,
            error=describe(error),
            retry_in=round(wait, 2) if wait is not None else None,
        )
        if on_retry is not None and error is not None:
            on_retry(error)

    return before_sleep


class _EventSleep:
    """Sleeps on the stop event, so a stop interrupts the wait at once."""

    def __init__(self, event: threading.Event | None) -> None:
        self.event = event or threading.Event()

    def __call__(self, seconds: float) -> None:
        self.event.wait(seconds)


def retrying(
    policy: RetryPolicy,
    *,
    stop: threading.Event | None = None,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    name: str = "retry",
    log_fields: Mapping[str, object] | None = None,
    on_retry: Callable[[BaseException], None] | None = None,
) -> Retrying:
    """A tenacity `Retrying` for `policy`; iterate over it (see the module docstring) or call it.

    Each failed attempt that will be retried logs `<name>.retry` (with `log_fields`) and calls
    `on_retry(error)` (e.g. a metric, or health going red while the loop waits)."""
    conditions: list[stop_base] = []
    if policy.max_attempts is not None:
        conditions.append(stop_after_attempt(policy.max_attempts))
    if policy.max_age is not None:
        conditions.append(stop_after_delay(policy.max_age))
    if stop is not None:
        conditions.append(_StopOnEvent(stop))
    return Retrying(
        retry=retry_if_exception_type(retry_on),
        wait=wait_random_exponential(multiplier=policy.initial, max=policy.cap),
        stop=stop_any(*conditions) if conditions else stop_never,
        sleep=_EventSleep(stop),
        before_sleep=_log_retry(name, log_fields or {}, on_retry),
        retry_error_callback=_raise_stop_or_last_error(stop),
        reraise=True,
    )
