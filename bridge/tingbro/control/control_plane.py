"""What the running bridge feeds the control plane, and the events it gets back.

    new_events = control.on_events(events, now_s)   # after the bridge stored `events`
    new_events = control.tick(now_s)                # every minute or so: offline devices

Both return events in the bridge's shape (EVENT.md) to be put in the outbox like any other:
`command` events when a command changes status, `device_offline`/`device_online`, and the
`lifebuoy_removed` alarm. `on_events` may call ChirpStack (re-enqueue after a NACK): run it in a
worker thread, not on the event loop.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from tingbro.chirpstack import ChirpStackError
from tingbro.control.command_service import CommandService
from tingbro.control.events import make_event, unknown_device
from tingbro.control.health import Watchdog

log = logging.getLogger("tingbro.control")

_COMMAND_EVENT_TYPES = ("txack", "ack", "log")


def command_event(command: dict[str, Any], device: dict[str, Any] | None, now_s: float) -> dict[str, Any]:
    """A `command` event telling sinks a command's new status."""
    if not device or not device.get("dev_eui"):
        device = unknown_device(command["dev_eui"] or "", command["device_type"])
    return make_event(
        f"{command['id']}:{command['status']}:{command['attempts']}", "command", now_s, device,
        message=command["message"], fields=command["fields"],
        detail={"command_id": command["id"], "status": command["status"], "attempts": command["attempts"],
                "queue_item_id": command["queue_item_id"], "reason": command["reason"],
                "multicast_group": command["multicast_group"]})


class ControlPlane:
    def __init__(self, commands: CommandService | None, watchdog: Watchdog | None = None) -> None:
        self.commands = commands
        self.watchdog = watchdog or Watchdog()
        # on_events, tick and seed may run in different threads; the watchdog is one shared state.
        self.lock = threading.Lock()

    def seed(self, devices: list[tuple[dict[str, Any], float]]) -> None:
        with self.lock:
            for device, last_uplink_s in devices:
                self.watchdog.seed(device, last_uplink_s)

    def on_events(self, events: list[dict[str, Any]], now_s: float) -> list[dict[str, Any]]:
        with self.lock:
            return self._on_events(events, now_s)

    def _on_events(self, events: list[dict[str, Any]], now_s: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for event in events:
            out.extend(self.watchdog.observe(event, now_s))
            if self.commands is None or event.get("type") not in _COMMAND_EVENT_TYPES:
                continue
            try:
                changed = self.commands.handle_event(event)
            except ChirpStackError as exc:  # the store keeps the command; report and go on
                log.warning("command follow-up failed", extra={"reason": str(exc)})
                continue
            if changed is not None:
                out.append(command_event(changed, event.get("device"), now_s))
        return out

    def tick(self, now_s: float) -> list[dict[str, Any]]:
        with self.lock:
            return self.watchdog.check(now_s)

    def forget_offline(self, events: list[dict[str, Any]]) -> None:
        """Undo `tick` for events that could not be stored, so the next tick raises them again."""
        with self.lock:
            for event in events:
                state = self.watchdog.devices.get(event["device"]["dev_eui"])
                if state is not None and event["type"] == "device_offline":
                    state["offline"] = False
