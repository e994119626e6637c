"""Start the watchdog from ChirpStack's device list, so a restart of the bridge does not forget
devices: each is expected from its `last_seen_at` (or from now, if it was never seen)."""

from __future__ import annotations

from typing import Any

from chirpstack_api import api

from tingbro.chirpstack import ChirpStackClient
from tingbro.control.health import Watchdog

PAGE = 100
MAX_PAGES = 10_000  # a bound on the listing loop (a million devices)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def device_from_tags(dev_eui: str, name: str, application_id: str, tags: dict[str, str]) -> dict[str, Any]:
    """The event's device block built from ChirpStack device tags (the names the bridge reads)."""
    device_type = tags.get("tingbro_device_type", "").strip().lower().replace("-", "_") or None
    lat, lon = _float(tags.get("tingbro_latitude")), _float(tags.get("tingbro_longitude"))
    return {"dev_eui": dev_eui, "name": name or None, "device_type": device_type, "application_id": application_id,
            "tenant_id": None, "municipality": tags.get("tingbro_municipality") or None,
            "location": {"lat": lat, "lon": lon} if lat is not None and lon is not None else None, "tags": tags}


def devices_to_watch(client: ChirpStackClient, application_id: str, now_s: float) -> list[tuple[dict[str, Any], float]]:
    """(device block, last uplink time) of every device of the application, page by page."""
    found: list[tuple[dict[str, Any], float]] = []
    for _page in range(MAX_PAGES):
        listing = client.call("DeviceService", "List", api.ListDevicesRequest(
            application_id=application_id, limit=PAGE, offset=len(found)), f"devices of application {application_id}")
        for item in listing.result:
            device = device_from_tags(item.dev_eui, item.name, application_id, dict(item.tags))
            last_s = item.last_seen_at.ToSeconds() if item.HasField("last_seen_at") else now_s
            found.append((device, float(last_s)))
        if not listing.result or len(found) >= listing.total_count:
            break
    return found


def seed_from_chirpstack(client: ChirpStackClient, application_id: str, watchdog: Watchdog, now_s: float) -> int:
    """Seed `watchdog` with every device of the application; returns how many were listed."""
    found = devices_to_watch(client, application_id, now_s)
    for device, last_s in found:
        watchdog.seed(device, last_s)
    return len(found)
