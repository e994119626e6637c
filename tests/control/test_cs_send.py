"""`tingbro send` against the real grpcio ChirpStack stand-in: validation first, enqueue, multicast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tingbro.control.command_store as command_store
from chirpstack_api import api
from chirpstack_fake import FakeChirpStack
from conftest import ROOT, run_cli
from tingbro.chirpstack import ChirpStackClient
from tingbro.cli import main
from tingbro.control.command_service import CommandService

TOKEN = "send-token-77"
CSV = """name,device_type,lat,lon,municipality,bin_height_mm,bin_empty_distance_mm,bin_full_distance_mm,group
bin-0001,fill_level,56.1572,10.2107,aarhus,1100,,,
lamp-0001,streetlight,56.1600,10.2000,aarhus,,,,vestergade
lamp-0002,streetlight,56.1601,10.2001,aarhus,,,,vestergade
lamp-0003,streetlight,56.1700,10.2100,aarhus,,,,
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch, capsys):
    """A fake ChirpStack with three provisioned devices (two in a multicast group)."""
    codecs = tmp_path / "codecs"
    codecs.mkdir()
    for device_type in ("fill_level", "lifebuoy", "streetlight"):
        (codecs / f"{device_type}.js").write_text("function decodeUplink(i) { return {data: {}}; }\n")
    (tmp_path / "inv.csv").write_text(CSV)
    with FakeChirpStack(token=TOKEN) as cs:
        cs.app_id = cs.add_application()
        # In-process (faster than a subprocess); `tingbro send` itself runs as a real subprocess below.
        monkeypatch.setenv("CHIRPSTACK_API_TOKEN", TOKEN)
        status = main(["provision", "--server", cs.target, "--tenant-id", cs.tenant_id,
                       "--application-id", cs.app_id, "--csv", str(tmp_path / "inv.csv"),
                       "--devices", str(tmp_path / "devices.jsonl"), "--configs-dir", str(tmp_path / "cfg"),
                       "--labels-dir", str(tmp_path / "labels"), "--codecs-dir", str(codecs)])
        assert status == 0, capsys.readouterr().err
        cs.requests.clear()
        cs.tmp = tmp_path
        yield cs


def send(cs: FakeChirpStack, *args: str, token: str = TOKEN):
    return run_cli("send", "--server", cs.target, "--application-id", cs.app_id, "--devices",
                   str(cs.tmp / "devices.jsonl"), "--db", str(cs.tmp / "commands.sqlite"), *args,
                   env={"CHIRPSTACK_API_TOKEN": token}, timeout=60)


def records(cs: FakeChirpStack) -> dict[str, dict]:
    lines = (cs.tmp / "devices.jsonl").read_text().splitlines()
    return {r["name"]: r for r in map(json.loads, lines)}


def test_multicast_group_created_once_with_members_and_session_in_the_device_list(site):
    (group,) = site.multicast_groups.values()
    assert group.name == "vestergade" and group.application_id == site.app_id
    assert group.group_type == api.MulticastGroupType.CLASS_C
    assert group.frequency == 869525000 and group.dr == 0
    assert len(group.mc_addr) == 8 and len(group.mc_nwk_s_key) == 32 and len(group.mc_app_s_key) == 32
    devices = records(site)
    members = {devices["lamp-0001"]["dev_eui"], devices["lamp-0002"]["dev_eui"]}
    assert site.multicast_members[group.id] == members
    session = devices["lamp-0001"]["multicast"]
    assert session == devices["lamp-0002"]["multicast"]
    assert session == {"group": "vestergade", "mc_addr": group.mc_addr, "mc_nwk_s_key": group.mc_nwk_s_key,
                       "mc_app_s_key": group.mc_app_s_key, "frequency_hz": 869525000, "dr": 0}
    assert "multicast" not in devices["lamp-0003"]

    # A re-run keeps the group, its keys and its members (ChirpStack refuses a second AddDevice).
    before = records(site)
    assert main(["provision", "--server", site.target, "--tenant-id", site.tenant_id, "--application-id",
                 site.app_id, "--csv", str(site.tmp / "inv.csv"), "--devices", str(site.tmp / "devices.jsonl"),
                 "--configs-dir", str(site.tmp / "cfg"), "--labels-dir", str(site.tmp / "labels"),
                 "--codecs-dir", str(site.tmp / "codecs")]) == 0
    assert records(site) == before and len(site.multicast_groups) == 1
    assert site.multicast_members[group.id] == members


