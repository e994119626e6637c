"""`tingbro simulate`: run a fleet of simulated devices (the real firmware under MicroPython) at a gateway port.

Each line of --devices is one device as JSON (the device list `tingbro provision` writes): dev_eui,
join_eui, app_key, device, config (its config file; keys and board may be left out) and optionally
name and scenario (overrides of firmware/tingsim/scenarios.py). Every device runs in its own
`micropython` process (tingsim.run, through tingbro.simulate.fleet) with its own virtual gateway
speaking the Semtech UDP protocol to --gateway HOST:PORT: a ChirpStack Gateway Bridge, ChirpStack's
UDP backend, devnet, or a test stand-in. Device sleeps run --time-scale times faster; receive windows
stay in real time, so any network server on the wall clock can answer them.
Output: one line per device event, starting with the device's name. Keys are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tingbro.cli import UsageError
from tingbro.simulate.fleet import (
    FIRMWARE_DIR,
    KEYS,
    SAFE_NAME,
    Fleet,
    firmware_config,
    micropython_executable,
)

# A Class C device polls every 50 ms of its time and each poll takes >= 1 ms of wall time: it runs at
# most ~50x whatever the time scale. The wall-time bound below allows for that, and for a loaded machine.
CLASS_C_MAX_SCALE = 20.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("simulate", help="run simulated devices (real firmware, virtual radio)")
    parser.add_argument("--devices", required=True, type=Path, help="JSON lines: one device per line")
    parser.add_argument("--gateway", required=True, help="HOST:PORT of the Semtech UDP (GWMP) server")
    parser.add_argument("--time-scale", type=float, default=600.0,
                        help="device sleeps run this much faster than wall time (default 600); receive windows "
                             "stay in real time")
    parser.add_argument("--duration", type=float, default=86400.0, help="simulated seconds per device (default 1 day)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="keep each device's session, clock and log here (default: a temporary folder, "
                             "fresh joins)")
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
        config = device.get("config") or {}
        if not isinstance(config, dict):
            raise UsageError(f"{path} line {number}: config must be a JSON object")
        missing = [key for key in KEYS if key not in device and key not in config]
        if missing:
            raise UsageError(f"{path} line {number}: missing {', '.join(missing)}")
        name = device.get("name")
        if name is not None and not (isinstance(name, str) and SAFE_NAME.fullmatch(name)):
            raise UsageError(f"{path} line {number}: name must be letters, digits, '.', '_' or '-' (at most 64)")
        if device.get("scenario") is not None and not isinstance(device["scenario"], dict):
            raise UsageError(f"{path} line {number}: scenario must be a JSON object")
        _check_config(path, number, device)
        devices.append(device)
    if not devices:
        raise UsageError(f"{path}: no devices")
    return devices


def _check_config(path: Path, number: int, device: dict) -> None:
    """Validate with the firmware's own validator and scenarios, so a bad line fails here, not in a process."""
    if str(FIRMWARE_DIR) not in sys.path:
        sys.path.insert(0, str(FIRMWARE_DIR))
    from tingfw import boards, config
    from tingsim import scenarios

    try:
        validated = config.validate(firmware_config(device), boards.board_names())
        scenarios.settings_for(validated["device"], device.get("scenario"))
    except config.ConfigError as exc:
        raise UsageError(f"{path} line {number}: {exc.message}") from None
    except ValueError as exc:
        raise UsageError(f"{path} line {number}: {exc}") from None


def _gateway(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError("--gateway must be HOST:PORT, e.g. 127.0.0.1:1700")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    gateway = _gateway(args.gateway)
    if args.time_scale < 1 or args.duration <= 0:
        raise UsageError("--time-scale must be >= 1 and --duration > 0")
    devices = read_devices(args.devices)
    try:
        micropython_executable()
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="tingbro-sim-") as scratch:
        fleet = Fleet(devices, gateway, args.state_dir or Path(scratch), sleep_scale=args.time_scale,
                      duration_s=args.duration, echo=True)
        print(f"simulating {len(devices)} device(s) against {args.gateway} for {args.duration:g} simulated s "
              f"(sleeps x{args.time_scale:g}, receive windows in real time)", flush=True)
        with fleet:
            fleet.start()
            # Bounded: a device ends by itself at --duration; a Class C device takes the longest.
            codes = fleet.wait(args.duration / min(args.time_scale, CLASS_C_MAX_SCALE) + 120)
        failures = 0
        for name, code in codes.items():
            if code:
                failures += 1
                print(f"{name} {'did not finish in time' if code is None else f'exited with code {code}'}",
                      flush=True)
    return 1 if failures else 0
