"""One-shot Elasticsearch security setup for the compose stack (service `es-setup`).

Idempotent, run at every `docker compose up` with the `elastic` superuser:
- sets the `kibana_system` password Kibana logs in with;
- creates the role `finemeca_app` (its own indices + Kibana saved objects) and the application user
  the engines use (`ES_USERNAME` / `ES_PASSWORD`);
- creates the read-only role `finemeca_viewer` (dashboards, Discover, no writes, no admin) and the
  user people who only look at dashboards log in with (`KIBANA_VIEWER_USERNAME` / `_PASSWORD`);
- registers the filesystem snapshot repository `finemeca-backups` on the `es-snapshots` volume
  (skipped when ES_SNAPSHOT_PATH is empty).

Environment: ES_URL, ES_CA_FILE, ELASTIC_PASSWORD, KIBANA_SYSTEM_PASSWORD, ES_USERNAME, ES_PASSWORD,
KIBANA_VIEWER_USERNAME (default finemeca-viewer), KIBANA_VIEWER_PASSWORD, ES_INDEX_PREFIX (default
finemeca), ES_SNAPSHOT_PATH (default /usr/share/elasticsearch/snapshots).
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
VIEWER_ROLE = "finemeca_viewer"
SNAPSHOT_REPOSITORY = "finemeca-backups"


def app_role(index_prefix: str) -> dict[str, object]:
    """Least privilege for gateway/ingestor/alerts/status page/kibana import: their own indices only."""
    return {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [{"names": [f"{index_prefix}-*"], "privileges": ["all"]}],
        "applications": [{"application": "kibana-.kibana", "privileges": ["all"], "resources": ["*"]}],
    }


def viewer_role(index_prefix: str) -> dict[str, object]:
    """Look, never touch: read the project's indices, Kibana dashboards/Discover/visualisations read-only."""
    return {
        "cluster": [],
        "indices": [{"names": [f"{index_prefix}-*"], "privileges": ["read", "view_index_metadata"]}],
        "applications": [
            {
                "application": "kibana-.kibana",
                "privileges": ["feature_dashboard.read", "feature_discover.read", "feature_visualize.read"],
                "resources": ["space:default"],
            }
        ],
    }


def main() -> int:
    env = os.environ
    configure_logging(role="es-setup")
    log = get_logger("es-setup")
    refuse_placeholder_secrets(
        env, required=("ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "ES_PASSWORD", "KIBANA_VIEWER_PASSWORD")
    )
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
    es.security.put_role(name=VIEWER_ROLE, **viewer_role(app_settings.index_prefix))  # type: ignore[arg-type]
    viewer = env.get("KIBANA_VIEWER_USERNAME", "finemeca-viewer")
    es.security.put_user(
        username=viewer,
        password=env["KIBANA_VIEWER_PASSWORD"],
        roles=[VIEWER_ROLE],
        full_name="Finemeca dashboards (read-only)",
    )
    snapshot_path = env.get("ES_SNAPSHOT_PATH", "/usr/share/elasticsearch/snapshots")
    if snapshot_path:
        es.snapshot.create_repository(
            name=SNAPSHOT_REPOSITORY, repository={"type": "fs", "settings": {"location": snapshot_path}}
        )
    log.info("elasticsearch security ready", app_user=app_settings.username, viewer=viewer, role=APP_ROLE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
