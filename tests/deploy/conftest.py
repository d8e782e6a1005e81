"""Fixtures for the static deployment checks (no Docker engine needed)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.compose_env import COMPOSE_FILE, ROOT, interpolate_tree, read_env_file

# The official Compose Specification JSON schema (compose-spec/compose-spec, schema/compose-spec.json),
# as shipped by the npm package of the `dclint` Compose linter; fetched through the npm client into the
# git-ignored .cache/ once, then reused.
SCHEMA_PACKAGE = "dclint@3.1.0"
SCHEMA_MEMBER = "package/schemas/compose.schema.json"
SCHEMA_CACHE = ROOT / ".cache" / "compose-spec"


def _fetch_compose_schema() -> Path:
    target = SCHEMA_CACHE / "compose-spec.json"
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed once to fetch the Compose Specification schema (package dclint)")
    SCHEMA_CACHE.mkdir(parents=True, exist_ok=True)
    packed = subprocess.run(
        [npm, "pack", SCHEMA_PACKAGE, "--silent", "--pack-destination", str(SCHEMA_CACHE)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    tarball = SCHEMA_CACHE / packed.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(SCHEMA_MEMBER)
        assert member is not None, f"{SCHEMA_MEMBER} missing from {tarball.name}"
        partial = target.with_suffix(".part")
        partial.write_bytes(member.read())
    partial.replace(target)
    tarball.unlink()
    return target


@pytest.fixture(scope="session")
def compose_schema() -> dict[str, Any]:
    schema = json.loads(_fetch_compose_schema().read_text())
    assert schema.get("title") == "Compose Specification", "unexpected schema file"
    return schema  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def compose_raw() -> dict[str, Any]:
    """docker-compose.yml as YAML (anchors and merge keys resolved), before interpolation."""
    return yaml.safe_load(COMPOSE_FILE.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def filled_env() -> dict[str, str]:
    """stack.env.example with every empty (required) value filled with a random secret."""
    env = read_env_file()
    filled = {name: value or secrets.token_hex(24) for name, value in env.items()}
    filled["SMTP_HOST"] = "smtp.example.org"
    filled["MAILER_DEFAULT_RECIPIENTS"] = "ops@example.org"
    return filled


@pytest.fixture(scope="session")
def compose(compose_raw: dict[str, Any], filled_env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml after interpolation with a filled stack.env (what the engine would run)."""
    return interpolate_tree(compose_raw, filled_env)  # type: ignore[no-any-return]
