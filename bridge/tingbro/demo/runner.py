"""`tingbro demo`: the whole chain on one machine, on loopback, for two minutes.

provision (the real `tingbro provision`, against devnet's gRPC) -> devnet (GWMP, OTAA, ChirpStack events)
-> the bridge (`tingbro serve`: SQLite outbox, webhook sink, command API) -> a local webhook receiver;
the fleet runs the real firmware under MicroPython (`tingsim`). Every process started here is stopped
in `close()`, which runs on normal end, Ctrl-C and errors alike.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

import tingcodec

from tingbro.demo.summary import render, summarize
from tingbro.demo.webhook import WebhookReceiver
from tingbro.devnet.server import Devnet
from tingbro.simulate.fleet import CODECS_DIR, FIRMWARE_DIR, Fleet, read_device_list

BRIDGE_DIR = Path(__file__).resolve().parent.parent.parent
# Devices' battery and link margin (DevStatusReq -> `status` events) every 30 s of wall time: a profile's
# "once a day" would never come in a two-minute demo.
DEV_STATUS_INTERVAL_S = 30.0
CHIRPSTACK_CODECS = Path(tingcodec.__file__).resolve().parent.parent / "chirpstack"
# (at this fraction of the run, device, command, fields)
COMMAND_PLAN = ((0.3, "lamp-0001", "level", {"level_pct": 30, "fade_ms": 2000}),
                (0.45, "lamp-0002", "level", {"level_pct": 100, "duration_s": 3600}),
                (0.6, "lamp-0003", "presence-dimming", {"low_level_pct": 20, "high_level_pct": 90, "hold_s": 60}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def inventory_csv(bins: int, buoys: int, lights: int) -> str:
    rows = ["name,device_type,lat,lon,municipality,bin_height_mm,bin_empty_distance_mm,bin_full_distance_mm,group,board"]
    for i in range(bins):
        rows.append(f"bin-{i + 1:04d},fill_level,{56.15 + i * 0.001:.4f},10.2100,aarhus,1100,1050,150,,")
    for i in range(buoys):
        rows.append(f"buoy-{i + 1:04d},lifebuoy,{56.14 + i * 0.001:.4f},10.2200,aarhus,,,,,")
    for i in range(lights):
        rows.append(f"lamp-{i + 1:04d},streetlight,{56.16 + i * 0.0005:.4f},10.2000,aarhus,,,,vestergade,")
    return "\n".join(rows) + "\n"


class Demo:
    def __init__(self, work_dir: Path, bins: int = 20, buoys: int = 5, lights: int = 5, time_scale: float = 2000,
                 out: TextIO = sys.stdout, mqtt_port: int | None = None,
                 scenarios: dict[str, dict[str, Any]] | None = None) -> None:
        self.work_dir = work_dir
        self.counts = (bins, buoys, lights)
        self.time_scale = time_scale
        self.out = out
        self.tokens = {name: secrets.token_hex(16) for name in ("api", "ingest", "webhook", "control")}
        self.devnet: Devnet | None = None
        self.receiver: WebhookReceiver | None = None
        self.bridge: subprocess.Popen[bytes] | None = None
        self.fleet: Fleet | None = None
        self.bridge_port = 0
        self.fleet_started_unix_s = 0.0
        self.commands: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.mqtt_port = mqtt_port  # events over MQTT (QoS 1, a broker on loopback) instead of HTTP
        self.scenarios = scenarios

    # -- set-up ---------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def env(self) -> dict[str, str]:
        path = os.pathsep.join([str(BRIDGE_DIR), str(CODECS_DIR), str(FIRMWARE_DIR)])
        return dict(os.environ, PYTHONPATH=path, CHIRPSTACK_API_TOKEN=self.tokens["api"],
                    TINGBRO_INGEST_TOKEN="Bearer " + self.tokens["ingest"],
                    TINGBRO_WEBHOOK_TOKEN=self.tokens["webhook"], TINGBRO_CONTROL_TOKEN=self.tokens["control"])

    def setup(self) -> None:
        if self.work_dir.exists():
            shutil.rmtree(self.work_dir)
        self.work_dir.mkdir(parents=True)
        self.bridge_port = free_port()
        self.receiver = WebhookReceiver(self.tokens["webhook"])
        if self.mqtt_port:
            self.devnet = Devnet(self.tokens["api"], mqtt_host="127.0.0.1", mqtt_port=self.mqtt_port,
                                 dev_status_interval_s=DEV_STATUS_INTERVAL_S)
        else:
            self.devnet = Devnet(self.tokens["api"], http_url=f"http://127.0.0.1:{self.bridge_port}/chirpstack",
                                 http_headers={"Authorization": "Bearer " + self.tokens["ingest"]},
                                 dev_status_interval_s=DEV_STATUS_INTERVAL_S)
        self.say(f"devnet (development stand-in for ChirpStack): GWMP 127.0.0.1:{self.devnet.udp_port}, "
                 f"gRPC 127.0.0.1:{self.devnet.grpc_port}")
        self.provision()
        self.start_bridge()

    def provision(self) -> None:
        assert self.devnet is not None
        inventory = self.work_dir / "inventory.csv"
        inventory.write_text(inventory_csv(*self.counts))
        info = self.devnet.info()
        command = [sys.executable, "-m", "tingbro", "provision", "--csv", str(inventory),
                   "--devices", str(self.work_dir / "devices.jsonl"),
                   "--configs-dir", str(self.work_dir / "firmware-configs"),
                   "--labels-dir", str(self.work_dir / "labels"), "--codecs-dir", str(CHIRPSTACK_CODECS),
                   "--server", f"127.0.0.1:{info['grpc_port']}", "--application-id", info["application_id"],
                   "--tenant-id", info["tenant_id"]]
        with open(self.work_dir / "provision.log", "wb") as log:
            result = subprocess.run(command, env=self.env(), stdout=log, stderr=subprocess.STDOUT, timeout=120,
                                    check=False)
        if result.returncode != 0:
            raise RuntimeError(f"provisioning failed (exit {result.returncode}); see {self.work_dir}/provision.log")
        self.say(f"provisioned {sum(self.counts)} devices through devnet's gRPC API "
                 f"({self.counts[0]} bins, {self.counts[1]} lifebuoys, {self.counts[2]} streetlights)")

    def bridge_config(self) -> str:
        assert self.devnet is not None and self.receiver is not None
        return f"""[storage]
