"""The device list: JSON lines, one device each (dev_eui, join_eui, app_key, device, config, name).

`tingbro provision` writes it and `tingbro simulate` reads it. It holds AppKeys, so it is written
with mode 0600 (atomically, via a temporary file in the same folder) and never printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REQUIRED_KEYS = ("name", "dev_eui", "join_eui", "app_key", "device", "config")


class DeviceListError(ValueError):
    pass


def read_device_list(path: Path) -> dict[str, dict[str, Any]]:
    """name -> record; an absent file is an empty list."""
    if not path.exists():
        return {}
    records: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DeviceListError(f"{path} line {number}: not JSON ({exc.msg})") from None
        missing = [key for key in REQUIRED_KEYS if key not in record]
        if missing:
            raise DeviceListError(f"{path} line {number}: missing {', '.join(missing)}")
        records[record["name"]] = record
    return records


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)  # in case the file existed with wider permissions
    os.replace(temporary, path)


def write_device_list(path: Path, records: dict[str, dict[str, Any]]) -> None:
    lines = [json.dumps(records[name], sort_keys=True) for name in sorted(records)]
    write_private(path, "".join(line + "\n" for line in lines))
