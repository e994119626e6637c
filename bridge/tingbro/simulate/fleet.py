"""The simulated fleet behind `tingbro simulate`, `tingbro demo` and tests/e2e: one MicroPython process per
device (firmware/tingsim/run.py), each with its own virtual gateway (GWMP over UDP to HOST:PORT),
state directory and log file (`<work dir>/devices/<name>/device.log`; with `echo`, also relayed to
stdout, one line per event, prefixed with the device's name by the device itself).

One process per device because a device blocks in its receive windows (the radio README says so);
the processes are started in their own session and always stopped by `stop()`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import lorawan
import tingcodec

FIRMWARE_DIR = Path(lorawan.__file__).resolve().parent.parent
CODECS_DIR = Path(tingcodec.__file__).resolve().parent.parent
KEYS = ("dev_eui", "join_eui", "app_key", "device")
DEFAULT_BOARD = "heltec_wifi_lora32_v3"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def micropython_executable() -> str:
    found = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    if not found:
        raise FileNotFoundError("micropython (the unix port) not found: run `make setup`")
    return found


def read_device_list(path: Path) -> list[dict[str, Any]]:
    """The entries of a `tingbro provision` device list; ValueError naming the line when one is bad.

    dev_eui, join_eui, app_key and device may sit at the top of an entry or inside its config."""
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            config = entry.get("config") or {}
            if not isinstance(config, dict):
                raise TypeError("config")
            for key in KEYS:
                if not isinstance(config.get(key) or entry.get(key), str):
                    raise KeyError(key)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: not a device list entry (missing or bad {exc})") from None
        entries.append(entry)
    return entries


def firmware_config(entry: dict[str, Any]) -> dict[str, Any]:
    """The device's config file as the firmware reads it: the entry's config plus its keys and a board."""
    config = dict(entry.get("config") or {})
    for key in KEYS:
        if not config.get(key):
            config[key] = entry[key]
    config.setdefault("board", DEFAULT_BOARD)
    return config


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
                 sleep_scale: float = 1.0, scenarios: dict[str, dict[str, Any]] | None = None,
                 duration_s: float | None = None, echo: bool = False) -> None:
        """sleep_scale: device sleeps of 20 ms or more run this much faster (receive windows stay real);
        duration_s: each device stops after this much simulated time (None: when stopped)."""
        self.gateway = gateway
        self.work_dir = work_dir
        self.sleep_scale = sleep_scale
        self.duration_s = duration_s
        self.echo = echo
        self.echo_lock = threading.Lock()
        self.relays: list[threading.Thread] = []
        self.devices: list[SimDevice] = []
        per_type: dict[str, int] = {}
        for given in entries:
            config = given.get("config") or {}
            entry = dict(given, **{key: given.get(key) or config[key] for key in KEYS})
            device_type = entry["device"]
            index = per_type.get(device_type, 0)
            per_type[device_type] = index + 1
            name = str(entry.get("name") or entry["dev_eui"])
            overrides = (scenarios or {}).get(name) or entry.get("scenario") or {}
            self.devices.append(self._prepare(entry, index, overrides))

    def _prepare(self, entry: dict[str, Any], index: int, scenario: dict[str, Any]) -> SimDevice:
        name = str(entry.get("name") or entry["dev_eui"])
        if not SAFE_NAME.fullmatch(name):  # the name becomes a folder: no path tricks
            name = str(entry["dev_eui"]).lower()
        state_dir = self.work_dir / "devices" / name
        state_dir.mkdir(parents=True, exist_ok=True)
        config = firmware_config(entry)
        config.setdefault("name", name)
        dev_eui = str(config["dev_eui"]).lower()
        spec = {"config": config, "scenario": scenario, "gateway": list(self.gateway), "index": index,
                "gateway_eui": "0080" + dev_eui[4:], "sleep_scale": self.sleep_scale,
                "state_dir": str(state_dir / "flash"), "duration_s": self.duration_s}
        spec_path = state_dir / "spec.json"
        descriptor = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the AppKey
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(json.dumps(spec))
        return SimDevice(entry, index, spec_path, state_dir / "device.log")

    def start(self, only: list[str] | None = None) -> None:
        exe = micropython_executable()
        env = dict(os.environ, MICROPYPATH=f"{CODECS_DIR}:{FIRMWARE_DIR}")
        for device in self.devices:
            if only is not None and device.name not in only:
                continue
            if device.process is not None and device.process.poll() is None:
                continue
            command = [exe, "-m", "tingsim.run", str(device.spec_path)]
            if self.echo:
                device.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL, start_new_session=True)
                relay = threading.Thread(target=self._relay, args=(device, device.process), daemon=True)
                relay.start()
                self.relays.append(relay)
                continue
            with open(device.log_path, "ab") as log:
                device.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL, start_new_session=True)

    def _relay(self, device: SimDevice, process: subprocess.Popen[bytes]) -> None:
        """Copy a device's output to its log file and to stdout, whole lines at a time."""
        assert process.stdout is not None
        with open(device.log_path, "ab") as log:
            for line in process.stdout:
                log.write(line)
                with self.echo_lock:
                    sys.stdout.write(line.decode(errors="replace"))
                    sys.stdout.flush()

    def wait(self, timeout_s: float) -> dict[str, int | None]:
        """Wait for every device to end by itself (duration_s); -> exit code per name, None if still running."""
        deadline = time.monotonic() + timeout_s
        codes: dict[str, int | None] = {}
        for device in self.devices:
            if device.process is None:
                continue
            try:
                codes[device.name] = device.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                codes[device.name] = None
        for relay in self.relays:
            relay.join(timeout=5)
        return codes

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
