"""Sending commands through ChirpStack and following them to a final status.

I/O edge around the pure pieces: `commands.build_command` validates and encodes, `command_status`
decides, `CommandStore` remembers, the ChirpStack client enqueues. Nothing is sent unless it
validated; the record is stored before and after the enqueue so no command goes unaccounted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chirpstack_api import api

from tingbro.chirpstack import ChirpStackClient, ChirpStackError, NotFoundError
from tingbro.control import command_status
from tingbro.control.command_store import CommandStore
from tingbro.control.commands import build_command

TYPE_TAG = "tingbro_device_type"


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


class CommandService:
    def __init__(self, client: ChirpStackClient, store: CommandStore, application_id: str | None = None,
                 max_attempts: int = 3, clock: Callable[[], str] = utc_now) -> None:
        self.client = client
        self.store = store
        self.application_id = application_id
        self.max_attempts = max_attempts
        self.clock = clock

    def send(self, dev_eui: str, device_type: str, message: str, fields: dict[str, Any],
             confirmed: bool = True) -> dict[str, Any]:
        """Validate (CommandError), enqueue to one device; returns the stored command (queued or failed)."""
        built = build_command(device_type, message, fields)
        command = command_status.new_command(str(uuid.uuid4()), {"dev_eui": dev_eui.lower()}, built, confirmed,
                                             self.max_attempts, self.clock())
        self.store.save(command)
        return self._enqueue(command)

    def _enqueue(self, command: dict[str, Any]) -> dict[str, Any]:
        item = api.DeviceQueueItem(dev_eui=command["dev_eui"], confirmed=command["confirmed"],
                                   f_port=command["f_port"], data=bytes.fromhex(command["payload_hex"]))
        try:
            response = self.client.call("DeviceService", "Enqueue", api.EnqueueDeviceQueueItemRequest(
                queue_item=item), f"device {command['dev_eui']}")
        except ChirpStackError as exc:
            command = command_status.enqueue_failed(command, str(exc), self.clock())
        else:
            command = command_status.enqueued(command, response.id, self.clock())
        self.store.save(command)
        return command

    def device_by_name(self, name: str) -> tuple[str, str]:
        """(dev_eui, device type from its tag, or "") of the application's device called `name`."""
        listing = self.client.call("DeviceService", "List", api.ListDevicesRequest(
            application_id=self.application_id or "", search=name, limit=100), f"device {name}")
        for item in listing.result:
            if item.name == name:
                return item.dev_eui, item.tags.get(TYPE_TAG, "")
        raise NotFoundError(f"device {name!r} not found in the application")

    def device_type_of(self, dev_eui: str) -> str:
        """The device's type from its ChirpStack tag ("" when untagged)."""
        device = self.client.call("DeviceService", "Get", api.GetDeviceRequest(dev_eui=dev_eui),
                                  f"device {dev_eui}").device
        return device.tags.get(TYPE_TAG, "")

    def find_group(self, name: str) -> str:
        listing = self.client.call("MulticastGroupService", "List", api.ListMulticastGroupsRequest(
            application_id=self.application_id or "", search=name, limit=100), f"multicast group {name}")
        for item in listing.result:
            if item.name == name:
                return item.id
        raise NotFoundError(f"multicast group {name!r} not found in the application")

    def send_group(self, group: str, device_type: str, message: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Validate, then enqueue one multicast downlink to every member (Class C, unconfirmed)."""
        built = build_command(device_type, message, fields)
        group_id = self.find_group(group)
        command = command_status.new_command(str(uuid.uuid4()), {"multicast_group_id": group_id,
                                                                  "multicast_group": group},
                                             built, False, 1, self.clock())
        self.store.save(command)
        item = api.MulticastGroupQueueItem(multicast_group_id=group_id, f_port=built["f_port"],
                                           data=bytes.fromhex(built["payload_hex"]))
        try:
            response = self.client.call("MulticastGroupService", "Enqueue",
                                        api.EnqueueMulticastGroupQueueItemRequest(queue_item=item),
                                        f"multicast group {group}")
        except ChirpStackError as exc:
            command = command_status.enqueue_failed(command, str(exc), self.clock())
        else:
            command = command_status.enqueued(command, f"multicast:{group_id}:{response.f_cnt}", self.clock())
        self.store.save(command)
        return command

    def handle_event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Feed one bridge event (txack / ack / log); returns the command if the event changed it."""
        queue_item_id = command_status.queue_item_of(event)
        if queue_item_id is None:
            return None
        command = self.store.by_queue_item(queue_item_id)
        if command is None:
            return None
        updated, action = command_status.apply_event(command, event, self.clock())
        if updated is command:
            return None
        command = updated
        self.store.save(command)
        if action == command_status.REENQUEUE:
            command = self._enqueue(command)
        return command
