"""The whole chain on loopback: the real firmware (MicroPython) -> virtual radio (GWMP) -> devnet ->
MQTT (a real mosquitto) -> the bridge (`tingbro serve`, SQLite outbox) -> a webhook; commands back
through the bridge's command API -> devnet's gRPC -> the device's receive window.

One fleet (a bin, two buoys, two streetlights in one multicast group) serves every test in order; each
test bounds its waits.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Mosquitto
from tingbro.demo.runner import Demo

REMOVED_AT_S = 400  # simulated second at which buoy-0001 is taken off its post
SCALE = 300


def wait_for(what: str, check: Callable[[], Any], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    work = tmp_path_factory.mktemp("e2e")
    broker = Mosquitto(work / "mqtt")
    (work / "mqtt").mkdir()
    broker.start()
    scenarios = {"buoy-0001": {"removed": [[REMOVED_AT_S, 10 ** 9]]}, "buoy-0002": {"removed": []},
                 "bin-0001": {"fill_start": 0.5, "fill_days": 10}}
    demo = Demo(work / "demo", bins=1, buoys=2, lights=2, time_scale=SCALE, mqtt_port=broker.port,
                scenarios=scenarios, out=open(work / "demo.out", "w"))  # noqa: SIM115 (closed with the demo)
    try:
        demo.setup()
        devices = demo.work_dir / "devices.jsonl"
        lines = [json.loads(line) for line in devices.read_text().splitlines()]
        for entry in lines:  # a technician's choice: buoys debounce 0.5 s instead of 2 s
            if entry["device"] == "lifebuoy":
                entry["config"]["thresholds"] = {"debounce_ms": 500}
        devices.write_text("".join(json.dumps(entry) + "\n" for entry in lines))
        demo.start_fleet()
        yield demo
    finally:
        demo.close()
        demo.out.close()
        broker.stop()


def events(demo: Demo, **match: Any) -> list[dict[str, Any]]:
    assert demo.receiver is not None
    found = []
    for event in demo.receiver.snapshot():
        if all((event["device"]["name"] if key == "name" else event.get(key)) == value
               for key, value in match.items()):
            found.append(event)
    return found


def test_join_then_status_decoded_at_the_sink(chain: Demo) -> None:
    wait_for("bin-0001's join at the webhook", lambda: events(chain, name="bin-0001", type="join"), 40)
    status = wait_for("a decoded status from bin-0001",
                      lambda: events(chain, name="bin-0001", type="uplink", message="status"), 30)[0]
    assert status["device"]["device_type"] == "fill_level"
    assert 150 <= status["fields"]["distance_mm"] <= 1050
    assert 0.0 <= status["derived"]["fill_ratio"] <= 1.0
    assert status["radio"]["f_port"] == 10


def test_devnet_decodes_object_with_the_profile_codec_and_reports_device_status(chain: Demo) -> None:
    assert chain.devnet is not None
    ups = wait_for("an up with object", lambda: [json.loads(body) for name, body in list(chain.devnet.publisher.history)
                                                 if name == "up" and b'"object"' in body], 30)
    assert ups[0]["object"]["message"] in ("device_info", "status", "alarm", "presence", "heartbeat", "meter")
    status = wait_for("a status event from a bin at the webhook",
                      lambda: events(chain, name="bin-0001", type="status"), 60)[0]
    assert status["detail"]["battery_level_pct"] > 90 and not status["detail"]["external_power_source"], status
    lamp = wait_for("a status event from a streetlight", lambda: events(chain, name="lamp-0001", type="status"), 60)
    assert lamp[0]["detail"]["external_power_source"] is True


def _tmst_us_of(demo: Demo, message_filter: Callable[[dict[str, Any]], bool]) -> list[int]:
    """tmst (the device's simulated µs at the end of the frame) of every matching `up` devnet emitted."""
    assert demo.devnet is not None
    found = []
    for name, body in list(demo.devnet.publisher.history):
        event = json.loads(body)
        if name == "up" and message_filter(event):
            found.append(int.from_bytes(__import__("base64").b64decode(event["rxInfo"][0]["context"]), "big"))
    return found


def test_buoy_removed_raises_an_alarm_within_two_simulated_seconds(chain: Demo) -> None:
    alarm = wait_for("lifebuoy_removed at the webhook",
                     lambda: events(chain, name="buoy-0001", type="alarm"), 60)[0]
    assert alarm["alarm"] == {"name": "lifebuoy_removed", "active": True}
    presence = [e for e in events(chain, name="buoy-0001", type="uplink", message="presence")
                if e["fields"]["present"] is False]
    assert presence, "the presence uplink itself reached the sink too"
    dev_eui = alarm["device"]["dev_eui"]
    sent_us = _tmst_us_of(chain, lambda e: e["deviceInfo"]["devEui"] == dev_eui and e["fPort"] == 10)
    first_after = min(t for t in sent_us if t >= REMOVED_AT_S * 1_000_000)
    assert first_after - REMOVED_AT_S * 1_000_000 <= 2_000_000, first_after
    assert not events(chain, name="buoy-0002", type="alarm"), "the buoy left alone raised nothing"


def test_set_level_command_is_applied_and_reported(chain: Demo) -> None:
    wait_for("lamp-0001 joined", lambda: events(chain, name="lamp-0001", type="join"), 40)
    wait_for("lamp-0001's first status", lambda: events(chain, name="lamp-0001", type="uplink", message="status"), 40)
    chain.send_command("lamp-0001", "level", {"level_pct": 37})
    record = chain.commands[-1]
    assert record.get("id"), record
    sent_at = time.monotonic()
    applied = wait_for("a status with level 37 %",
                       lambda: [e for e in events(chain, name="lamp-0001", type="uplink", message="status")
                                if e["fields"]["level_pct"] == 37], 60)
    assert applied[0]["fields"]["power_w"] > 0
    assert time.monotonic() - sent_at < 60

    def acked() -> bool:
        chain.refresh_commands()
        return record.get("status") == "acked"
    wait_for("the command acked (txack, then the device's ACK)", acked, 60)


def test_group_set_level_reaches_both_streetlights(chain: Demo) -> None:
    lamps = ("lamp-0001", "lamp-0002")
    for name in lamps:
        wait_for(f"{name}'s first status", lambda n=name: events(chain, name=n, type="uplink", message="status"), 60)
    record = chain.api("POST", "/api/commands", {"group": "vestergade", "device_type": "streetlight",
                                                 "command": "level", "fields": {"level_pct": 23}})
    assert record.get("multicast_group") == "vestergade", record
    for name in lamps:
        wait_for(f"a status with level 23 % from {name}",
                 lambda n=name: [e for e in events(chain, name=n, type="uplink", message="status")
                                 if e["fields"]["level_pct"] == 23], 60)
        log = (chain.work_dir / "devices" / name / "device.log").read_text()
        assert "multicast: group vestergade" in log and "group command on fport 20" in log, log[-2000:]


def test_device_reboot_reuses_no_fcnt_and_does_not_rejoin(chain: Demo) -> None:
    assert chain.fleet is not None
    before = events(chain, name="bin-0001", type="uplink")
    assert before
    chain.fleet.kill("bin-0001")
    chain.fleet.start(only=["bin-0001"])
    wait_for("two more uplinks from bin-0001 after the reset",
             lambda: len(events(chain, name="bin-0001", type="uplink")) >= len(before) + 2, 60)
    counters = [e["radio"]["f_cnt"] for e in events(chain, name="bin-0001", type="uplink")]
    assert counters == sorted(counters) and len(set(counters)) == len(counters), counters
    assert len(events(chain, name="bin-0001", type="join")) == 1
    log = (chain.work_dir / "devices" / "bin-0001" / "device.log").read_text()
    assert log.count("joining") == 1, log[-2000:]


def test_bridge_killed_mid_run_loses_nothing(chain: Demo) -> None:
    assert chain.bridge is not None and chain.devnet is not None and chain.fleet is not None
    chain.bridge.send_signal(signal.SIGKILL)
    chain.bridge.wait(10)
    accepted = chain.devnet.network.counts["uplinks"]
    wait_for("uplinks while the bridge is down", lambda: chain.devnet.network.counts["uplinks"] >= accepted + 3, 60)
    chain.start_bridge()
    time.sleep(3)
    chain.fleet.stop()
    up_ids = {json.loads(body)["deduplicationId"] for name, body in chain.devnet.publisher.history if name == "up"}

    def all_there() -> bool:
        delivered = {e["id"].split(":")[0] for e in events(chain, type="uplink")}
        return up_ids <= delivered
    wait_for("every uplink devnet accepted, at the webhook", all_there, 30)
    outbox = chain.work_dir / "outbox.sqlite3"
    assert outbox.exists() and Path(outbox).stat().st_size > 0