def test_send_level_by_name_enqueues_the_catalogue_encoding(site):
    result = send(site, "--name", "lamp-0001", "level", "level_pct=40", "fade_ms=2000")
    assert result.returncode == 0, result.stderr
    command = json.loads(result.stdout)
    (request,) = site.calls("DeviceService", "Enqueue")
    item = request.queue_item
    import tingcodec

    f_port, payload = tingcodec.encode("streetlight", "set_level", {"level_pct": 40, "fade_ms": 2000})
    assert item.dev_eui == records(site)["lamp-0001"]["dev_eui"]
    assert item.f_port == f_port == command["f_port"]
    assert item.data == payload
    assert item.confirmed is True
    assert request.flush_queue is False
    assert command["status"] == "queued" and command["attempts"] == 1
    assert command["queue_item_id"] == site.queues[item.dev_eui][0].id
    stored = command_store.CommandStore(site.tmp / "commands.sqlite").get(command["id"])
    assert stored["status"] == "queued" and stored["queue_item_id"] == command["queue_item_id"]
    status = send(site, "--status", command["id"])
    assert status.returncode == 0 and json.loads(status.stdout)["status"] == "queued"


@pytest.mark.parametrize(("args", "message"), [
    (("--name", "lamp-0001", "level", "level_pct=140"), "level_pct: 140 outside 0..100 %"),
    (("--name", "lamp-0001", "level"), "missing field level_pct"),
    (("--name", "bin-0001", "interval", "report_interval_s=30"), "report_interval_s: 30 outside 60..86400 s"),
    (("--name", "bin-0001", "level", "level_pct=10"), "fill_level has no command 'level'"),
    (("--name", "lamp-0001", "schedule", 'points=[{"level_pct": 50, "time_min": 2000, "anchor": "clock", '
      '"days_mask": 127}]'), "time_min must be an integer in -720..1439"),
])
def test_invalid_commands_are_refused_before_sending(site, args, message):
    result = send(site, *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert site.requests == []


def test_schedule_presence_dimming_default_level_and_intervals(site):
    lamp = ("--name", "lamp-0003")
    ok = [
        send(site, *lamp, "schedule", 'points=[{"level_pct": 30, "time_min": -30, "anchor": "sunset", '
             '"days_mask": 127}, {"level_pct": 0, "time_min": 0, "anchor": "sunrise", "days_mask": 127}]'),
        send(site, *lamp, "presence-dimming", "low_level_pct=20", "high_level_pct=100", "hold_s=120"),
        send(site, *lamp, "default-level", "default_level_pct=80", "failsafe_level_pct=100",
             "failsafe_after_s=86400"),
        send(site, "--name", "bin-0001", "thresholds", "fire_temperature_c=65", "fire_rise_c_per_min=8",
             "fill_distance_mm=200", "tilt_deg=40"),
        send(site, "--name", "bin-0001", "interval", "report_interval_s=1800", "--unconfirmed"),
    ]
    assert [r.returncode for r in ok] == [0] * 5, [r.stderr for r in ok]
    messages = [json.loads(r.stdout)["message"] for r in ok]
    assert messages == ["set_schedule", "set_presence_dimming", "set_default_level", "set_alarm_thresholds",
                        "set_report_interval"]
    items = [r.queue_item for r in site.calls("DeviceService", "Enqueue")]
    assert [i.f_port for i in items] == [22, 23, 21, 21, 20]
    assert [i.confirmed for i in items] == [True, True, True, True, False]


def test_group_command_uses_multicast_enqueue(site):
    result = send(site, "--group", "vestergade", "--type", "streetlight", "level", "level_pct=25")
    assert result.returncode == 0, result.stderr
    (request,) = site.calls("MulticastGroupService", "Enqueue")
    (group,) = site.multicast_groups.values()
    import tingcodec

    f_port, payload = tingcodec.encode("streetlight", "set_level", {"level_pct": 25})
    assert request.queue_item.multicast_group_id == group.id
    assert request.queue_item.f_port == f_port and request.queue_item.data == payload
    assert site.calls("DeviceService", "Enqueue") == []
    command = json.loads(result.stdout)
    assert command["multicast_group"] == "vestergade" and command["confirmed"] is False
    assert command["status"] == "queued"


def test_unknown_group_is_a_clear_error(site):
    result = send(site, "--group", "nowhere", "--type", "streetlight", "level", "level_pct=25")
    assert result.returncode == 2 and "multicast group 'nowhere' not found" in result.stderr


def test_send_with_a_bad_token_fails_cleanly_and_records_the_failure(site):
    result = send(site, "--name", "lamp-0001", "level", "level_pct=40", token="bad-" + TOKEN)
    assert result.returncode == 2
    assert "API token" in result.stderr and TOKEN not in result.stderr


def test_name_not_in_the_device_list_is_found_in_chirpstack(site):
    (site.tmp / "devices.jsonl").unlink()
    result = send(site, "--name", "bin-0001", "interval", "report_interval_s=7200")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["device_type"] == "fill_level"  # from the device's tag
    (request,) = site.calls("DeviceService", "Enqueue")
    assert request.queue_item.f_port == 20
    refused = send(site, "--name", "bin-0001", "interval", "report_interval_s=10")
    assert refused.returncode == 2 and "report_interval_s: 10 outside 60..86400" in refused.stderr
    assert len(site.calls("DeviceService", "Enqueue")) == 1
    missing = send(site, "--name", "nobody", "level", "level_pct=1")
    assert missing.returncode == 2 and "device 'nobody' not found" in missing.stderr


def test_send_wait_returns_when_the_bridge_marks_it_acked(site):
    """`--wait`: the CLI polls the shared store; here this test plays the bridge's part."""


    env = {"CHIRPSTACK_API_TOKEN": TOKEN, "PYTHONPATH": ":".join(str(ROOT / p) for p in ("bridge", "codecs", "firmware"))}

    process = subprocess.Popen([sys.executable, "-m", "tingbro", "send", "--server", site.target, "--devices",
                                str(site.tmp / "devices.jsonl"), "--db", str(site.tmp / "commands.sqlite"),
                                "--name", "lamp-0001", "--wait", "20", "level", "level_pct=55"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env},
                               cwd=ROOT)
    try:
        for _ in range(200):  # bounded: until the CLI has enqueued
            if site.calls("DeviceService", "Enqueue"):
                break
            time.sleep(0.05)
        dev_eui = records(site)["lamp-0001"]["dev_eui"]
        for _ in range(100):  # the enqueue answer may still be on its way
            if site.queues.get(dev_eui):
                break
            time.sleep(0.05)
        queue_item_id = site.queues[dev_eui][0].id
        store = command_store.CommandStore(site.tmp / "commands.sqlite")
        with ChirpStackClient(site.target, TOKEN) as client:
            bridge = CommandService(client, store)
            for _ in range(100):
                if bridge.handle_event({"type": "txack", "detail": {"queue_item_id": queue_item_id}}):
                    break
                time.sleep(0.05)
            bridge.handle_event({"type": "ack", "detail": {"queue_item_id": queue_item_id, "acknowledged": True}})
        store.close()
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert json.loads(stdout)["status"] == "acked"


def test_send_wait_times_out_with_a_clear_message(site):
    result = send(site, "--name", "lamp-0001", "--wait", "0.5", "level", "level_pct=55")
    assert result.returncode == 2
    assert "still queued after 0.5 s" in result.stderr
    assert json.loads(result.stdout)["status"] == "queued"
