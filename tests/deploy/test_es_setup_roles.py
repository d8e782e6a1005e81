"""Unit tests of the roles es-setup creates (pure data): least privilege for the apps, read-only viewer."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.deploy.compose_env import ROOT


def setup_module_code() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "setup_security", ROOT / "deploy/elasticsearch/setup_security.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_viewer_role_reads_the_prefix_and_kibana_dashboards_only():
    role = setup_module_code().viewer_role("plant7")
    assert role["cluster"] == []
    (indices,) = role["indices"]
    assert indices["names"] == ["plant7-*"]
    assert set(indices["privileges"]) <= {"read", "view_index_metadata"}
    (kibana,) = role["applications"]
    assert all(p.startswith("feature_") and p.endswith(".read") for p in kibana["privileges"])


def test_application_role_is_limited_to_its_prefix():
    role = setup_module_code().app_role("plant7")
    assert [entry["names"] for entry in role["indices"]] == [["plant7-*"]]
    assert "all" not in role["cluster"] and "manage_security" not in role["cluster"]