path = "outbox.sqlite3"
[server]
host = "127.0.0.1"
port = {self.bridge_port}
[ingest.http]
enabled = true
path = "/chirpstack"
token_header = "Authorization"
token_env = "TINGBRO_INGEST_TOKEN"
{self.mqtt_table()}[decode]
device_type_tag = "tingbro_device_type"
[delivery]
retry_initial_s = 0.2
retry_max_s = 2
[log]
level = "warning"
[[sinks]]
name = "municipality"
kind = "webhook"
url = "{self.receiver.url}"
token_env = "TINGBRO_WEBHOOK_TOKEN"
max_batch = 100
[control]
enabled = true
chirpstack = "127.0.0.1:{self.devnet.grpc_port}"
chirpstack_token_env = "CHIRPSTACK_API_TOKEN"
application_id = "{self.devnet.registry.application.id}"
api_token_env = "TINGBRO_CONTROL_TOKEN"
commands_db = "commands.sqlite3"
watchdog_interval_s = 5
"""

    def mqtt_table(self) -> str:
        if not self.mqtt_port:
            return ""
        return (f'[ingest.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {self.mqtt_port}\n'
                'client_id = "tingbro-demo"\nprotocol = 5\nsession_expiry_s = 3600\n')

    def start_bridge(self) -> None:
        config = self.work_dir / "bridge.toml"
        config.write_text(self.bridge_config())
        with open(self.work_dir / "bridge.log", "ab") as log:
            self.bridge = subprocess.Popen([sys.executable, "-m", "tingbro", "serve", "--config", str(config)],
                                           env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.bridge.poll() is not None:
                raise RuntimeError(f"the bridge stopped at start; see {self.work_dir}/bridge.log")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.bridge_port}/healthz", timeout=1):
                    self.say(f"bridge: http://127.0.0.1:{self.bridge_port} (SQLite outbox, webhook sink, command API)")
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError("the bridge did not answer /healthz within 30 s")

    def start_fleet(self) -> None:
        entries = read_device_list(self.work_dir / "devices.jsonl")
        assert self.devnet is not None
        self.fleet = Fleet(entries, ("127.0.0.1", self.devnet.udp_port), self.work_dir, self.time_scale,
                           self.scenarios)
        self.fleet_started_unix_s = time.time()
        self.fleet.start()
        self.say(f"fleet: {len(entries)} devices running the real firmware under MicroPython "
                 f"(sleeps x{self.time_scale:g}, receive windows in real time)")

    # -- commands -------------------------------------------------------------------------------
    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.bridge_port}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": "Bearer " + self.tokens["control"],
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            return {"status": f"refused ({exc.code})", "error": exc.read().decode(errors="replace")[:200]}
        except (urllib.error.URLError, OSError) as exc:
            return {"status": f"bridge unreachable ({type(exc).__name__})"}

    def send_command(self, device: str, command: str, fields: dict[str, Any]) -> None:
        record = self.api("POST", "/api/commands", {"device": device, "command": command, "fields": fields})
        record["label"] = f"{device} {command} {json.dumps(fields, separators=(',', ':'))}"
        self.commands.append(record)
        self.say(f"  -> sent {record['label']}: {record.get('status')}")

    def refresh_commands(self) -> None:
        for record in self.commands:
            if record.get("id"):
                fresh = self.api("GET", f"/api/commands/{record['id']}")
                if "id" in fresh:
                    record.update(fresh)

    # -- run ------------------------------------------------------------------------------------
    def run(self, duration_s: float, forever: bool = False, report_every_s: float = 10.0) -> dict[str, Any]:
        self.setup()
        self.start_fleet()
        self.started = time.monotonic()
        plan = list(COMMAND_PLAN)
        last_report = 0.0
        while forever or time.monotonic() - self.started < duration_s:
            time.sleep(0.5)
            elapsed = time.monotonic() - self.started
            while plan and not forever and elapsed >= plan[0][0] * duration_s or plan and forever and elapsed >= 30:
                _, device, command, fields = plan.pop(0)
                if device.split("-")[0] == "lamp" and int(device.split("-")[1]) <= self.counts[2]:
                    self.send_command(device, command, fields)
            if elapsed - last_report >= report_every_s:
                last_report = elapsed
                self.refresh_commands()
                assert self.receiver is not None
                self.say(render(summarize(self.receiver.snapshot()), self.commands, elapsed))
            if self.bridge is not None and self.bridge.poll() is not None:
                raise RuntimeError(f"the bridge stopped; see {self.work_dir}/bridge.log")
        return self.finish()

    def finish(self) -> dict[str, Any]:
        assert self.receiver is not None and self.devnet is not None and self.fleet is not None
        self.fleet.stop()
        time.sleep(1.5)  # let the last events through devnet -> bridge -> webhook
        self.refresh_commands()
        summary = summarize(self.receiver.snapshot())
        stats = self.devnet.stats()
        uplinks = sum(1 for e in self.receiver.snapshot() if e.get("type") == "uplink")
        result = {"elapsed_s": round(time.monotonic() - self.started, 1), "devnet": stats,
                  "uplinks_at_network": stats["uplinks"], "uplinks_at_webhook": uplinks,
                  "joins": stats["joins"], "summary": summary,
                  "commands": [{k: c.get(k) for k in ("label", "id", "status")} for c in self.commands]}
        (self.work_dir / "report.json").write_text(json.dumps(result, indent=2))
        (self.work_dir / "report.md").write_text(self.report_markdown(result))
        self.say(render(summary, self.commands, result["elapsed_s"]))
        self.say(f"uplinks: {stats['uplinks']} accepted by devnet, {uplinks} delivered to the webhook; "
                 f"joins {stats['joins']}")
        return result

    def report_markdown(self, result: dict[str, Any]) -> str:
        summary = result["summary"]
        lines = ["# Tingbro demo report", "",
                 f"- ran {result['elapsed_s']} s, sleeps x{self.time_scale:g}; devices: "
                 f"{self.counts[0]} bins, {self.counts[1]} lifebuoys, {self.counts[2]} streetlights",
                 f"- joins {result['joins']}; uplinks accepted by devnet {result['uplinks_at_network']}, "
                 f"delivered to the webhook {result['uplinks_at_webhook']}",
                 f"- events at the webhook: {json.dumps(summary['events'], sort_keys=True)}",
                 f"- bins above 80 %: {', '.join(summary['bins_full']) or 'none'}",
                 f"- lifebuoys missing: {', '.join(summary['buoys_missing']) or 'none'}",
                 f"- alarms: {'; '.join(summary['alarms']) or 'none'}", "", "## Streetlights", ""]
        for name, light in summary["lights"].items():
            lines.append(f"- {name}: level {light['level_pct']} %, power {light['power_w']} W, "
                         f"energy {light['energy_wh']} Wh{', lamp failure' if light['lamp_failure'] else ''}")
        lines += ["", "## Commands", ""]
        lines += [f"- {c['label']}: {c['status']} (id {c['id']})" for c in result["commands"]]
        lines += ["", "## Files", "", "- `outbox.sqlite3`: the bridge's SQLite store (events, deliveries)",
                  "- `commands.sqlite3`: command statuses", "- `devices.jsonl`: the device list (holds keys, 0600)",
                  "- `devices/<name>/device.log`: each device's firmware log", "- `bridge.log`, `provision.log`"]
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        """Stop everything started here; safe to call more than once and after a failed start."""
        if self.fleet is not None:
            self.fleet.stop()
        if self.bridge is not None and self.bridge.poll() is None:
            self.bridge.terminate()
            try:
                self.bridge.wait(10)
            except subprocess.TimeoutExpired:
                self.bridge.kill()
                self.bridge.wait(5)
        if self.devnet is not None:
            self.devnet.close()
            self.devnet = None
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None
