"""What devnet knows: tenant, application, device profiles, devices and their keys, sessions, queues.

Filled from the device list that `tingbro provision` writes (JSON lines) and/or through the gRPC API
(provisioning against devnet). One lock guards it: the UDP loop and the gRPC threads share it.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

from chirpstack_api import api

TENANT_ID = "0d1e5f7a-7d3b-4e70-8000-000000000001"
APPLICATION_ID = "0d1e5f7a-7d3b-4e70-8000-000000000002"
CLASS_C_TYPES = ("streetlight",)


class Session:
    """One OTAA session: addresses, keys (CmacKey), counters, the gateway that last heard the device."""

    def __init__(self, dev_addr: int, nwk_key: Any, app_key: Any) -> None:
        self.dev_addr = dev_addr
        self.nwk_key = nwk_key
        self.app_key = app_key
        self.fcnt_up: int | None = None
        self.fcnt_down = 0
        self.gateway_eui: str | None = None
        self.last_uplink_s = 0.0  # monotonic seconds of the last uplink (Class C waits out its RX windows)
        self.pending_ack: tuple[str, int] | None = None  # (queue item id, fcnt_down) of a confirmed downlink
        self.status_requested_s: float | None = None  # wall (Unix) seconds of the last DevStatusReq
        self.raw_keys: tuple[bytes, bytes] | None = None  # (NwkSKey, AppSKey) for the state file only
        self.ack_timer: threading.Timer | None = None  # Class C: NACKs the pending confirmed downlink on timeout


class Device:
    def __init__(self, dev_eui: str, join_eui: str, app_key: bytes | None, name: str, device_type: str | None,
                 tags: dict[str, str], profile_id: str = "", class_c: bool = False) -> None:
        self.dev_eui = dev_eui
        self.join_eui = join_eui
        self.app_key = app_key
        self.name = name
        self.device_type = device_type
        self.tags = dict(tags)
        self.profile_id = profile_id
        self.class_c = class_c
        self.session: Session | None = None
        self.last_dev_nonce: int | None = None
        self.join_nonce = 0
        self.queue: list[api.DeviceQueueItem] = []

    def __repr__(self) -> str:  # never show the key
        return f"Device({self.dev_eui}, {self.name!r})"


class Registry:
    def __init__(self, application_name: str = "tingbro-demo") -> None:
        self.lock = threading.RLock()
        self.application = api.Application(id=APPLICATION_ID, name=application_name, tenant_id=TENANT_ID)
        self.profiles: dict[str, api.DeviceProfile] = {}
        self.devices: dict[str, Device] = {}
        self.by_addr: dict[int, Device] = {}
        self.multicast_groups: dict[str, api.MulticastGroup] = {}
        self.multicast_members: dict[str, set[str]] = {}
        self.next_dev_addr = 0x26000001

    def load_device_list(self, path: Path) -> int:
        """Add every device of a `tingbro provision` device list; -> how many."""
        count = 0
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                dev_eui = str(entry["dev_eui"]).lower()
                app_key = bytes.fromhex(entry["app_key"])
                device_type = entry.get("device") or entry.get("config", {}).get("device")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}:{number}: not a device list entry ({type(exc).__name__})") from None
            tags = {str(k): str(v) for k, v in (entry.get("tags") or {}).items()}
            if device_type:
                tags.setdefault("tingbro_device_type", device_type)
            self.add_device(Device(dev_eui, str(entry.get("join_eui", "0" * 16)).lower(), app_key,
                                   str(entry.get("name") or dev_eui), device_type, tags,
                                   class_c=device_type in CLASS_C_TYPES))
            count += 1
        return count

    def add_device(self, device: Device) -> None:
        with self.lock:
            known = self.devices.get(device.dev_eui)
            if known is not None:  # keep the session and counters of a device provisioned twice
                device.session, device.last_dev_nonce = known.session, known.last_dev_nonce
                device.join_nonce, device.queue = known.join_nonce, known.queue
                device.profile_id = device.profile_id or known.profile_id
                if device.session is not None:  # uplinks must find this object, not the one it replaces
                    self.by_addr[device.session.dev_addr] = device
            self.devices[device.dev_eui] = device

    def new_dev_addr(self) -> int:
        with self.lock:
            addr = self.next_dev_addr
            self.next_dev_addr += 1
            return addr

    def profile_name(self, device: Device) -> str:
        profile = self.profiles.get(device.profile_id)
        return profile.name if profile is not None else "tingbro-" + str(device.device_type or "unknown")

    def new_id(self) -> str:
        return str(uuid.uuid4())
