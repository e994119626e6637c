"""End to end: `tingbro serve` with [control] enabled, as a process. A command posted to its API is
enqueued in the grpcio ChirpStack stand-in; ChirpStack's txack/ack events posted to its HTTP ingest
move the command to acked; the webhook sink receives the `command` events. Loopback only."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from chirpstack_api import integration
from chirpstack_fake import FakeChirpStack
from conftest import ROOT, free_port
from tingbro.chirpstack import ChirpStackClient
from tingbro.control.inventory import parse_row
from tingbro.control.provisioner import Provisioner

sys.path.insert(0, str(ROOT / "tests" / "bridge"))
from bridgehelp import BridgeProcess, Receiver, config_text, post  # noqa: E402
from chirp import chirpstack_json, device_info  # noqa: E402

CS_TOKEN = "cs-token-serve-91"
API_TOKEN = "api-token-serve-17"


def api_call(port: int, method: str, path: str, body: dict | None = None, token: str = API_TOKEN):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", "Bearer " + token)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_with_control(tmp_path: Path, monkeypatch):
    (tmp_path / "codecs").mkdir()
    (tmp_path / "codecs" / "streetlight.js").write_text("function decodeUplink(i) { return {data: {}}; }\n")
    monkeypatch.setenv("TB_CS_TOKEN", CS_TOKEN)
    monkeypatch.setenv("TB_API_TOKEN", API_TOKEN)
    with FakeChirpStack(token=CS_TOKEN) as cs:
        app_id = cs.add_application()
        with ChirpStackClient(cs.target, CS_TOKEN) as client:
            spec = parse_row({"name": "lamp-1", "device_type": "streetlight", "lat": "56.1", "lon": "10.2"}, "t")
            dev_eui = Provisioner(client, cs.tenant_id, app_id, tmp_path / "codecs").provision(spec, None)[0]["dev_eui"]
        receiver = Receiver().start()
        port = free_port()
        control = (f'[control]\nenabled = true\nchirpstack = "{cs.target}"\nchirpstack_token_env = "TB_CS_TOKEN"\n'
                   f'api_token_env = "TB_API_TOKEN"\napplication_id = "{app_id}"\n'
                   f'commands_db = "{tmp_path / "commands.sqlite3"}"\n')
        config = tmp_path / "bridge.toml"
        config.write_text(config_text(tmp_path / "outbox.sqlite3", port, receiver.url, extra=control))
        bridge = BridgeProcess(config, port, tmp_path / "bridge.log").start()
        try:
            bridge.wait_ready()
            assert api_call(port, "POST", "/api/commands", {"device": "lamp-1", "command": "level",
                                                            "fields": {"level_pct": 30}}, token="nope")[0] == 401
            status, error = api_call(port, "POST", "/api/commands", {"device": "lamp-1", "command": "level",
                                                                    "fields": {"level_pct": 300}})
            assert status == 400 and "level_pct: 300 outside 0..100" in error["error"]
            status, command = api_call(port, "POST", "/api/commands", {"device": "lamp-1", "command": "level",
                                                                      "fields": {"level_pct": 30}})
            assert status == 202, command
            (enqueue,) = cs.calls("DeviceService", "Enqueue")
            assert enqueue.queue_item.dev_eui == dev_eui and enqueue.queue_item.f_port == 20

            info = device_info(dev_eui, "streetlight")
            txack = integration.TxAckEvent(downlink_id=7, device_info=info, queue_item_id=command["queue_item_id"],
                                           f_cnt_down=1, gateway_id="0016c001f153a14c")
            txack.time.FromSeconds(int(time.time()))
            ack = integration.AckEvent(deduplication_id="5b5c7e3c-4401-4b8d-9386-a5c902f9202d", device_info=info,
                                       queue_item_id=command["queue_item_id"], acknowledged=True, f_cnt_down=1)
            ack.time.FromSeconds(int(time.time()))
            assert post(port, "txack", chirpstack_json(txack))[0] == 200
            assert post(port, "ack", chirpstack_json(ack))[0] == 200

            final = None
            for _ in range(200):  # bounded: 10 s
                final = api_call(port, "GET", f"/api/commands/{command['id']}")[1]
                if final["status"] == "acked":
                    break
                time.sleep(0.05)
            assert final["status"] == "acked", final
            assert receiver.wait_for(4, 10)  # txack, ack, and the two command events
            statuses = [e["detail"]["status"] for e in receiver.events if e["type"] == "command"]
            assert statuses == ["sent", "acked"]
            log_text = (tmp_path / "bridge.log").read_text()
            assert CS_TOKEN not in log_text and API_TOKEN not in log_text
        finally:
            assert bridge.terminate() == 0
            receiver.stop()
