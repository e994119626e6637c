"""Events the control plane emits, in the bridge's normalized shape (EVENT.md, event.schema.json)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

RADIO_KEYS = ("f_cnt", "f_port", "dr", "rssi_dbm", "snr_db", "gateway_count", "confirmed")


def iso_time(now_s: float) -> str:
    return datetime.fromtimestamp(now_s, UTC).isoformat()


def unknown_device(dev_eui: str, device_type: str | None) -> dict[str, Any]:
    """A device block with only what we know; every key present as the schema requires."""
    return {"dev_eui": dev_eui, "name": None, "device_type": device_type, "application_id": None,
            "tenant_id": None, "municipality": None, "location": None, "tags": {}}


def make_event(event_id: str, kind: str, now_s: float, device: dict[str, Any], *, message: str | None = None,
               fields: dict[str, Any] | None = None, alarm: dict[str, Any] | None = None,
               detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "time": iso_time(now_s), "device": device,
            "radio": dict.fromkeys(RADIO_KEYS), "message": message, "fields": fields or {}, "derived": {},
            "alarm": alarm, "detail": detail or {}}
