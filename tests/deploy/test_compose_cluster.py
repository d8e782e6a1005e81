"""The clustered override (docker-compose.cluster.yml): valid Compose, and it really lists every broker
and node to the clients and puts the gateway replicas in one shared group."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.compose_env import ROOT

OVERRIDE = ROOT / "docker-compose.cluster.yml"


class _ComposeLoader(yaml.SafeLoader):
    """Compose's merge tags `!reset` / `!override`: keep the value (what the schema sees after merging)."""


def _keep_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return None


for _tag in ("!reset", "!override"):
    _ComposeLoader.add_constructor(_tag, _keep_value)


@pytest.fixture(scope="module")
def override() -> dict[str, Any]:
    return yaml.load(OVERRIDE.read_text(), Loader=_ComposeLoader)


def test_override_matches_compose_spec_schema(override, compose_schema):
    document = {k: v for k, v in override.items() if not k.startswith("x-")}
    jsonschema.Draft7Validator(compose_schema).validate(document)


def test_clients_list_every_broker_and_node(override):
    services = override["services"]
    for name in ("gateway-air", "gateway-air-2", "ingestor-air", "ingestor-air-2", "alerts", "mailer"):
        env = services[name]["environment"]
        assert env["STOMP_HOSTS"] == "activemq:61613,activemq-standby:61613", name
    for name in ("ingestor-air", "ingestor-air-2", "ingestor-centrale", "alerts"):
        assert services[name]["environment"]["ES_URLS"].count("https://") == 3, name


def test_gateway_replicas_share_a_group_with_distinct_client_ids(override):
    services = override["services"]
    first, second = services["gateway-air"]["environment"], services["gateway-air-2"]["environment"]
    assert first["GATEWAY_SHARED_GROUP"] == second["GATEWAY_SHARED_GROUP"]
    assert second["GATEWAY_REPLICA"] and "GATEWAY_REPLICA" not in first


def test_standby_broker_shares_the_primary_store(compose_raw, override):
    standby = override["services"]["activemq-standby"]
    assert standby["extends"] == {"file": "docker-compose.yml", "service": "activemq"}
    assert any(
        v.endswith(":/opt/apache-activemq/data") for v in compose_raw["services"]["activemq"]["volumes"]
    )
