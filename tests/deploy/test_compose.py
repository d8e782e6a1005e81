"""Static checks of docker-compose.yml: Compose Specification schema + the stack's own rules."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import jsonschema
import pytest

from finemeca.secrets_check import is_secret_name, judge_secret
from sensors.registry import available_sensors
from tests.deploy.compose_env import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    MissingVariableError,
    interpolate_tree,
    read_env_file,
    variables_used,
)

STATEFUL = {
    "mosquitto": "/mosquitto/data",
    "activemq": "/opt/apache-activemq/data",
    "elasticsearch": "/usr/share/elasticsearch/data",
    "kibana": "/usr/share/kibana/data",
}
VERSION_TAG = re.compile(r":v?\d+\.\d+\.\d+(-[\w.]+)?$")


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def validate(document: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(schema).validate(document)  # the spec's schema is draft-07


def test_raw_file_matches_compose_spec_schema(compose_raw, compose_schema):
    validate(compose_raw, compose_schema)


def test_interpolated_file_matches_compose_spec_schema(compose, compose_schema):
    validate(compose, compose_schema)


def test_schema_rejects_what_compose_rejects(compose, compose_schema):
    """Guard against a permissive schema file: a typo in a service key must fail."""
    broken = {**compose, "services": {**compose["services"], "typo": {"image": "x:1.0.0", "restrat": "no"}}}
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, compose_schema)


def test_every_sensor_has_gateway_and_ingestor(compose):
    sensors = available_sensors()
    assert {"air", "centrale", "devicev01"} <= set(sensors)
    for sensor in sensors:
        for role in ("gateway", "ingestor"):
            service = services(compose).get(f"{role}-{sensor}")
            assert service is not None, f"{role}-{sensor} missing: add one block per sensor"
            assert service["command"] == [role, "run", "--sensor", sensor]


def test_every_stateful_service_uses_a_named_volume(compose):
    declared = set(compose["volumes"])
    for name, path in STATEFUL.items():
        mounts = {m.split(":")[1]: m.split(":")[0] for m in services(compose)[name]["volumes"]}
        assert path in mounts, f"{name}: {path} not on a volume"
        assert mounts[path] in declared, f"{name}: {path} is not a named volume"


def test_no_bind_mounts_and_no_build(compose):
    declared = set(compose["volumes"])
    for name, service in services(compose).items():
        assert "build" not in service, f"{name}: build: is not deployable from Portainer's web editor"
        assert "image" in service, f"{name}: needs a prebuilt image"
        assert "env_file" not in service, f"{name}: env_file is a relative file; use environment:"
        for mount in service.get("volumes", []):
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            assert source in declared, f"{name}: {mount!r} is a bind mount, use a named volume"


def test_images_are_pinned(compose):
    for name, service in services(compose).items():
        image = service["image"]
        assert not image.endswith(":latest"), f"{name}: {image}"
        assert VERSION_TAG.search(image), f"{name}: {image} is not pinned to a version tag"


def test_restart_policies(compose):
    for name, service in services(compose).items():
        assert service.get("restart") in {"unless-stopped", "always", "no"}, f"{name}: restart policy"


def test_long_running_services_have_healthchecks(compose):
    for name, service in services(compose).items():
        check = service.get("healthcheck", {})
        if is_one_shot(service):
            continue
        assert check.get("test") and not check.get("disable"), f"{name}: healthcheck missing"
        assert check.get("interval") and check.get("retries"), f"{name}: healthcheck timing"


def test_depends_on_uses_conditions(compose):
    all_services = services(compose)
    for name, service in all_services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must be a mapping with conditions"
        for target, spec in depends.items():
            assert target in all_services, f"{name} depends on unknown {target}"
            assert "profiles" not in all_services[target], f"{name} depends on optional {target}"
            expected = (
                "service_completed_successfully" if is_one_shot(all_services[target]) else "service_healthy"
            )
            assert spec.get("condition") == expected, f"{name} -> {target}: condition {expected}"


def test_resources_and_logging(compose):
    for name, service in services(compose).items():
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("memory") and limits.get("cpus"), f"{name}: deploy.resources.limits"
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file" and logging["options"].get("max-size"), name


def test_applications_require_real_secrets(compose):
    for name, service in services(compose).items():
        if service["image"].startswith("ghcr.io/finemeca/") and not name.startswith("volume-"):
            assert service["environment"]["FINEMECA_REQUIRE_SECRETS"] == "1", name


def test_every_secret_is_a_required_variable(compose_raw):
    """No default password anywhere: every secret-named value is `${NAME:?...}`, never a literal."""
    for name, service in services(compose_raw).items():
        for key, value in (service.get("environment") or {}).items():
            if not (is_secret_name(key) or key.endswith("_AUTH")):
                continue
            text = str(value)
            used = list(variables_used(text))
            assert used, f"{name}: {key} is hard-coded"
            for variable, op, _ in used:
                if is_secret_name(variable):
                    assert op == ":?", f"{name}: {key} uses ${{{variable}}} without :? (a default?)"
            literal = re.sub(r"\$\{[^}]*\}", "", text).strip(":")
            assert not literal, f"{name}: {key} contains a literal {literal!r}"


def test_stack_refuses_to_start_without_secrets(compose_raw, filled_env):
    for secret in [name for name in filled_env if is_secret_name(name)]:
        env = {k: v for k, v in filled_env.items() if k != secret}
        with pytest.raises(MissingVariableError, match=secret):
            interpolate_tree(compose_raw, env)


def test_env_example_documents_every_variable():
    documented = read_env_file()
    used = {name for name, _, _ in variables_used(COMPOSE_FILE.read_text())}
    assert used - set(documented) == set(), f"undocumented in {ENV_EXAMPLE.name}"
    assert set(documented) - used == set(), f"{ENV_EXAMPLE.name} documents unused variables"


def test_env_example_defaults_match_compose_and_secrets_are_empty():
    documented = read_env_file()
    text = COMPOSE_FILE.read_text()
    for name, op, arg in variables_used(text):
        if op == ":-":
            assert documented[name] == arg, (
                f"{name}: stack.env.example says {documented[name]!r}, compose {arg!r}"
            )
        if op == ":?":
            assert documented[name] == "", f"{name} is required: leave it empty in the example"
    for name, value in documented.items():
        if is_secret_name(name):
            assert value == "", f"{name}: no secret value in the example"
            assert "REQUIRED" in ENV_EXAMPLE.read_text().split(f"\n{name}=")[0].splitlines()[-1]


def test_filled_example_passes_the_secret_policy(filled_env):
    for name, value in filled_env.items():
        if is_secret_name(name):
            assert judge_secret(value).ok, name


def test_docker_compose_cli_if_available(tmp_path, filled_env):
    """`docker compose config -q` needs no engine; the build machines have no compose plugin."""
    docker = shutil.which("docker")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True) if docker else None
    if docker is None or probe is None or probe.returncode != 0:
        # Recorded in docs/deploy.md: the schema and rule checks above stand in for it here.
        return
    env_file = tmp_path / "stack.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in filled_env.items()))
    result = subprocess.run(
        [docker, "compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- secure by default, trial, images


def published(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host address, host port, container port) of every `ports:` entry."""
    result = []
    for entry in service.get("ports", []):
        address, host_port, container_port = str(entry).rsplit(":", 2)
        result.append((address, host_port, container_port))
    return result


