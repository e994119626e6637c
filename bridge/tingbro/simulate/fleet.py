"""The demo's and e2e tests' simulated fleet (`tingbro simulate` is tingfw.sim, a separate runner): one MicroPython process per device (firmware/tingsim/run.py), each with its own
virtual gateway (GWMP over UDP to HOST:PORT on loopback), state directory and log file.

One process per device because a device blocks in its receive windows (the radio README says so);
the processes are started in their own process group and always stopped by `stop()`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import lorawan
import tingcodec

FIRMWARE_DIR = Path(lorawan.__file__).resolve().parent.parent
CODECS_DIR = Path(tingcodec.__file__).resolve().parent.parent


def micropython_executable() -> str:
    found = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    if not found:
        raise FileNotFoundError("micropython (the unix port) not found: run `make setup`")
    return found


def read_device_list(path: Path) -> list[dict[str, Any]]:
    """The entries of a `tingbro provision` device list; ValueError naming the line when one is bad."""
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            config = entry["config"]
            for key in ("dev_eui", "join_eui", "app_key", "device"):
                if not isinstance(config.get(key) or entry.get(key), str):
                    raise KeyError(key)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: not a device list entry (missing or bad {exc})") from None
        entries.append(entry)
    return entries


class SimDevice:
    def __init__(self, entry: dict[str, Any], index: int, spec_path: Path, log_path: Path) -> None:
        self.entry = entry
        self.index = index
        self.spec_path = spec_path
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return str(self.entry.get("name") or self.entry["dev_eui"])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Fleet:
    def __init__(self, entries: list[dict[str, Any]], gateway: tuple[str, int], work_dir: Path,
                 sleep_scale: float = 1.0, scenarios: dict[str, dict[str, Any]] | None = None) -> None:
        self.gateway = gateway
        self.work_dir = work_dir
        self.sleep_scale = sleep_scale
        self.devices: list[SimDevice] = []
        per_type: dict[str, int] = {}
        for entry in entries:
            device_type = entry.get("device") or entry["config"]["device"]
            index = per_type.get(device_type, 0)
            per_type[device_type] = index + 1
            name = str(entry.get("name") or entry["dev_eui"])
            overrides = (scenarios or {}).get(name) or entry.get("scenario") or {}
            self.devices.append(self._prepare(entry, index, overrides))

    def _prepare(self, entry: dict[str, Any], index: int, scenario: dict[str, Any]) -> SimDevice:
        name = str(entry.get("name") or entry["dev_eui"])
        state_dir = self.work_dir / "devices" / name
        state_dir.mkdir(parents=True, exist_ok=True)
        config = dict(entry["config"])
        config.setdefault("name", name)
        spec = {"config": config, "scenario": scenario, "gateway": list(self.gateway), "index": index,
                "gateway_eui": "0080" + str(entry["dev_eui"]).lower()[4:], "sleep_scale": self.sleep_scale,
                "state_dir": str(state_dir / "flash")}
        spec_path = state_dir / "spec.json"
        spec_path.write_text(json.dumps(spec))
        os.chmod(spec_path, 0o600)  # holds the AppKey
        return SimDevice(entry, index, spec_path, state_dir / "device.log")

    def start(self, only: list[str] | None = None) -> None:
        exe = micropython_executable()
        env = dict(os.environ, MICROPYPATH=f"{CODECS_DIR}:{FIRMWARE_DIR}")
        for device in self.devices:
            if only is not None and device.name not in only:
                continue
            if device.process is not None and device.process.poll() is None:
                continue
            with open(device.log_path, "ab") as log:
                device.process = subprocess.Popen([exe, "-m", "tingsim.run", str(device.spec_path)], env=env,
                                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                  start_new_session=True)

    def kill(self, name: str) -> None:
        """Stop one device abruptly (a reset or power cut); its flash and RTC files stay."""
        for device in self.devices:
            if device.name == name and device.process is not None:
                device.process.kill()
                device.process.wait(5)

    def running(self) -> int:
        return sum(1 for d in self.devices if d.process is not None and d.process.poll() is None)

    def stop(self, timeout_s: float = 3.0) -> None:
        for device in self.devices:
            if device.process is not None and device.process.poll() is None:
                device.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for device in self.devices:
            if device.process is None:
                continue
            try:
                device.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                device.process.kill()
                device.process.wait(5)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
