"""Acceptance: kill -9 the bridge repeatedly while 20,000 uplinks stream in over MQTT QoS 1 -> nothing lost."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bridgehelp import BridgeProcess, Receiver, config_text
from conftest import free_port
from publisher import dedup_id

UPLINKS = 20_000
DEVICES = 50


@pytest.mark.slow
def test_kill_9_repeatedly_during_20000_mqtt_uplinks_loses_nothing(mosquitto, tmp_path: Path) -> None:
    receiver = Receiver().start()
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(config_text(tmp_path / "outbox.sqlite3", port, receiver.url, http=False,
                                  mqtt_port=mosquitto.port, client_id="tingbro-kill-test"))
    bridge = BridgeProcess(config, port, tmp_path / "bridge.log").start()
    publisher = None
    try:
        bridge.wait_ready(mqtt="subscribed")  # the persistent session exists before the first publish
        publisher = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("publisher.py")), str(mosquitto.port), str(UPLINKS),
             str(DEVICES)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        kills = 0
        randomness = random.Random(5)
        deadline = time.monotonic() + 150
        # Kill while the stream is flowing: at least 4 times, and until the publisher is done.
        while (kills < 4 or publisher.poll() is None) and time.monotonic() < deadline:
            time.sleep(randomness.uniform(0.3, 1.5))
            bridge.kill()
            kills += 1
            bridge.start().wait_ready(mqtt="connected")
        output = publisher.communicate(timeout=120)[0]
        assert publisher.returncode == 0, output
        delivered_all = receiver.wait_for(UPLINKS, timeout_s=max(10.0, deadline - time.monotonic()))
        received = set(receiver.ids())
        expected = {dedup_id(index) + ":up" for index in range(UPLINKS)}
        missing = expected - received
        assert not missing, f"{len(missing)} lost after {kills} kills, e.g. {sorted(missing)[:3]}"
        assert delivered_all and received == expected
        assert kills >= 4
        # Redeliveries after a kill are absorbed by the outbox; the sink sees repeats only for batches that
        # were in flight when the bridge died.
        assert len(receiver.ids()) < UPLINKS * 1.2
    finally:
        if publisher is not None and publisher.poll() is None:
            publisher.kill()
            publisher.wait()
        bridge.kill()
        receiver.stop()
