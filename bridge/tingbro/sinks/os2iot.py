"""OS2iot sink: feed each device's events to OS2iot's Generic HTTP ingest, so OS2iot dashboards keep working.

Each device is a "Generic HTTP" IoT device in OS2iot with its own API key:
  POST {url}/api/v1/receive-data?apiKey=<key>   Content-Type: application/json   -> 204 No Content
OS2iot answers 403 for an unknown or wrong key (a permanent error here). Keys come from a JSON file
(`api_keys_file`: {"<dev_eui>": "<key>", ...}) or an inline `api_keys` table; never from device tags, which
travel with every event to every sink. The body is the normalized event, or a flat object (`payload = "flat"`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from yarl import URL

from tingbro import __version__
from tingbro.sinks.base import PermanentSinkError, Sink, SinkOptions
from tingbro.sinks.httpclient import HttpPoster
from tingbro.sinks.jsonenc import dump_json

RECEIVE_DATA_PATH = "/api/v1/receive-data"


def flat_payload(event: dict[str, Any]) -> dict[str, Any]:
    """One level deep, for OS2iot's "latest message" view and decoders that just copy keys."""
    device, radio, alarm = event["device"], event["radio"] or {}, event["alarm"]
    flat: dict[str, Any] = {
        "id": event["id"], "type": event["type"], "time": event["time"], "dev_eui": device["dev_eui"],
        "device_name": device["name"], "device_type": device["device_type"], "message": event["message"],
        "rssi_dbm": radio.get("rssi_dbm"), "snr_db": radio.get("snr_db"), "f_cnt": radio.get("f_cnt"),
    }
    if alarm:
        flat["alarm"] = alarm["name"]
        flat["alarm_active"] = alarm["active"]
    flat.update(event["fields"])
    flat.update(event["derived"])
    return flat


class Os2iotSink(Sink):
    kind = "os2iot"
    # One request per event anyway; a batch of one means a device without a key dead-letters only its event.
    default_max_batch = 1
    default_event_types = ("uplink", "alarm")

    def configure(self, options: SinkOptions) -> None:
        base = URL(options.text("url", required=True) or "")
        if base.scheme not in ("http", "https") or not base.host:
            raise options.fail("option 'url' must be OS2iot's absolute http(s) base URL")
        self.receive_url = base.with_path(base.path.rstrip("/") + RECEIVE_DATA_PATH)
        keys: dict[str, Any] = options.table("api_keys")
        keys_file = options.text("api_keys_file")
        if keys_file:
            keys.update(self._read_keys_file(options, Path(keys_file)))
        if not all(isinstance(value, str) and value for value in keys.values()):
            raise options.fail("API keys must be non-empty strings keyed by DevEUI")
        self.api_keys = {dev_eui.lower(): key for dev_eui, key in keys.items()}
        options.secrets.extend(self.api_keys.values())
        self.payload_style = options.text("payload", "event")
        if self.payload_style not in ("event", "flat"):
            raise options.fail("option 'payload' must be \"event\" or \"flat\"")
        self.timeout_s = options.number("timeout_s", 30.0, 0.05, 300.0)
        self.poster = HttpPoster(self.timeout_s, secrets=tuple(self.api_keys.values()))

    @staticmethod
    def _read_keys_file(options: SinkOptions, path: Path) -> dict[str, Any]:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise options.fail(f"cannot read api_keys_file {str(path)!r}: {exc.strerror}") from None
        except ValueError:
            raise options.fail(f"api_keys_file {str(path)!r} is not valid JSON") from None
        if not isinstance(loaded, dict):
            raise options.fail(f"api_keys_file {str(path)!r} must hold a JSON object {{dev_eui: key}}")
        return loaded

    async def start(self) -> None:
        await self.poster.start()

    async def send(self, events: list[dict[str, Any]]) -> None:
        missing = sorted({event["device"]["dev_eui"] for event in events
                          if event["device"]["dev_eui"].lower() not in self.api_keys})
        if missing:
            raise PermanentSinkError(f"no OS2iot API key configured for device(s) {', '.join(missing)}")
        headers = {"Content-Type": "application/json", "User-Agent": f"tingbro/{__version__}"}
        # In order, one device event per request: OS2iot keeps the latest message per device.
        for event in events:
            key = self.api_keys[event["device"]["dev_eui"].lower()]
            body = dump_json(flat_payload(event) if self.payload_style == "flat" else event)
            await self.poster.post(self.receive_url.with_query({"apiKey": key}), body, headers)

    async def close(self) -> None:
        await self.poster.close()
