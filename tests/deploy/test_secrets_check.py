"""Unit tests of finemeca.secrets_check (pure logic)."""

from __future__ import annotations

import pytest

from finemeca.secrets_check import (
    PlaceholderSecretError,
    enforce_secrets_policy,
    find_placeholder_secrets,
    is_secret_name,
    judge_secret,
    refuse_placeholder_secrets,
)

GOOD = "9f2c4e7a1b3d5f60a8c2e4b6"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "changeme",
        "CHANGEME",
        "change-me-please-now",
        "password",
        "Password1",
        "admin",
        "admin123456789",
        "secret",
        "<your password>",
        "${MQTT_PASSWORD}",
        "{{ secret }}",
        "short-1A",
        "aaaaaaaaaaaaaaaa",
        "replace_me_with_something",
        "elastic",
    ],
)
def test_placeholders_are_refused(value):
    assert not judge_secret(value).ok


@pytest.mark.parametrize("value", [GOOD, "correct-horse-battery-staple", "Zq8!vR2#mW5@kL9p"])
def test_real_secrets_pass(value):
    assert judge_secret(value).ok


def test_secret_names():
    for name in ("MQTT_PASSWORD", "STOMP_PASSWORD", "ES_API_KEY", "KIBANA_ENCRYPTION_KEY", "GH_TOKEN"):
        assert is_secret_name(name)
    for name in ("MQTT_USERNAME", "ES_URL", "MQTT_PASSWORD_FILE", "GPG_KEY", "PATH"):
        assert not is_secret_name(name)


def test_error_names_variables_but_never_values():
    env = {"MQTT_PASSWORD": "changeme", "STOMP_PASSWORD": GOOD, "ES_PASSWORD": "hunter2"}
    with pytest.raises(PlaceholderSecretError) as caught:
        refuse_placeholder_secrets(env)
    message = str(caught.value)
    assert "MQTT_PASSWORD" in message and "ES_PASSWORD" in message and "STOMP_PASSWORD" not in message
    assert "changeme" not in message and "hunter2" not in message
    assert set(caught.value.problems) == {"MQTT_PASSWORD", "ES_PASSWORD"}


def test_required_secret_missing_is_reported():
    assert find_placeholder_secrets({}, required=["ES_PASSWORD"]) == {"ES_PASSWORD": "empty or not set"}
    refuse_placeholder_secrets({"ES_PASSWORD": GOOD}, required=["ES_PASSWORD"])


def test_policy_only_enforced_when_required():
    weak = {"MQTT_PASSWORD": "admin"}
    enforce_secrets_policy(weak)  # local development: flag unset
    enforce_secrets_policy({**weak, "FINEMECA_REQUIRE_SECRETS": "0"})
    with pytest.raises(PlaceholderSecretError):
        enforce_secrets_policy({**weak, "FINEMECA_REQUIRE_SECRETS": "1"})
