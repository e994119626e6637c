"""`tingbro provision`: create or update devices in ChirpStack and write what the technician needs.

    export CHIRPSTACK_API_TOKEN=...     # never on the command line
    tingbro provision --csv bins.csv --tenant-id T --application-id A --devices devices.jsonl

Writes the device list (JSON lines with keys, mode 0600), one firmware config JSON per device
(mode 0600) and one SVG label per device. Progress goes to stderr; keys are never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from tingbro.chirpstack import AuthenticationError, ChirpStackError, UnavailableError
from tingbro.chirpstack.options import add_connection_args, client_from_args
from tingbro.cli import UsageError
from tingbro.control.device_list import DeviceListError, read_device_list, write_device_list, write_private
from tingbro.control.device_types import DEFAULT_INTERVAL_S
from tingbro.control.firmware_config import FirmwareConfigError, firmware_config
from tingbro.control.inventory import InventoryError, parse_csv, parse_row
from tingbro.control.labels import label_sheets, label_svg
from tingbro.control.provisioner import Provisioner, ProvisionError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("provision", help="create/update devices in ChirpStack; write keys, configs, labels")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, help="inventory CSV: name,device_type,lat,lon[,municipality,bin_*_mm]")
    source.add_argument("--name", help="provision one device with this name")
    parser.add_argument("--type", dest="device_type", help="device type for --name (fill_level|lifebuoy|streetlight)")
    parser.add_argument("--lat", help="latitude for --name")
    parser.add_argument("--lon", help="longitude for --name")
    parser.add_argument("--municipality", default="", help="municipality for --name (e.g. aarhus)")
    parser.add_argument("--group", default="", help="streetlight: Class C multicast group for --name (a street)")
    parser.add_argument("--board", default="", help="firmware board for --name (default heltec_wifi_lora32_v3)")
    parser.add_argument("--bin-height-mm", default="", help="fill_level: bin height")
    parser.add_argument("--bin-empty-distance-mm", default="", help="fill_level: sensor to bottom of empty bin")
    parser.add_argument("--bin-full-distance-mm", default="", help="fill_level: sensor to surface of full bin")
    parser.add_argument("--tenant-id", default=os.environ.get("CHIRPSTACK_TENANT_ID"),
                        help="ChirpStack tenant UUID (env CHIRPSTACK_TENANT_ID)")
    parser.add_argument("--devices", type=Path, default=Path("devices.jsonl"),
                        help="device list to read and update (default devices.jsonl; holds keys, mode 0600)")
    parser.add_argument("--configs-dir", type=Path, default=Path("firmware-configs"),
                        help="folder for one firmware config JSON per device (default firmware-configs)")
    parser.add_argument("--labels-dir", type=Path, default=Path("labels"),
                        help="folder for one SVG label per device (default labels)")
    parser.add_argument("--codecs-dir", type=Path, default=Path("codecs/chirpstack"),
                        help="folder with <device_type>.js ChirpStack codecs (default codecs/chirpstack)")
    parser.add_argument("--join-eui", default="0000000000000000", help="JoinEUI for new devices")
    parser.add_argument("--dry-run", action="store_true", help="check the inventory and print the plan; send nothing")
    add_connection_args(parser)
    parser.set_defaults(handler=run)


def _specs(args: argparse.Namespace) -> list[dict[str, Any]]:
    try:
        if args.csv is not None:
            try:
                text = args.csv.read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot read {args.csv}: {exc.strerror}") from None
            return parse_csv(text, str(args.csv))
        row = {"name": args.name, "device_type": args.device_type or "", "lat": args.lat or "",
               "lon": args.lon or "", "municipality": args.municipality,
               "bin_height_mm": args.bin_height_mm, "bin_empty_distance_mm": args.bin_empty_distance_mm,
               "bin_full_distance_mm": args.bin_full_distance_mm, "group": args.group, "board": args.board}
        return [parse_row(row, "--name " + str(args.name))]
    except InventoryError as exc:
        raise UsageError(str(exc)) from None


def _check_hex(value: str, length: int, option: str) -> str:
    try:
        if len(bytes.fromhex(value)) == length and len(value) == 2 * length:
            return value.lower()
    except ValueError:
        pass
    raise UsageError(f"{option} must be {2 * length} hex digits")


def _preflight(specs: list[dict[str, Any]]) -> None:
    """Check every device's firmware config (with placeholder keys) before anything is created."""
    for spec in specs:
        try:
            firmware_config(spec, "00" * 8, "00" * 8, "00" * 16, DEFAULT_INTERVAL_S[spec["device_type"]])
        except FirmwareConfigError as exc:
            raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    specs = _specs(args)
    _preflight(specs)
    if args.dry_run:
        try:
            known = read_device_list(args.devices)
        except DeviceListError as exc:
            raise UsageError(str(exc)) from None
        for spec in specs:
            state = "in the device list" if spec["name"] in known else "new (or found in ChirpStack by name)"
            print(f"{spec['name']} {spec['device_type']} {spec.get('group') or '-'}: {state}")
        print(f"{len(specs)} devices checked; nothing sent (--dry-run)")
        return 0
    if not args.tenant_id:
        raise UsageError("--tenant-id (or env CHIRPSTACK_TENANT_ID) is required")
    if not args.application_id:
        raise UsageError("--application-id (or env CHIRPSTACK_APPLICATION_ID) is required")
    join_eui = _check_hex(args.join_eui, 8, "--join-eui")
    try:
        records = read_device_list(args.devices)
    except DeviceListError as exc:
        raise UsageError(str(exc)) from None

    counts = {"created": 0, "updated": 0, "adopted": 0, "failed": 0}
    with client_from_args(args) as client:
        provisioner = Provisioner(client, args.tenant_id, args.application_id, args.codecs_dir, join_eui)
        try:
            provisioner.check_application()
            for device_type in sorted({spec["device_type"] for spec in specs}):
                provisioner.ensure_profile(device_type)
        except (ChirpStackError, ProvisionError) as exc:
            raise UsageError(str(exc)) from None
        total = len(specs)
        for index, spec in enumerate(specs, start=1):
            name = spec["name"]
            try:
                record, action = provisioner.provision(spec, records.get(name))
            except (AuthenticationError, UnavailableError) as exc:
                raise UsageError(f"{exc} (stopped at {name}; {index - 1} of {total} done)") from None
            except (ChirpStackError, ProvisionError) as exc:
                counts["failed"] += 1
                print(f"[{index}/{total}] {name}: FAILED: {exc}", file=sys.stderr)
                continue
            records[name] = record
            # Saved after every device: a device created in ChirpStack never loses its key.
            write_device_list(args.devices, records)
            write_private(args.configs_dir / f"{name}.json", _json(record["config"]))
            label = args.labels_dir / f"{name}.svg"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(label_svg(name, record["dev_eui"], spec["device_type"]), encoding="utf-8")
            counts[action] += 1
            print(f"[{index}/{total}] {name} {spec['device_type']} {record['dev_eui']} {action}", file=sys.stderr)

    done = [(spec["name"], records[spec["name"]]["dev_eui"], spec["device_type"]) for spec in specs
            if spec["name"] in records]
    for number, page in enumerate(label_sheets(done), start=1):
        (args.labels_dir / f"sheet-{number:03d}.svg").write_text(page, encoding="utf-8")
    print(f"provisioned {total - counts['failed']} of {total} devices ({counts['created']} created, "
          f"{counts['updated']} updated, {counts['adopted']} adopted, {counts['failed']} failed); "
          f"device list {args.devices}, configs in {args.configs_dir}, labels in {args.labels_dir}")
    return 1 if counts["failed"] else 0


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True) + "\n"
