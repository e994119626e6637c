"""Device health (pure): the expected-uplink watchdog and the lifebuoy-removed alarm.

Fed with the bridge's events (EVENT.md shape) and the current time in seconds, it returns new
events in the same shape; it reads no clock and does no I/O, so the caller decides when to call
`check(now_s)` (e.g. once a minute) and where the returned events go (the outbox).

- A device silent for more than `factor` (2.5) times its uplink interval raises `device_offline`;
  its next uplink raises `device_online`. The interval comes from the device's tag
  `tingbro_uplink_interval_s` (written by `tingbro provision`), else the type's default.
- A lifebuoy reporting `present: false` raises an alarm `lifebuoy_removed` carrying the device
  (with its location); `present: true` clears it (the same alarm with `active: false`).
"""

from __future__ import annotations

from typing import Any

from tingbro.control.device_types import DEFAULT_INTERVAL_S
from tingbro.control.events import iso_time, make_event

OFFLINE_FACTOR = 2.5
_ALIVE_TYPES = ("uplink", "join")


def interval_of(device: dict[str, Any]) -> int | None:
    tag = (device.get("tags") or {}).get("tingbro_uplink_interval_s")
    try:
        if tag is not None and int(tag) > 0:
            return int(tag)
    except ValueError:
        pass
    return DEFAULT_INTERVAL_S.get(device.get("device_type") or "")


class Watchdog:
    def __init__(self, factor: float = OFFLINE_FACTOR) -> None:
        self.factor = factor
        # dev_eui -> {"device", "last_uplink_s", "interval_s", "offline", "removed"}
        self.devices: dict[str, dict[str, Any]] = {}

    def seed(self, device: dict[str, Any], last_uplink_s: float) -> None:
        """Start watching a device not heard since `last_uplink_s` (e.g. at start-up, from ChirpStack's
        last_seen_at, or the start time for a device never seen), unless an uplink was seen already."""
        interval_s = interval_of(device)
        if interval_s is None or device["dev_eui"] in self.devices:
            return
        self.devices[device["dev_eui"]] = {"device": device, "last_uplink_s": last_uplink_s,
                                           "interval_s": interval_s, "offline": False, "removed": False}

    def observe(self, event: dict[str, Any], now_s: float) -> list[dict[str, Any]]:
        """Take one bridge event; returns device_online / lifebuoy alarm events it causes."""
        device = event.get("device") or {}
        dev_eui = device.get("dev_eui")
        if event.get("type") not in _ALIVE_TYPES or not dev_eui:
            return []
        interval_s = interval_of(device)
        if interval_s is None:
            return []  # unknown type without an interval tag: nothing to expect
        state = self.devices.setdefault(dev_eui, {"offline": False, "removed": False, "last_uplink_s": now_s})
        was_offline = state["offline"]
        newer = now_s >= state["last_uplink_s"]  # an older (replayed) uplink says nothing about now
        state.update(device=device, interval_s=interval_s)
        if newer:
            state.update(last_uplink_s=now_s, offline=False)
        source = str(event.get("id", "")).split(":")[0] or f"{dev_eui}-{int(now_s)}"
        out: list[dict[str, Any]] = []
        if was_offline and newer:
            out.append(make_event(f"{source}:device_online", "device_online", now_s, device,
                                  detail={"last_uplink": iso_time(now_s)}))
        if device.get("device_type") == "lifebuoy" and event.get("type") == "uplink":
            present = (event.get("fields") or {}).get("present")
            if present is False and not state["removed"]:
                state["removed"] = True
                out.append(self._buoy_alarm(source, now_s, device, True))
            elif present is True and state["removed"]:
                state["removed"] = False
                out.append(self._buoy_alarm(source, now_s, device, False))
        return out

    @staticmethod
    def _buoy_alarm(source: str, now_s: float, device: dict[str, Any], active: bool) -> dict[str, Any]:
        # Same id as the bridge's own alarm for a presence uplink: the outbox keeps one of the two.
        return make_event(f"{source}:alarm:lifebuoy_removed", "alarm", now_s, device,
                          alarm={"name": "lifebuoy_removed", "active": active},
                          detail={"location": device.get("location")})

    def check(self, now_s: float) -> list[dict[str, Any]]:
        """Raise device_offline for every device silent longer than factor x its interval."""
        out: list[dict[str, Any]] = []
        for dev_eui, state in sorted(self.devices.items()):
            silent_s = now_s - state["last_uplink_s"]
            if state["offline"] or silent_s <= self.factor * state["interval_s"]:
                continue
            state["offline"] = True
            last = iso_time(state["last_uplink_s"])
            out.append(make_event(f"{dev_eui}:device_offline:{last}", "device_offline", now_s, state["device"],
                                  detail={"last_uplink": last, "silent_s": int(silent_s),
                                          "expected_interval_s": state["interval_s"]}))
        return out
