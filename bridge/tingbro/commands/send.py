"""`tingbro send`: validate a command against the catalogue, then enqueue it in ChirpStack.

    tingbro send --name lamp-0001 level level_pct=40 fade_ms=2000        # type and DevEUI from devices.jsonl
    tingbro send --dev-eui 0a1b2c3d4e5f6071 --type lifebuoy interval heartbeat_interval_s=43200
    tingbro send --group street-vestergade --type streetlight level level_pct=30      # multicast, Class C
    tingbro send --status 6f1c...                                       # a command's status from the store

Prints the command record as JSON (id, status, queue_item_id); the running bridge follows it to
sent/acked/failed in the same SQLite store (--db).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from tingbro.chirpstack import ChirpStackError
from tingbro.chirpstack.options import add_connection_args, client_from_args
from tingbro.cli import UsageError
from tingbro.control import command_status
from tingbro.control.command_service import CommandService
from tingbro.control.command_store import CommandStore
from tingbro.control.commands import CommandError, build_command, parse_assignments
from tingbro.control.device_list import DeviceListError, read_device_list


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("send", help="send a validated command to a device or a multicast group")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--name", help="device name from the device list (--devices)")
    target.add_argument("--dev-eui", help="device EUI (needs --type)")
    target.add_argument("--group", help="ChirpStack multicast group name (needs --type; Class C, unconfirmed)")
    target.add_argument("--status", metavar="COMMAND_ID", help="print a stored command's status and exit")
    parser.add_argument("--type", dest="device_type", help="device type: fill_level | lifebuoy | streetlight")
    parser.add_argument("--devices", type=Path, default=Path("devices.jsonl"), help="device list (for --name)")
    parser.add_argument("--db", type=Path, default=Path(os.environ.get("TINGBRO_COMMANDS_DB", "tingbro-commands.sqlite")),
                        help="SQLite file for command statuses (env TINGBRO_COMMANDS_DB)")
    parser.add_argument("--unconfirmed", action="store_true", help="send unconfirmed (no ack, status ends at sent)")
    parser.add_argument("--max-attempts", type=int, default=3, help="re-enqueue a NACKed command up to this many times")
    parser.add_argument("--wait", type=float, default=0, metavar="S",
                        help="wait up to S seconds for the final status (the running bridge updates --db)")
    parser.add_argument("command", nargs="?", help="level | schedule | presence-dimming | default-level | interval | "
                                                   "thresholds | debounce | any catalogue downlink name")
    parser.add_argument("fields", nargs="*", metavar="FIELD=VALUE", help="values as JSON (numbers, lists)")
    add_connection_args(parser)
    parser.set_defaults(handler=run)


def _target(args: argparse.Namespace) -> tuple[str | None, str]:
    """(dev_eui or None for a group or a name to look up in ChirpStack, device type or "")."""
    if args.name:
        try:
            record = read_device_list(args.devices).get(args.name)
        except DeviceListError as exc:
            raise UsageError(str(exc)) from None
        if record is None:  # not in the local list: ChirpStack knows it by name
            return None, args.device_type or ""
        return record["dev_eui"], record["device"]
    if not args.device_type:
        raise UsageError("--type is required with --dev-eui and --group")
    if args.dev_eui:
        try:
            if len(bytes.fromhex(args.dev_eui)) != 8:
                raise ValueError
        except ValueError:
            raise UsageError("--dev-eui must be 16 hex digits") from None
        return args.dev_eui.lower(), args.device_type
    return None, args.device_type


def _wait_for_final(db: Path, command: dict, wait_s: float) -> dict:
    """Poll the store until the command is acked/failed (or sent, if unconfirmed), at most `wait_s`."""
    deadline = time.monotonic() + wait_s
    store = CommandStore(db)
    try:
        while time.monotonic() < deadline:
            command = store.get(command["id"]) or command
            if command_status.settled(command):
                break
            time.sleep(0.2)
    finally:
        store.close()
    return command


def run(args: argparse.Namespace) -> int:
    if args.status:
        if not args.db.exists():
            raise UsageError(f"no command store {args.db} (give the bridge's commands_db with --db)")
        store = CommandStore(args.db)
        command = store.get(args.status)
        store.close()
        if command is None:
            raise UsageError(f"no command {args.status} in {args.db}")
        print(json.dumps(command, indent=2, sort_keys=True))
        return 0
    if not args.command:
        raise UsageError("which command? e.g. `level level_pct=40`")
    dev_eui, device_type = _target(args)
    try:
        fields = parse_assignments(args.fields)
        if device_type:
            build_command(device_type, args.command, fields)  # validate before touching the network
    except CommandError as exc:
        raise UsageError(str(exc)) from None
    if args.group and not args.application_id:
        raise UsageError("--group needs --application-id (or env CHIRPSTACK_APPLICATION_ID): groups belong to it")
    if args.name and dev_eui is None and not args.application_id:
        raise UsageError(f"{args.name!r} is not in {args.devices}: give --application-id to find it in ChirpStack")
    store = CommandStore(args.db)
    try:
        with client_from_args(args) as client:
            service = CommandService(client, store, args.application_id, max_attempts=args.max_attempts)
            if args.name and dev_eui is None:
                dev_eui, tagged_type = service.device_by_name(args.name)
                device_type = device_type or tagged_type
                if not device_type:
                    raise UsageError(f"device {args.name} has no tingbro_device_type tag: give --type")
            if dev_eui is not None:
                command = service.send(dev_eui, device_type, args.command, fields, confirmed=not args.unconfirmed)
            else:
                command = service.send_group(args.group, device_type, args.command, fields)
    except (ChirpStackError, CommandError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    if args.wait > 0 and command["status"] != "failed":
        command = _wait_for_final(args.db, command, args.wait)
    print(json.dumps(command, indent=2, sort_keys=True))
    if args.wait > 0 and not command_status.settled(command):
        raise UsageError(f"command {command['id']} still {command['status']} after {args.wait:g} s "
                         "(is the bridge running with [control] on the same --db?)")
    if command["status"] == "failed":
        raise UsageError(f"command {command['id']} failed: {command['reason']}")
    return 0
