"""devnet's state on disk, so sessions survive a restart: `<state dir>/devnet-state.json` (0600: it holds
AppKeys and session keys).

Written whole and atomically (temp file + rename): at once after every join (a lost session would
strand a device that believes it is joined) and, for counters and gRPC changes, whenever a snapshot
differs from the last one written (`StateSaver`, every SAVE_EVERY_S and on close). A crash can lose
the counters of the last interval; on load every downlink counter is moved FCNT_DOWN_RESERVE ahead,
as the device's own MAC reserves frame counters, so no downlink counter is ever used twice.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from chirpstack_api import api
from google.protobuf import json_format
from lorawan import network

from tingbro.devnet.registry import Device, Registry, Session

FILE_NAME = "devnet-state.json"
VERSION = 1
SAVE_EVERY_S = 0.5
FCNT_DOWN_RESERVE = 16


def _message(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def snapshot(registry: Registry) -> dict[str, Any]:
    """Everything a restarted devnet needs, as JSON data (holds keys: never log it)."""
    with registry.lock:
        devices = []
        for device in registry.devices.values():
            entry: dict[str, Any] = {
                "dev_eui": device.dev_eui, "join_eui": device.join_eui,
                "app_key": device.app_key.hex() if device.app_key is not None else None,
                "name": device.name, "device_type": device.device_type, "tags": device.tags,
                "profile_id": device.profile_id, "class_c": device.class_c,
                "last_dev_nonce": device.last_dev_nonce, "join_nonce": device.join_nonce,
                "queue": [_message(item) for item in device.queue], "session": None}
            session = device.session
            if session is not None and session.raw_keys is not None:
                entry["session"] = {
                    "dev_addr": session.dev_addr, "nwk_s_key": session.raw_keys[0].hex(),
                    "app_s_key": session.raw_keys[1].hex(), "fcnt_up": session.fcnt_up,
                    "fcnt_down": session.fcnt_down, "gateway_eui": session.gateway_eui,
                    "pending_ack": list(session.pending_ack) if session.pending_ack else None,
                    "status_requested_s": session.status_requested_s}
            devices.append(entry)
        return {"version": VERSION, "next_dev_addr": registry.next_dev_addr,
                "profiles": [_message(p) for p in registry.profiles.values()],
                "multicast_groups": [_message(g) for g in registry.multicast_groups.values()],
                "multicast_members": {k: sorted(v) for k, v in registry.multicast_members.items()},
                "devices": devices}


def restore(registry: Registry, state: dict[str, Any], aes: Any) -> int:
    """Fill a fresh registry from a snapshot; -> how many sessions came back. ValueError if it is not one."""
    if not isinstance(state, dict) or state.get("version") != VERSION:
        raise ValueError("not a devnet state file of this version")
    try:
        with registry.lock:
            for data in state["profiles"]:
                profile = json_format.ParseDict(data, api.DeviceProfile())
                registry.profiles[profile.id] = profile
            for data in state["multicast_groups"]:
                group = json_format.ParseDict(data, api.MulticastGroup())
                registry.multicast_groups[group.id] = group
            for group_id, members in state["multicast_members"].items():
                registry.multicast_members[group_id] = set(members)
            sessions = 0
            for entry in state["devices"]:
                sessions += _restore_device(registry, entry, aes)
            registry.next_dev_addr = max(registry.next_dev_addr, int(state["next_dev_addr"]))
            return sessions
    except (KeyError, TypeError, ValueError, json_format.ParseError) as exc:
        raise ValueError(f"devnet state file is damaged ({type(exc).__name__})") from None


def _restore_device(registry: Registry, entry: dict[str, Any], aes: Any) -> int:
    app_key = bytes.fromhex(entry["app_key"]) if entry["app_key"] else None
    device = Device(entry["dev_eui"], entry["join_eui"], app_key, entry["name"], entry["device_type"],
                    entry["tags"], entry["profile_id"], bool(entry["class_c"]))
    device.last_dev_nonce = entry["last_dev_nonce"]
    device.join_nonce = int(entry["join_nonce"])
    device.queue = [json_format.ParseDict(item, api.DeviceQueueItem()) for item in entry["queue"]]
    for item in device.queue:
        item.is_pending = False  # whatever was in flight went with the old process: send again
    registry.devices[device.dev_eui] = device
    saved = entry["session"]
    if saved is None:
        return 0
    nwk, app = bytes.fromhex(saved["nwk_s_key"]), bytes.fromhex(saved["app_s_key"])
    session = Session(int(saved["dev_addr"]), network.cmac_key(aes, nwk), network.cmac_key(aes, app))
    session.raw_keys = (nwk, app)
    session.fcnt_up = saved["fcnt_up"]
    session.fcnt_down = int(saved["fcnt_down"]) + FCNT_DOWN_RESERVE
    session.gateway_eui = saved["gateway_eui"]
    session.pending_ack = tuple(saved["pending_ack"]) if saved["pending_ack"] else None  # type: ignore[assignment]
    session.status_requested_s = saved["status_requested_s"]
    device.session = session
    registry.by_addr[session.dev_addr] = device
    return 1


def write(path: Path, state: dict[str, Any]) -> None:
    """Atomically, mode 0600 from the first byte (the file holds keys)."""
    temp = path.with_name(path.name + ".tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(json.dumps(state, separators=(",", ":")))
    os.replace(temp, path)  # atomic against a crash of devnet (no fsync: a dev tool, not a power-loss story)


def read(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return dict(json.loads(text))
    except (ValueError, TypeError):
        raise ValueError(f"{path}: not JSON (a damaged devnet state file)") from None


class StateSaver:
    """Writes the registry's snapshot when it changed: now (`save_now`), every SAVE_EVERY_S, and on stop."""

    def __init__(self, registry: Registry, path: Path) -> None:
        self.registry = registry
        self.path = path
        self._last: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="devnet-state", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def save_now(self) -> None:
        # Under the registry's own lock (re-entrant): one lock, so no lock-order trap with the network
        # server calling this while it holds it, and no older snapshot written after a newer one.
        with self.registry.lock:
            state = snapshot(self.registry)
            if state != self._last:
                write(self.path, state)
                self._last = state

    def _loop(self) -> None:
        while not self._stop.wait(SAVE_EVERY_S):
            self.save_now()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.save_now()
