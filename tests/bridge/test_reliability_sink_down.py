"""Acceptance: the webhook sink is down for 30 s -> everything arrives after it recovers, in order per device.

The outage length is `TINGBRO_TEST_SINK_DOWN_S` (default 30, the acceptance figure).
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

import chirp
import pytest
from bridgehelp import BridgeProcess, Receiver, config_text, post
from conftest import free_port

DOWN_S = float(os.environ.get("TINGBRO_TEST_SINK_DOWN_S", "30"))
DEVICES = 8
PER_DEVICE = 40


@pytest.mark.slow
def test_webhook_down_then_everything_arrives_in_order_per_device(tmp_path: Path) -> None:
    receiver = Receiver()  # not started: the sink is down from the first event on
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(config_text(tmp_path / "outbox.sqlite3", port, receiver.url, sink_extra="max_batch = 25"))
    bridge = BridgeProcess(config, port, tmp_path / "bridge.log").start()
    try:
        bridge.wait_ready()
        started = time.monotonic()
        total = DEVICES * PER_DEVICE
        for index in range(total):  # spread over the first half of the outage, devices interleaved
            device, f_cnt = index % DEVICES, index // DEVICES
            event = chirp.uplink(dev_eui=f"70b3d57ed0{device:06x}", f_cnt=f_cnt)
            status, _ = post(port, "up", chirp.chirpstack_json(event))
            assert status == 200
            time.sleep(max(0.0, started + (index + 1) * DOWN_S / 2 / total - time.monotonic()))
        assert not receiver.events
        assert bridge.health()["queue_depth"]["hook"] == total
        time.sleep(max(0.0, started + DOWN_S - time.monotonic()))
        receiver.start()
        recovered = time.monotonic()
        assert receiver.wait_for(total, timeout_s=30), f"only {len(set(receiver.ids()))} of {total} arrived"
        # Back-off is capped at retry_max_s (0.5 s here): recovery is noticed quickly.
        assert time.monotonic() - recovered < 10
        by_device: dict[str, list[int]] = {}
        for event in receiver.events:
            f_cnts = by_device.setdefault(event["device"]["dev_eui"], [])
            if event["radio"]["f_cnt"] not in f_cnts:
                f_cnts.append(event["radio"]["f_cnt"])
        assert len(by_device) == DEVICES
        for dev_eui, f_cnts in by_device.items():
            assert f_cnts == list(range(PER_DEVICE)), f"{dev_eui} out of order: {f_cnts}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        failed = [line for line in metrics.splitlines() if line.startswith("tingbro_sink_events_failed_total")]
        assert failed and float(failed[0].split()[-1]) > 0, "the outage should show as failed attempts"
        assert 'tingbro_queue_depth{sink="hook"} 0' in metrics
    finally:
        assert bridge.terminate() == 0
        receiver.stop()
