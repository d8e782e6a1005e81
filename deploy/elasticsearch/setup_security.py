"""One-shot Elasticsearch security setup for the compose stack (service `es-setup`).

Idempotent, run at every `docker compose up` with the `elastic` superuser:
- sets the `kibana_system` password Kibana logs in with;
- creates the role `finemeca_app` (its own indices + Kibana saved objects) and the application user
  the engines use (`ES_USERNAME` / `ES_PASSWORD`);
- registers the filesystem snapshot repository `finemeca-backups` on the `es-snapshots` volume.

Environment: ES_URL, ELASTIC_PASSWORD, KIBANA_SYSTEM_PASSWORD, ES_USERNAME, ES_PASSWORD,
ES_INDEX_PREFIX (default finemeca), ES_SNAPSHOT_PATH (default /usr/share/elasticsearch/snapshots).
"""

from __future__ import annotations

import os
import sys

from pydantic import SecretStr

from finemeca.config import ElasticsearchSettings
from finemeca.es import make_client, wait_until_healthy
from finemeca.logs import configure_logging, get_logger
from finemeca.secrets_check import refuse_placeholder_secrets

APP_ROLE = "finemeca_app"
SNAPSHOT_REPOSITORY = "finemeca-backups"


def app_role(index_prefix: str) -> dict[str, object]:
    """Least privilege for gateway/ingestor/alerts/status page/kibana import: their own indices only."""
    return {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [{"names": [f"{index_prefix}-*"], "privileges": ["all"]}],
        "applications": [{"application": "kibana-.kibana", "privileges": ["all"], "resources": ["*"]}],
    }


def main() -> int:
    env = os.environ
    configure_logging(role="es-setup")
    log = get_logger("es-setup")
    refuse_placeholder_secrets(env, required=("ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "ES_PASSWORD"))
    app_settings = ElasticsearchSettings()
    if not app_settings.username or not app_settings.password:
        raise SystemExit("ES_USERNAME and ES_PASSWORD are required")
    admin_settings = app_settings.model_copy(
        update={"username": "elastic", "password": SecretStr(env["ELASTIC_PASSWORD"])}
    )
    es = make_client(admin_settings)
    wait_until_healthy(es, timeout=float(env.get("ES_SETUP_TIMEOUT", "300")))

    es.security.change_password(username="kibana_system", password=env["KIBANA_SYSTEM_PASSWORD"])
    es.security.put_role(name=APP_ROLE, **app_role(app_settings.index_prefix))  # type: ignore[arg-type]
    es.security.put_user(
        username=app_settings.username,
        password=app_settings.password.get_secret_value(),
        roles=[APP_ROLE],
        full_name="Finemeca applications",
    )
    es.snapshot.create_repository(
        name=SNAPSHOT_REPOSITORY,
        repository={
            "type": "fs",
            "settings": {"location": env.get("ES_SNAPSHOT_PATH", "/usr/share/elasticsearch/snapshots")},
        },
    )
    log.info("elasticsearch security ready", app_user=app_settings.username, role=APP_ROLE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
