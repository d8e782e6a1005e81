"""One error hierarchy for the whole project, and the dedicated stop signal.

- `StopRequested` says "the process is shutting down": never an `OSError`, so no connection-error handler
  swallows it by accident (the built-in `InterruptedError` was an `OSError`).
- `TransientError` is worth retrying (a server down, a timeout); `PermanentError` is not (bad input, a
  refused request): the caller dead-letters or reports it.
- `ConfigurationError` is the operator's to fix: the message names the setting.
"""

from __future__ import annotations


class FinemecaError(Exception):
    """Base of every error this project raises on purpose."""


class StopRequested(FinemecaError):  # noqa: N818 - a signal, not an error condition
    """A stop was requested (SIGTERM, Ctrl-C) while work was pending; the work was not acknowledged."""


class TransientError(FinemecaError):
    """A dependency is unavailable for now; retrying later may succeed."""


class PermanentError(FinemecaError):
    """Retrying will not help: the input or the request itself is refused."""


class ConfigurationError(FinemecaError):
    """A setting is missing or invalid; the message names it and what to set."""
