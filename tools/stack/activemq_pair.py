"""An ActiveMQ primary/standby pair on one shared KahaDB store (failover tests, `finemeca stack mqpair`).

Both brokers point at `<STACK_DIR>/activemq-pair/shared/kahadb`; the first to take the store's file lock
is the primary and opens its connectors, the other waits on the lock and opens them when the primary
dies. Clients list both (`STOMP_HOSTS=primary:port,standby:port`) and try them in order. On several
hosts the store must be a shared file system with working locks (NFSv4, not NFSv3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools.stack import system
from tools.stack.activemq import ActiveMQ
from tools.stack.service import ServiceStatus
from tools.stack.settings import StackSettings

LOCK_RETRY_MS = 1000


class PairBroker(ActiveMQ):
    lock_retry_ms = LOCK_RETRY_MS

    def __init__(self, settings: StackSettings, index: int, shared: Path) -> None:
        super().__init__(settings)
        self.index = index
        self.shared = shared

    @property
    def label(self) -> str:
        return f"activemq-{'ab'[self.index]}"

    @property
    def kahadb_dir(self) -> Path:
        return self.shared / "kahadb"

    def install(self) -> None:
        self.kahadb_dir.mkdir(parents=True, exist_ok=True)
        system.chown_tree(self.shared, self.settings.activemq_user)
        super().install()


@dataclass
class ActiveMqPair:
    settings: StackSettings

    @property
    def root(self) -> Path:
        return self.settings.dir / "activemq-pair"

    def broker(self, index: int) -> PairBroker:
        port = self.settings.pair_stomp_port + 3 * index
        settings = self.settings.model_copy(
            update={
                "dir": self.root / "ab"[index],
                "stomp_port": port,
                "openwire_port": port + 1,
                "activemq_heap": self.settings.pair_activemq_heap,
                "secure": False,
            }
        )
        return PairBroker(settings, index, self.root / "shared")

    def brokers(self) -> list[PairBroker]:
        return [self.broker(0), self.broker(1)]

    def stomp_hosts(self) -> str:
        return ",".join(f"{b.settings.host}:{b.port}" for b in self.brokers())

    def up(self) -> list[ServiceStatus]:
        """Start broker a and wait until it serves (primary), then start broker b (standby: it waits
        on the store lock, so it does not answer yet)."""
        primary, standby = self.brokers()
        primary.start()
        primary.wait_ready()
        standby.start()
        return self.status()

    def down(self) -> list[str]:
        return [b.label for b in self.brokers() if b.stop()]

    def status(self) -> list[ServiceStatus]:
        return [b.status() for b in self.brokers()]