def test_every_service_drops_capabilities_and_privilege_escalation(compose):
    for name, service in services(compose).items():
        assert "no-new-privileges:true" in service.get("security_opt", []), f"{name}: no-new-privileges"
        assert service.get("cap_drop") == ["ALL"], f"{name}: cap_drop ALL"
        assert "privileged" not in service, name


def test_root_only_where_an_upstream_entrypoint_needs_it(compose):
    root_entrypoints = {"volume-init", "mosquitto", "mailpit"}  # documented in docker-compose.yml
    for name, service in services(compose).items():
        if name in root_entrypoints:
            continue
        user = str(service.get("user", ""))
        assert not user.startswith("0"), f"{name} runs as root"
        if service["image"].startswith("apache/activemq"):
            assert user and not user.startswith("0"), "ActiveMQ must not run as the image's root"


def test_nothing_plain_text_is_published_beyond_loopback(compose):
    tls_ports = {"mosquitto": {"8883"}, "kibana": {"5601"}, "mailpit": {"8025"}}
    for name, service in services(compose).items():
        for address, _, container_port in published(service):
            if address != "127.0.0.1":
                assert container_port in tls_ports.get(name, set()), f"{name}:{container_port} on {address}"
    assert all(port != "1883" for _, _, port in published(services(compose)["mosquitto"]))


