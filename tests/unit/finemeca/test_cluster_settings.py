"""Several Elasticsearch nodes and several ActiveMQ brokers from the environment."""

import pytest

from finemeca.config import ElasticsearchSettings, StompSettings
from finemeca.es import make_client, replica_settings


def test_es_url_may_list_several_nodes(monkeypatch):
    monkeypatch.setenv("ES_URL", "http://es1:9200, http://es2:9200,")
    assert ElasticsearchSettings().nodes() == ["http://es1:9200", "http://es2:9200"]
    monkeypatch.setenv("ES_URLS", "http://a:9200,http://b:9200,http://c:9200")
    settings = ElasticsearchSettings()
    assert settings.nodes() == ["http://a:9200", "http://b:9200", "http://c:9200"]
    client = make_client(settings)
    assert sorted(n.base_url for n in client.transport.node_pool.all()) == settings.nodes()


def test_replicas_follow_the_cluster_size_unless_set():
    assert replica_settings(None) == {"auto_expand_replicas": "0-1"}
    assert replica_settings(2) == {"number_of_replicas": 2, "auto_expand_replicas": False}


def test_stomp_hosts_are_tried_in_order(monkeypatch):
    assert StompSettings(host="mq", port=61613).hosts() == [("mq", 61613)]
    monkeypatch.setenv("STOMP_HOSTS", "mq-a:61613, mq-b:61614")
    assert StompSettings().hosts() == [("mq-a", 61613), ("mq-b", 61614)]
    assert StompSettings().describe() == "mq-a:61613,mq-b:61614"


def test_a_bad_stomp_hosts_entry_names_itself(monkeypatch):
    monkeypatch.setenv("STOMP_HOSTS", "mq-a")
    with pytest.raises(ValueError, match="'mq-a' is not host:port"):
        StompSettings().hosts()
