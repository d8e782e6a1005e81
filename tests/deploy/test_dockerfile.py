"""Static checks of the Dockerfile and .dockerignore (no Docker engine on the build machines)."""

from __future__ import annotations

import re

from tests.deploy.compose_env import DOCKERFILE, ROOT

PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim(-\w+)?$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def build_args() -> dict[str, str]:
    args = {}
    for keyword, value in instructions():
        if keyword == "ARG" and "=" in value:
            name, _, default = value.partition("=")
            args[name] = default
    return args


def stages() -> list[tuple[str, str]]:
    """(base image, stage name) of every FROM, ARG defaults substituted."""
    args = build_args()
    result = []
    for keyword, value in instructions():
        if keyword == "FROM":
            parts = value.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else ""
            result.append((image, name))
    return result


def final_stage() -> list[tuple[str, str]]:
    all_instructions = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(all_instructions) if keyword == "FROM")
    return all_instructions[last_from:]


def test_multi_stage_with_pinned_slim_python():
    found = stages()
    assert len(found) >= 2, "builder + runtime stages expected"
    for image, _ in found:
        assert PINNED_PYTHON.match(image), f"{image}: pin python:3.11.<patch>-slim"


def test_runtime_stage_copies_only_the_venv_from_the_builder():
    runtime = final_stage()
    copies_from = [args for keyword, args in runtime if keyword == "COPY" and "--from=" in args]
    assert copies_from and all("/opt/venv" in args for args in copies_from)
    runs = " ".join(args for keyword, args in runtime if keyword == "RUN")
    for tool in ("apt-get install", "gcc", "build-essential", "pip install"):
        assert tool not in runs, f"runtime stage must not install {tool!r}"


def test_runs_as_non_root_user():
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "USER missing in the runtime stage"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_entrypoint_is_the_cli_and_healthcheck_uses_python():
    runtime = dict(final_stage())
    assert runtime["ENTRYPOINT"] == '["finemeca"]'
    assert "python" in runtime["HEALTHCHECK"] and "/healthz" in runtime["HEALTHCHECK"]
    assert "curl" not in runtime["HEALTHCHECK"]


def test_build_context_excludes_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".cache", "var", "stack.env", "tests"):
        assert entry in ignored, f".dockerignore: {entry}"


def test_copied_paths_exist():
    for keyword, args in instructions():
        if keyword == "COPY" and "--from=" not in args:
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
