"""A STOMP link survives a 19 s stall of either side (issue 10, finding 5).

Heart-beats of 10 s with no grace turned every pause longer than 10 s (a busy host, a GC pause, a
starved container) into a dropped link: ActiveMQ closed it (`Channel was inactive for too (>10000)
long`) or stomp.py did after 15 s (`heartbeat timeout: diff_receive=15.0`), and every drop redelivers
all unacked messages. Both sides now allow heartbeat_ms x 3.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from finemeca.stomp_link import StompLink
from tools.stack import paused_service

pytestmark = [pytest.mark.slow]
STALL_S = 19  # < 30 - 10: survives a 30 s read window after a heart-beat sent up to 10 s earlier
STEADY_S = 25  # past stomp.py's grace for the first heart-beat

CLIENT = """
import sys, time
from finemeca.config import StompSettings
from finemeca.stomp_link import StompLink
link = StompLink(StompSettings(), "stall-probe")
link.subscribe(sys.argv[1], "stall-probe")
link.ensure_connected(give_up_after=15)
print("ready", flush=True)
while True:
    time.sleep(0.5)
    print(f"connected={link.connected} generation={link.generation}", flush=True)
"""


def test_broker_keeps_a_client_that_stalls(unique_name):
    """The client process is SIGSTOPped: ActiveMQ must not close its connection."""
    child = subprocess.Popen(
        [sys.executable, "-c", CLIENT, f"/queue/{unique_name}.stall"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        while (line := child.stdout.readline()) and line.strip() != "ready":  # log lines come first
            pass
        time.sleep(STEADY_S)
        child.send_signal(19)  # SIGSTOP
        time.sleep(STALL_S)
        child.send_signal(18)  # SIGCONT
        time.sleep(3)
        child.stdout.readline()  # a line written before the stall may still be buffered
        deadline, last = time.monotonic() + 3, ""
        while time.monotonic() < deadline:
            line = child.stdout.readline().strip()
            last = line if line.startswith("connected=") else last
    finally:
        child.kill()
        child.wait(5)
    assert last == "connected=True generation=1", f"the broker dropped a client stalled {STALL_S}s: {last}"


def test_client_keeps_a_broker_that_stalls(stomp_settings, unique_name):
    """ActiveMQ is SIGSTOPped: our link must not give up on it."""
    link = StompLink(stomp_settings, "stall-watch")
    link.subscribe(f"/queue/{unique_name}.stall", "stall-watch")
    link.ensure_connected(give_up_after=15)
    try:
        time.sleep(STEADY_S)
        with paused_service("activemq"):
            time.sleep(STALL_S)
        time.sleep(3)
        assert link.connected and link.generation == 1, f"the link dropped a broker stalled {STALL_S}s"
    finally:
        link.close()
