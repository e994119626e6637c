"""`tingbro serve` with the HTTP ingest and the real webhook sink, end to end on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import urllib.request
from pathlib import Path

import chirp
from bridgehelp import HMAC_SECRET, WEBHOOK_TOKEN, BridgeProcess, Receiver, cli_env, config_text, post
from conftest import free_port, run_cli


def start(tmp_path: Path, receiver: Receiver, **options: str) -> BridgeProcess:
    port = free_port()
    (tmp_path / "bridge.toml").write_text(config_text(tmp_path / "outbox.sqlite3", port, receiver.url, **options))
    bridge = BridgeProcess(tmp_path / "bridge.toml", port, tmp_path / "bridge.log").start()
    bridge.wait_ready()
    return bridge


def test_http_ingest_statuses_dedup_signature_metrics_and_shutdown(tmp_path: Path) -> None:
    receiver = Receiver().start()
    bridge = start(tmp_path, receiver)
    port = bridge.port
    try:
        up = chirp.uplink(message="alarm", f_cnt=5)
        assert post(port, "up", chirp.chirpstack_json(up))[0] == 200
        assert post(port, "up", chirp.chirpstack_json(up))[0] == 200  # ChirpStack resent it: absorbed
        assert post(port, "up", chirp.protobuf(up), content_type="application/octet-stream")[0] == 200
        assert post(port, "status", chirp.chirpstack_json(integration_status()))[0] == 200
        assert post(port, "log", chirp.DOCS_LOG_EXAMPLE)[0] == 200
        assert post(port, "up", b"x" * 70_000)[0] == 413
        assert post(port, "", b"{}")[0] == 400
        assert post(port, "integration", b"{}")[0] == 400
        assert post(port, "up", b"{not json")[0] == 400
        assert post(port, "up", b"{}", content_type="text/html")[0] == 415
        undecodable = chirp.uplink(payload=b"\x01\x02", f_port=10)
        status, body = post(port, "up", chirp.chirpstack_json(undecodable))
        assert status == 200 and json.loads(body) == {"events": 0, "dead_lettered": 1}
        assert receiver.wait_for(5, 10)
        ids = receiver.ids()
        assert sorted(ids) == sorted([up.deduplication_id + ":up", up.deduplication_id + ":alarm:fire",
                                      up.deduplication_id + ":alarm:fill_threshold", "st-1:status",
                                      next(i for i in ids if i.startswith("log:"))])
        headers = receiver.headers[0]
        assert headers["Authorization"] == "Bearer " + WEBHOOK_TOKEN
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        for line in ('tingbro_events_in_total{event="up",source="http"} 4', "tingbro_events_absorbed_total 6",
                     'tingbro_sink_events_out_total{sink="hook"} 5', 'tingbro_queue_depth{sink="hook"} 0',
                     'tingbro_ingest_rejected_total{source="http",status="413"} 1',
                     'tingbro_dead_lettered_total{sink="",stage="decode"} 1',
                     'tingbro_delivery_latency_seconds_count{sink="hook"} 5'):
            assert line in metrics, line
        assert bridge.health()["status"] == "ok"
    finally:
        assert bridge.terminate() == 0
        receiver.stop()
    letters = sqlite3.connect(tmp_path / "outbox.sqlite3").execute(
        "SELECT stage, event_name, reason, raw FROM dead_letters").fetchall()
    assert [(stage, name) for stage, name, _, _ in letters] == [("decode", "up")]
    assert "not decodable" in letters[0][2] and letters[0][3] == chirp.chirpstack_json(undecodable)


def integration_status():  # type: ignore[no-untyped-def]
    from chirpstack_api import integration

    status = integration.StatusEvent(deduplication_id="st-1", device_info=chirp.device_info("0102030405060708",
                                     "fill_level"), margin=9, battery_level=75.5)
    status.time.FromJsonString("2026-11-23T09:00:00Z")
    return status


def test_webhook_body_is_signed_with_hmac(tmp_path: Path) -> None:
    received: list[tuple[bytes, str]] = []
    receiver = Receiver().start()
    bridge = start(tmp_path, receiver)
    try:
        assert post(bridge.port, "up", chirp.chirpstack_json(chirp.uplink()))[0] == 200
        assert receiver.wait_for(1, 10)
    finally:
        bridge.terminate()
        receiver.stop()
    signature = receiver.headers[0]["X-Tingbro-Signature"]
    body = json.dumps({"batch_id": receiver.headers[0]["Idempotency-Key"], "events": receiver.events},
                      separators=(",", ":"), ensure_ascii=False).encode()
    assert signature == "sha256=" + hmac.new(HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert not received


def test_sigterm_finishes_in_flight_delivery_and_keeps_the_rest(tmp_path: Path) -> None:
    receiver = Receiver().start()
    bridge = start(tmp_path, receiver, sink_extra="max_batch = 1")
    try:
        for f_cnt in range(30):
            assert post(bridge.port, "up", chirp.chirpstack_json(chirp.uplink(f_cnt=f_cnt)))[0] == 200
    finally:
        assert bridge.terminate() == 0
    delivered = len(receiver.ids())
    db = sqlite3.connect(tmp_path / "outbox.sqlite3")
    cursor = db.execute("SELECT seq FROM cursors WHERE sink = 'hook'").fetchone()[0]
    assert cursor == delivered  # every delivered event is recorded; no batch half-done
    bridge.start().wait_ready()  # the remainder goes out after a restart
    try:
        assert receiver.wait_for(30, 10)
    finally:
        bridge.terminate()
        receiver.stop()


def test_check_config_and_replay_cli(tmp_path: Path) -> None:
    receiver = Receiver().start()
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(config_text(tmp_path / "outbox.sqlite3", port, receiver.url)
                      .replace("[ingest.http]", '[decode]\nfallback_device_type = "lifebuoy"\n\n[ingest.http]'))
    result = run_cli("check-config", "--config", str(config), env=cli_env())
    assert result.returncode == 0 and "config OK" in result.stdout and "hook (webhook)" in result.stdout
    bridge = BridgeProcess(config, port, tmp_path / "bridge.log").start()
    try:
        bridge.wait_ready()
        # An untagged fill-level alarm decoded as a lifebuoy heartbeat: a dead letter, fixed by the config.
        untagged = chirp.uplink(device_type=None, payload=bytes.fromhex("83090a188c"), f_port=11)
        assert json.loads(post(port, "up", chirp.chirpstack_json(untagged))[1])["dead_lettered"] == 1
        receiver.rejecting = lambda event: event["radio"]["f_cnt"] == 2  # a permanent sink failure
        assert post(port, "up", chirp.chirpstack_json(chirp.uplink(f_cnt=2, dedup_id="sink-fail")))[0] == 200
        deadline = time.monotonic() + 10
        while bridge.health() and count_letters(tmp_path) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count_letters(tmp_path) == 2
        receiver.rejecting = None
        config.write_text(config.read_text().replace('"lifebuoy"', '"fill_level"'))
        result = run_cli("replay", "--config", str(config), "--dead-letters", env=cli_env())
        assert result.returncode == 0, result.stderr
        assert "queued 4 events from dead letters; 0 still failing" in result.stdout
        assert receiver.wait_for(4, 10)
        key = untagged.deduplication_id
        assert {key + ":up", key + ":alarm:fire", key + ":alarm:fill_threshold", "sink-fail:up"} == set(receiver.ids())
        assert "queued 0 events" in run_cli("replay", "--config", str(config), "--dead-letters",
                                            env=cli_env()).stdout
        result = run_cli("replay", "--config", str(config), "--since", "2000-01-01T00:00:00", "--sink", "hook",
                         env=cli_env())
        # Everything received for all sinks: the original that failed and the three decoded by the replay.
        assert "queued 4 events for hook" in result.stdout
        deadline = time.monotonic() + 10
        while len(receiver.ids()) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(receiver.ids()) == sorted(receiver.ids()[:4] * 2)
    finally:
        bridge.terminate()
        receiver.stop()
    bad = run_cli("replay", "--config", str(config), "--since", "yesterday", env=cli_env())
    assert bad.returncode == 2 and "RFC 3339" in bad.stderr


def count_letters(tmp_path: Path) -> int:
    return sqlite3.connect(tmp_path / "outbox.sqlite3").execute("SELECT count(*) FROM dead_letters").fetchone()[0]
