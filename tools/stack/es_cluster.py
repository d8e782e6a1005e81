"""A local multi-node Elasticsearch cluster (failover tests, capacity runs): the same integ-test zip as
the single node, started N times with its own ports, data dir and `discovery.seed_hosts`.

Node i (1-based) listens on HTTP `base_http_port + i - 1` and transport `base_transport_port + i - 1`,
keeps its state under `<STACK_DIR>/es-cluster/node-<i>/`, and runs with `STACK_CLUSTER_ES_HEAP` (256m).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tools.stack.elasticsearch import Elasticsearch
from tools.stack.service import ServiceError, ServiceStatus
from tools.stack.settings import StackSettings

CLUSTER_NAME = "finemeca-cluster"


class ClusterNode(Elasticsearch):
    def __init__(self, settings: StackSettings, index: int, cluster: EsCluster) -> None:
        super().__init__(settings)
        self.index = index
        self.cluster = cluster

    @property
    def node_name(self) -> str:
        return f"{CLUSTER_NAME}-{self.index}"

    def cluster_options(self) -> dict[str, object]:
        return {
            "cluster_name": CLUSTER_NAME,
            "node_name": self.node_name,
            "seed_hosts": [f'"{self.settings.host}:{p}"' for p in self.cluster.transport_ports()],
            "initial_masters": [f'"{n}"' for n in self.cluster.node_names()],
        }


@dataclass
class EsCluster:
    settings: StackSettings
    nodes: int = 3
    base_http_port: int = 9291
    base_transport_port: int = 9391
    heap: str = "256m"

    @classmethod
    def from_settings(cls, settings: StackSettings, nodes: int = 3) -> EsCluster:
        return cls(
            settings,
            nodes,
            settings.cluster_es_port,
            settings.cluster_es_transport_port,
            settings.cluster_es_heap,
        )

    def transport_ports(self) -> list[int]:
        return [self.base_transport_port + i for i in range(self.nodes)]

    def node_names(self) -> list[str]:
        return [f"{CLUSTER_NAME}-{i + 1}" for i in range(self.nodes)]

    def node(self, index: int) -> ClusterNode:
        settings = self.settings.model_copy(
            update={
                "dir": self.settings.dir / "es-cluster" / f"node-{index}",
                "es_port": self.base_http_port + index - 1,
                "es_transport_port": self.base_transport_port + index - 1,
                "es_heap": self.heap,
                "secure": False,
            }
        )
        return ClusterNode(settings, index, self)

    def all_nodes(self) -> list[ClusterNode]:
        return [self.node(i + 1) for i in range(self.nodes)]

    def urls(self) -> list[str]:
        return [node.url for node in self.all_nodes()]

    def up(self) -> list[ServiceStatus]:
        """Start every node not running yet (in parallel) and wait until each answers."""

        def start(node: ClusterNode) -> None:
            node.start()
            node.wait_ready()

        with ThreadPoolExecutor(max_workers=self.nodes) as pool:
            futures = [pool.submit(start, node) for node in self.all_nodes()]
            errors = [str(exc) for f in futures if (exc := f.exception()) is not None]
        if errors:
            raise ServiceError("\n".join(errors))
        return self.status()

    def down(self) -> list[str]:
        with ThreadPoolExecutor(max_workers=self.nodes) as pool:
            stopped = list(pool.map(lambda node: (node.node_name, node.stop()), self.all_nodes()))
        return [name for name, was_running in stopped if was_running]

    def status(self) -> list[ServiceStatus]:
        return [node.status() for node in self.all_nodes()]
