"""`tingbro simulate`: run a fleet of simulated devices (the real firmware under MicroPython) at a gateway port.

Each line of --devices is one device as JSON: dev_eui, join_eui, app_key, device, config (its config
file without the keys) and optionally name and scenario. Every device runs in its own `micropython`
process (tingfw.sim.run) with its own virtual gateway speaking the Semtech UDP protocol to
--gateway HOST:PORT: a ChirpStack Gateway Bridge, ChirpStack's UDP backend, or a test stand-in.
Output: one line per device event, prefixed with the device's name. Keys are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tingbro.cli import UsageError

ROOT = Path(__file__).resolve().parents[3]
REQUIRED = ("dev_eui", "join_eui", "app_key", "device")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("simulate", help="run simulated devices (real firmware, virtual radio)")
    parser.add_argument("--devices", required=True, type=Path, help="JSON lines: one device per line")
    parser.add_argument("--gateway", required=True, help="HOST:PORT of the Semtech UDP (GWMP) server")
    parser.add_argument("--time-scale", type=float, default=10.0,
                        help="awake time runs this much faster than wall time (default 10); deep sleep is skipped")
    parser.add_argument("--duration", type=float, default=86400.0, help="simulated seconds per device (default 1 day)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="keep each device's session here (default: a temporary folder, fresh joins)")
    parser.set_defaults(handler=run)


def read_devices(path: Path) -> list[dict]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    devices = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            device = json.loads(text)
        except ValueError:
            raise UsageError(f"{path} line {number}: not valid JSON") from None
        if not isinstance(device, dict):
            raise UsageError(f"{path} line {number}: expected a JSON object")
        missing = [key for key in REQUIRED if key not in device]
        if missing:
            raise UsageError(f"{path} line {number}: missing {', '.join(missing)}")
        _check_config(path, number, device)
        devices.append(device)
    if not devices:
        raise UsageError(f"{path}: no devices")
    return devices


def _check_config(path: Path, number: int, device: dict) -> None:
    """Validate with the firmware's own validator, so a bad line fails here and not inside a process."""
    sys.path.insert(0, str(ROOT / "firmware"))
    from tingfw import boards, config

    raw = dict(device.get("config") or {})
    raw.setdefault("board", "heltec_wifi_lora32_v3")
    for key in REQUIRED:
        raw[key] = device[key]
    try:
        config.validate(raw, boards.board_names())
    except config.ConfigError as exc:
        raise UsageError(f"{path} line {number}: {exc.message}") from None


def _gateway(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError("--gateway must be HOST:PORT, e.g. 127.0.0.1:1700")
    return text


def _micropython() -> str:
    found = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    if not found:
        raise UsageError("micropython not found: run `make setup`")
    return found


def run(args: argparse.Namespace) -> int:
    gateway = _gateway(args.gateway)
    if args.time_scale <= 0 or args.duration <= 0:
        raise UsageError("--time-scale and --duration must be > 0")
    devices = read_devices(args.devices)
    micropython = _micropython()
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(str(ROOT / p) for p in ("codecs", "firmware")))
    with tempfile.TemporaryDirectory(prefix="tingbro-sim-") as scratch:
        state_root = args.state_dir or Path(scratch)
        processes = []
        for index, device in enumerate(devices):
            name = device.get("name") or device["dev_eui"]
            state_dir = state_root / device["dev_eui"].lower()
            state_dir.mkdir(parents=True, exist_ok=True)
            device_file = Path(scratch) / f"device-{index}.json"
            device_file.write_text(json.dumps(device))
            process = subprocess.Popen(
                [micropython, "-X", "heapsize=1M", "-m", "tingfw.sim.run", "--server", gateway, "--device",
                 str(device_file), "--state-dir", str(state_dir), "--time-scale", str(args.time_scale),
                 "--duration", str(args.duration)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            processes.append((name, process))
        print(f"simulating {len(devices)} device(s) against {gateway} for {args.duration:g} s "
              f"(time scale {args.time_scale:g})", flush=True)
        lock = threading.Lock()
        readers = [threading.Thread(target=_relay, args=(name, process, lock), daemon=True)
                   for name, process in processes]
        for reader in readers:
            reader.start()
        # Bounded: a Class C device needs duration / time_scale of wall time; sleeping devices far less.
        deadline = time.monotonic() + args.duration / args.time_scale + 120
        failures = 0
        for name, process in processes:
            try:
                code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                code = -1
            if code:
                failures += 1
                with lock:
                    print(f"[{name}] exited with code {code}", flush=True)
        for reader in readers:
            reader.join(timeout=5)
    return 1 if failures else 0


def _relay(name: str, process: subprocess.Popen[str], lock: threading.Lock) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        with lock:
            print(f"[{name}] {line.rstrip()}", flush=True)
