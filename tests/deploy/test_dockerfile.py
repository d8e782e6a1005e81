"""Static checks of the Dockerfile and .dockerignore (no Docker engine on the build machines)."""

from __future__ import annotations

import re
import tomllib

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


def stage(name: str) -> list[tuple[str, str]]:
    """Instructions of the stage `FROM ... AS <name>`, up to the next FROM."""
    all_instructions = instructions()
    start = next(
        i
        for i, (keyword, args) in enumerate(all_instructions)
        if keyword == "FROM" and args.endswith(f" AS {name}")
    )
    end = next((i for i in range(start + 1, len(all_instructions)) if all_instructions[i][0] == "FROM"), None)
    return all_instructions[start:end]


def final_stage() -> list[tuple[str, str]]:
    """The production image: stage `runtime` (the release builds `--target runtime`)."""
    return stage("runtime")


def test_multi_stage_with_pinned_slim_python():
    found = stages()
    assert len(found) >= 2, "builder + runtime stages expected"
    for image, _ in found:
        if image in {name for _, name in found}:
            continue  # a stage built on an earlier stage
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


def test_production_stage_has_no_tools():
    runtime = " ".join(args for _, args in final_stage())
    assert "tools" not in runtime, "tools/ is its own distribution: never in the production image"
    builder = " ".join(args for _, args in stage("builder"))
    assert "COPY tools" not in builder


def test_dependencies_install_from_the_hash_locked_file():
    builder = " ".join(args for keyword, args in stage("builder") if keyword == "RUN")
    assert "--require-hashes" in builder and "requirements.lock" in builder
    assert "pip install --no-deps /wheels/" in builder, "the project wheel must not re-resolve dependencies"


def test_lock_pins_every_dependency_with_hashes():
    lock = (ROOT / "deploy" / "image" / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, flags=re.M))
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", lock, flags=re.M)[1:]
    assert len(blocks) == len(pinned) and all("--hash=sha256:" in block for block in blocks)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    normalize = lambda name: re.sub(r"[-_.]+", "-", name).lower()  # noqa: E731
    locked = {normalize(name) for name in pinned}
    for requirement in project:
        name = normalize(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0])
        assert name in locked, f"{name} is in pyproject.toml but not in the lock: run `make lock`"


def test_base_image_lock_names_the_dockerfile_base():
    lines = [
        line
        for line in (ROOT / "deploy" / "image" / "base-image.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert len(lines) == 1
    assert lines[0].split("@")[0] == build_args()["PYTHON_IMAGE"]
    if "@" in lines[0]:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", lines[0].split("@")[1])
