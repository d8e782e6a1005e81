"""elasticsearch.yml rendering: one node (the stack) and a node of a local cluster."""

from pathlib import Path

import yaml

from tools.stack.config_files import render

BASE = {"host": "127.0.0.1", "http_port": 9200, "transport_port": 9300, "secure": False}


def _render(tmp_path: Path, cluster: dict[str, object]) -> dict[str, object]:
    target = render(
        "elasticsearch.yml.j2", tmp_path / "es.yml", **BASE, data_dir="d", logs_dir="l", cluster=cluster
    )
    return yaml.safe_load(target.read_text())  # type: ignore[no-any-return]


def test_single_node_without_cluster_options(tmp_path):
    config = _render(tmp_path, {})
    assert config["discovery.type"] == "single-node"
    assert config["node.name"] == "finemeca-local-1"
    assert "discovery.seed_hosts" not in config


def test_cluster_node_gets_seed_hosts_and_initial_masters(tmp_path):
    config = _render(
        tmp_path,
        {
            "cluster_name": "c",
            "node_name": "c-2",
            "seed_hosts": ['"127.0.0.1:9391"', '"127.0.0.1:9392"'],
            "initial_masters": ['"c-1"', '"c-2"'],
        },
    )
    assert "discovery.type" not in config
    assert config["discovery.seed_hosts"] == ["127.0.0.1:9391", "127.0.0.1:9392"]
    assert config["cluster.initial_master_nodes"] == ["c-1", "c-2"]
    assert (config["cluster.name"], config["node.name"]) == ("c", "c-2")
