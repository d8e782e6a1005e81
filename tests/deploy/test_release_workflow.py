"""The release path: .github/workflows/release.yml passes actionlint and publishes what the docs promise."""

from __future__ import annotations

import re
import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from tests.deploy.compose_env import COMPOSE_FILE, ENV_EXAMPLE, ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())  # type: ignore[no-any-return]


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]  # type: ignore[no-any-return]


def test_actionlint_passes():
    """actionlint (with shellcheck on the run: scripts when installed), built by .ci/actionlint."""
    result = subprocess.run(
        [str(ROOT / ".ci" / "actionlint")], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_on_version_tags_and_tests_first(workflow):
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert triggers["push"]["tags"] == ["v*"]
    test_runs = [s.get("run", "") for s in steps(workflow, "test")]
    assert ".ci/run" in test_runs, "the release must run the README's test command"
    for job in ("image", "wheel"):
        assert "test" in workflow["jobs"][job]["needs"], f"{job} must wait for the tests"


def test_image_is_multi_arch_on_ghcr_with_version_and_digest(workflow):
    assert workflow["env"]["IMAGE"] == "ghcr.io/finemeca/iot"
    pushes = [s for s in steps(workflow, "image") if s.get("uses", "").startswith("docker/build-push-action")]
    runtime = next(s for s in pushes if s["with"]["target"] == "runtime")
    assert runtime["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert runtime["with"]["push"] is True
    meta = next(s for s in steps(workflow, "image") if s.get("id") == "meta")
    assert "type=semver,pattern={{version}}" in meta["with"]["tags"]
    assert "type=sha" in meta["with"]["tags"]
    assert "steps.push.outputs.digest" in WORKFLOW.read_text(), "the digest must be published"
    assert workflow["jobs"]["image"]["permissions"]["packages"] == "write"


def test_wheels_are_attached_to_the_release(workflow):
    builds = " ".join(s.get("run", "") for s in steps(workflow, "wheel"))
    assert "build --wheel" in builds and "tools" in builds
    release = " ".join(s.get("run", "") for s in steps(workflow, "release"))
    assert "gh release create" in release and "dist/*.whl" in release


def test_compose_default_image_is_the_version_a_tag_publishes():
    expected = f"ghcr.io/finemeca/iot:{version()}"
    assert f"${{FINEMECA_IMAGE:-{expected}}}" in COMPOSE_FILE.read_text()
    assert f"FINEMECA_IMAGE={expected}" in ENV_EXAMPLE.read_text()


def test_deploy_doc_asks_for_no_build_and_names_only_the_project_version():
    text = DEPLOY_DOC.read_text()
    for forbidden in ("docker build", "docker push", "docker compose exec", "docker run alpine"):
        assert forbidden not in text, f"docs/deploy.md: a Portainer user cannot run `{forbidden}`"
    for tag in re.findall(r"(?<![:\w])v(\d+\.\d+\.\d+)\b", text):  # git tags, not image tags
        assert tag == version(), (
            f"docs/deploy.md names v{tag}; the release this branch publishes is v{version()}"
        )