def test_roles_reach_brokers_and_elasticsearch_over_tls(compose):
    for name, service in services(compose).items():
        env = service.get("environment") or {}
        if "ES_URL" in env:
            assert env["ES_URL"].startswith("https://") and env["ES_CA_FILE"] == "/certs/ca.crt", name
        if "MQTT_HOST" in env:
            assert env["MQTT_PORT"] == "8883" and env["MQTT_TLS"] == "true", name
        if "ES_CA_FILE" in env or "MQTT_CA_FILE" in env:
            assert "certs:/certs:ro" in service["volumes"], f"{name}: the CA is in the certs volume"
    es = services(compose)["elasticsearch"]["environment"]
    assert es["xpack.security.http.ssl.enabled"] == "true"
    kibana = services(compose)["kibana"]["environment"]
    assert kibana["SERVER_SSL_ENABLED"] == "true" and kibana["ELASTICSEARCH_HOSTS"].startswith('["https://')


def test_kibana_public_url_is_required(compose_raw, filled_env):
    env = {k: v for k, v in filled_env.items() if k != "KIBANA_PUBLIC_URL"}
    with pytest.raises(MissingVariableError, match="KIBANA_PUBLIC_URL"):
        interpolate_tree(compose_raw, env)
    assert "localhost" not in read_env_file()["KIBANA_PUBLIC_URL"]


def test_only_working_prefixes_are_offered():
    """MQTT and STOMP prefixes work end to end (tests/e2e/test_prefixed_pipeline.py); the dashboards
    are built for `finemeca-*` indices, so the index prefix is not a stack variable."""
    documented = read_env_file()
    assert {"MQTT_TOPIC_PREFIX", "STOMP_QUEUE_PREFIX"} <= set(documented)
    assert "ES_INDEX_PREFIX" not in documented


def test_trial_profile_shows_the_product(compose):
    trial = {name for name, s in services(compose).items() if "trial" in s.get("profiles", [])}
    assert trial == {"mailpit", "simulator"}
    simulator = services(compose)["simulator"]
    assert simulator["command"][:2] == ["simulate", "run"] and "--leak" in simulator["command"]
    assert simulator["image"].startswith("ghcr.io/finemeca/iot-tools:")
    mailpit = services(compose)["mailpit"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in mailpit["volumes"]}
    database = mailpit["environment"]["MP_DATABASE"]
    assert any(database.startswith(path + "/") and mounts[path] == "mailpit-data" for path in mounts)
    assert mailpit["environment"]["MP_UI_TLS_CERT"].startswith("/certs/")


def test_activemq_is_the_maintained_image_with_its_layout(compose):
    """apache/activemq (6.2.4+): ACTIVEMQ_HOME /opt/apache-activemq, `activemq` on PATH, conf in
    $ACTIVEMQ_HOME/conf (upstream assembly/src/docker/Dockerfile); start.sh's defaults must match."""
    service = services(compose)["activemq"]
    repo, _, tag = service["image"].partition(":")
    assert repo == "apache/activemq"
    assert tuple(int(p) for p in tag.split(".")) >= (6, 2, 4)
    start = (ROOT / "deploy" / "activemq" / "start.sh").read_text()
    assert 'home="${ACTIVEMQ_HOME:-/opt/apache-activemq}"' in start
    mounts = {m.split(":")[1]: m.split(":")[0] for m in service["volumes"]}
    assert mounts["/opt/apache-activemq/data"] == "activemq-data"
    assert service["environment"]["ACTIVEMQ_DATA"] == "/opt/apache-activemq/data"
    assert mounts["/etc/finemeca/activemq"] == "activemq-config"
    assert 'conf="${FINEMECA_ACTIVEMQ_CONF_DIR:-/etc/finemeca/activemq}"' in start
