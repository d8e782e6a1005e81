"""One hierarchy: every error we raise on purpose is a FinemecaError of the right kind."""

from __future__ import annotations

import pytest

from alerts.rules import RuleFileError
from alerts.state import StateConflictError
from finemeca.config import ElasticsearchSettings
from finemeca.errors import ConfigurationError, FinemecaError, PermanentError, StopRequested, TransientError
from finemeca.es import make_client, wait_until_healthy
from finemeca.secrets_check import PlaceholderSecretError
from finemeca.stomp_link import StompUnavailableError
from kibana.importer import KibanaError
from sensors.base import UnknownFieldsError


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (StompUnavailableError, TransientError),
        (RuleFileError, ConfigurationError),
        (PlaceholderSecretError, ConfigurationError),
        (StateConflictError, PermanentError),
        (KibanaError, FinemecaError),
        (StopRequested, FinemecaError),
    ],
)
def test_kinds(error: type[Exception], kind: type[Exception]) -> None:
    assert issubclass(error, kind)


def test_the_stop_signal_is_no_connection_error() -> None:
    assert not issubclass(StopRequested, OSError | TransientError)


def test_plugins_stay_free_of_the_core() -> None:
    # sensors import nothing of ours: the plugin's own error is a ValueError the ingestor dead-letters
    assert issubclass(UnknownFieldsError, ValueError) and not issubclass(UnknownFieldsError, FinemecaError)


def test_elasticsearch_timeout_says_what_to_check_in_production_terms() -> None:
    es = make_client(ElasticsearchSettings(url="http://127.0.0.1:1", request_timeout=1)).options(
        max_retries=0
    )
    with pytest.raises(TimeoutError) as caught:
        wait_until_healthy(es, timeout=0.5)
    assert "Elasticsearch at http://127.0.0.1:1 not yellow" in str(caught.value)
    assert "ES_URL" in str(caught.value) and "finemeca stack" not in str(caught.value)
