"""Refuse to start with placeholder secrets.

Every role calls `enforce_secrets_policy()` at start. In production (`FINEMECA_REQUIRE_SECRETS=1`, set by
docker-compose.yml and the image) any secret-looking variable (`*_PASSWORD`, `*_TOKEN`, `*_API_KEY`,
`*_SECRET`, `*ENCRYPTION_KEY`) that is empty, too short or a well-known placeholder stops the process
with a message naming the variable, never its value. Locally (flag unset) nothing is checked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from finemeca.errors import ConfigurationError

REQUIRE_SECRETS_ENV = "FINEMECA_REQUIRE_SECRETS"
MIN_SECRET_LENGTH = 12

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ENCRYPTION_?KEY)$")

# Compared after lower-casing and dropping everything but letters and digits.
PLACEHOLDER_WORDS = frozenset(
    {
        "changeme",
        "changethis",
        "password",
        "passw0rd",
        "admin",
        "secret",
        "default",
        "example",
        "placeholder",
        "replaceme",
        "todo",
        "fixme",
        "test",
        "guest",
        "manager",
        "elastic",
        "kibana",
        "root",
        "qwerty",
        "letmein",
        "mosquitto",
        "activemq",
    }
)
# A value containing one of these is a template leftover whatever surrounds it.
PLACEHOLDER_FRAGMENTS = ("changeme", "changethis", "replaceme", "placeholder", "yourpassword", "setme")
TEMPLATE_MARKERS = re.compile(r"^<.*>$|^\$\{.*\}$|^\{\{.*\}\}$|^%.*%$")


class PlaceholderSecretError(ConfigurationError):
    """Raised when one or more secrets are missing or look like placeholders."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        lines = [f"  {name}: {reason}" for name, reason in sorted(self.problems.items())]
        super().__init__(
            "refusing to start: placeholder or weak secrets (set real values in stack.env, "
            "e.g. `openssl rand -hex 24`):\n" + "\n".join(lines)
        )


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name.upper())) and not name.upper().endswith("_FILE")


def judge_secret(value: str | None) -> Verdict:
    """Whether one secret value is acceptable; the reason never quotes the value."""
    if value is None or not value.strip():
        return Verdict(False, "empty or not set")
    stripped = value.strip()
    if TEMPLATE_MARKERS.match(stripped):
        return Verdict(False, "template placeholder (<...>, ${...}, {{...}})")
    normalized = re.sub(r"[^a-z0-9]", "", stripped.lower())
    if normalized in PLACEHOLDER_WORDS or normalized.rstrip("0123456789") in PLACEHOLDER_WORDS:
        return Verdict(False, "well-known default/placeholder word")
    if any(fragment in normalized for fragment in PLACEHOLDER_FRAGMENTS):
        return Verdict(False, "contains a placeholder word")
    if len(stripped) < MIN_SECRET_LENGTH:
        return Verdict(False, f"shorter than {MIN_SECRET_LENGTH} characters")
    if len(set(stripped)) <= 2:
        return Verdict(False, "too few distinct characters")
    return Verdict(True)


def find_placeholder_secrets(env: Mapping[str, str], required: Iterable[str] = ()) -> dict[str, str]:
    """{variable: reason} for every secret-named variable in `env` (plus `required` ones) that fails."""
    problems: dict[str, str] = {}
    for name in required:
        verdict = judge_secret(env.get(name))
        if not verdict.ok:
            problems[name] = verdict.reason
    for name, value in env.items():
        if name in problems or not is_secret_name(name):
            continue
        verdict = judge_secret(value)
        if not verdict.ok:
            problems[name] = verdict.reason
    return problems


def refuse_placeholder_secrets(env: Mapping[str, str] = os.environ, required: Iterable[str] = ()) -> None:
    """Raise `PlaceholderSecretError` if a secret in `env` (or a `required` one) is a placeholder."""
    problems = find_placeholder_secrets(env, required)
    if problems:
        raise PlaceholderSecretError(problems)


def secrets_required(env: Mapping[str, str] = os.environ) -> bool:
    return env.get(REQUIRE_SECRETS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def enforce_secrets_policy(env: Mapping[str, str] = os.environ, required: Iterable[str] = ()) -> None:
    """What every role calls at start: checks only when FINEMECA_REQUIRE_SECRETS=1 (production)."""
    if secrets_required(env):
        refuse_placeholder_secrets(env, required)
