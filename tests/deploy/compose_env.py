"""Test helpers: read stack.env.example and interpolate docker-compose.yml the way Compose does.

There is no Docker engine or `docker compose` plugin on the build machines, so the tests apply the
Compose interpolation rules themselves: `$$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
`${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "stack.env.example"
DOCKERFILE = ROOT / "Dockerfile"

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariableError(KeyError):
    pass


def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"{path.name}: not NAME=value: {line!r}"
        env[name.strip()] = value.strip()
    return env


def variables_used(text: str) -> Iterator[tuple[str, str | None, str]]:
    """(name, operator, argument) of every interpolation in `text`."""
    for match in _VARIABLE.finditer(text):
        name = match.group("name") or match.group("bare")
        if name:
            yield name, match.group("op"), match.group("arg") or ""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        present = name in env
        non_empty = present and env[name] != ""
        if op in (":-", "-"):
            use_default = not non_empty if op == ":-" else not present
            return interpolate(arg, env) if use_default else env[name]
        if op in (":?", "?"):
            if (op == ":?" and not non_empty) or (op == "?" and not present):
                raise MissingVariableError(f"{name}: {arg}")
            return env[name]
        if op in (":+", "+"):
            use_alt = non_empty if op == ":+" else present
            return interpolate(arg, env) if use_alt else ""
        return env.get(name, "")

    return _VARIABLE.sub(replace, value)


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    return node
