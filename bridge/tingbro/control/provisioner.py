"""Provisioning against ChirpStack: device profiles per type, devices with keys and tags.

Idempotent by device name: a device already in the device list keeps its DevEUI and AppKey (it may
already be flashed); one found in ChirpStack by name but missing from the list is adopted with the
keys ChirpStack holds; only unknown names get a fresh DevEUI and AppKey (from `secrets`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chirpstack_api import api

from tingbro.chirpstack import AlreadyExistsError, ChirpStackClient, NotFoundError
from tingbro.control.device_types import DEFAULT_INTERVAL_S, INTERVAL_FIELD
from tingbro.control.firmware_config import check_with_firmware, firmware_config
from tingbro.control.inventory import device_tags
from tingbro.control.profiles import build_multicast_group, build_profile, profile_name

DEFAULT_JOIN_EUI = "0000000000000000"


class ProvisionError(Exception):
    """A problem the technician must fix (missing codec file, a config the firmware would reject, ...)."""


def new_dev_eui(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A random EUI-64 marked locally administered (bit 1 set) and unicast (bit 0 clear)."""
    raw = bytearray(random_bytes(8))
    raw[0] = (raw[0] & 0xFC) | 0x02
    return raw.hex()


def new_app_key(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    return random_bytes(16).hex()


def read_codec(codec_dir: Path, device_type: str) -> str:
    path = codec_dir / f"{device_type}.js"
    if not path.is_file():
        raise ProvisionError(f"JS codec {path} not found: build the ChirpStack codecs first "
                             "(codecs/chirpstack/) or pass --codecs-dir")
    return path.read_text(encoding="utf-8")


class Provisioner:
    def __init__(self, client: ChirpStackClient, tenant_id: str, application_id: str, codec_dir: Path,
                 join_eui: str = DEFAULT_JOIN_EUI,
                 random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self.client = client
        self.tenant_id = tenant_id
        self.application_id = application_id
        self.codec_dir = codec_dir
        self.join_eui = join_eui
        self.random_bytes = random_bytes
        self._profile_ids: dict[str, str] = {}
        self._groups: dict[str, dict[str, str]] = {}

    def check_application(self) -> None:
        self.client.call("ApplicationService", "Get", api.GetApplicationRequest(id=self.application_id),
                         f"application {self.application_id}")

    def ensure_profile(self, device_type: str) -> str:
        """Create or update the type's device profile once per run; returns its id."""
        if device_type in self._profile_ids:
            return self._profile_ids[device_type]
        codec_js = read_codec(self.codec_dir, device_type)
        name = profile_name(device_type)
        listing = self.client.call("DeviceProfileService", "List", api.ListDeviceProfilesRequest(
            tenant_id=self.tenant_id, search=name, limit=100), f"profile {name}")
        existing = [item.id for item in listing.result if item.name == name]
        interval_s = DEFAULT_INTERVAL_S[device_type]
        if existing:
            profile = build_profile(self.tenant_id, device_type, interval_s, codec_js, existing[0])
            self.client.call("DeviceProfileService", "Update",
                             api.UpdateDeviceProfileRequest(device_profile=profile), f"profile {name}")
            profile_id = existing[0]
        else:
            profile = build_profile(self.tenant_id, device_type, interval_s, codec_js)
            profile_id = self.client.call("DeviceProfileService", "Create",
                                          api.CreateDeviceProfileRequest(device_profile=profile),
                                          f"profile {name}").id
        self._profile_ids[device_type] = profile_id
        return profile_id

    def ensure_group(self, name: str) -> dict[str, str]:
        """Create the Class C multicast group `name` once (or read the existing one's session keys)."""
        if name in self._groups:
            return self._groups[name]
        listing = self.client.call("MulticastGroupService", "List", api.ListMulticastGroupsRequest(
            application_id=self.application_id, search=name, limit=100), f"multicast group {name}")
        existing = [item.id for item in listing.result if item.name == name]
        if existing:
            group = self.client.call("MulticastGroupService", "Get", api.GetMulticastGroupRequest(id=existing[0]),
                                     f"multicast group {name}").multicast_group
        else:
            group = build_multicast_group(name, self.application_id, self.random_bytes)
            group.id = self.client.call("MulticastGroupService", "Create", api.CreateMulticastGroupRequest(
                multicast_group=group), f"multicast group {name}").id
        session = {"group": name, "id": group.id, "mc_addr": group.mc_addr, "mc_nwk_s_key": group.mc_nwk_s_key,
                   "mc_app_s_key": group.mc_app_s_key, "frequency_hz": group.frequency, "dr": group.dr,
                   "f_cnt": group.f_cnt}
        self._groups[name] = session
        return session

    def _find_by_name(self, name: str) -> str | None:
        listing = self.client.call("DeviceService", "List", api.ListDevicesRequest(
            application_id=self.application_id, search=name, limit=100), f"device {name}")
        matches = [item.dev_eui for item in listing.result if item.name == name]
        return matches[0] if matches else None

    def _stored_key(self, dev_eui: str) -> str | None:
        try:
            keys = self.client.call("DeviceService", "GetKeys", api.GetDeviceKeysRequest(dev_eui=dev_eui),
                                    f"device {dev_eui}")
        except NotFoundError:
            return None
        return keys.device_keys.nwk_key or None

    def _get(self, dev_eui: str) -> api.Device | None:
        try:
            return self.client.call("DeviceService", "Get", api.GetDeviceRequest(dev_eui=dev_eui),
                                    f"device {dev_eui}").device
        except NotFoundError:
            return None

    def provision(self, spec: dict[str, Any], known: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
        """Create or update one device; returns (device-list record, "created"|"updated"|"adopted")."""
        device_type = spec["device_type"]
        profile_id = self.ensure_profile(device_type)
        interval_s = DEFAULT_INTERVAL_S[device_type]
        if known is not None:  # keep the interval the device was configured with
            interval_s = int(known["config"].get("intervals", {}).get(INTERVAL_FIELD[device_type], interval_s))
        tags = device_tags(spec, interval_s)
        name = spec["name"]

        existing: api.Device | None = None
        if known is not None:
            dev_eui, app_key, join_eui = known["dev_eui"], known["app_key"], known["join_eui"]
            existing = self._get(dev_eui)
            action = "updated" if existing is not None else "created"
        else:
            found = self._find_by_name(name)
            existing = self._get(found) if found is not None else None
            if found is not None and existing is not None:
                dev_eui, app_key, action = found, self._stored_key(found) or "", "adopted"
                join_eui = existing.join_eui or self.join_eui
            else:
                dev_eui, app_key, action = new_dev_eui(self.random_bytes), "", "created"
                join_eui = self.join_eui

        device = api.Device(dev_eui=dev_eui, name=name, application_id=self.application_id,
                            device_profile_id=profile_id, join_eui=join_eui, tags=tags,
                            description=f"Tingbro {device_type}")
        if existing is not None:
            # Keep what others set on the device (extra tags, variables, description); ours win on conflict.
            device = api.Device()
            device.CopyFrom(existing)
            device.name, device.device_profile_id, device.join_eui = name, profile_id, join_eui
            device.tags.update(tags)
        if action == "created":
            for _attempt in range(3):
                try:
                    self.client.call("DeviceService", "Create", api.CreateDeviceRequest(device=device),
                                     f"device {name}")
                    break
                except AlreadyExistsError:
                    if known is not None:
                        raise  # a listed DevEUI taken by someone else: do not invent a new one
                    device.dev_eui = dev_eui = new_dev_eui(self.random_bytes)
            else:
                raise ProvisionError(f"device {name}: could not find a free DevEUI")
        else:
            self.client.call("DeviceService", "Update", api.UpdateDeviceRequest(device=device), f"device {name}")

        if action == "created" or not self._stored_key(dev_eui):
            app_key = app_key or new_app_key(self.random_bytes)
            # LoRaWAN 1.0.x: the AppKey goes in nwk_key (app_key is for 1.1 only), reference §5.3.
            self.client.call("DeviceService", "CreateKeys", api.CreateDeviceKeysRequest(
                device_keys=api.DeviceKeys(dev_eui=dev_eui, nwk_key=app_key)), f"device {name} keys")

        config = firmware_config(spec, dev_eui, join_eui, app_key, interval_s)
        multicast = None
        if spec.get("group"):
            session = self.ensure_group(spec["group"])
            try:
                self.client.call("MulticastGroupService", "AddDevice", api.AddDeviceToMulticastGroupRequest(
                    multicast_group_id=session["id"], dev_eui=dev_eui), f"multicast group {spec['group']}")
            except AlreadyExistsError:
                pass  # already a member (re-run)
            multicast = {key: value for key, value in session.items() if key not in ("id", "f_cnt")}
            # The firmware's multicast section: the session, and the group's next frame counter as the
            # lowest it accepts (older group frames, recorded off the air, are replays to this device).
            config["multicast"] = {**multicast, "f_cnt_min": session["f_cnt"]}
            check_with_firmware(config)
        record = {"name": name, "dev_eui": dev_eui, "join_eui": join_eui, "app_key": app_key,
                  "device": device_type, "config": config, "tags": tags}
        if multicast is not None:
            record["multicast"] = multicast
        return record, action
