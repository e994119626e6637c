"""One received body -> normalized events or a dead letter; shared by the HTTP and MQTT ingests.

`ParseError` (the body is not a ChirpStack event) propagates: HTTP answers it with 4xx, MQTT
dead-letters it (a broker cannot be told "no"). A well-formed event whose payload the codec rejects is
dead-lettered with the raw body and the reason, and still acknowledged: it is safe in the outbox.
"""

from __future__ import annotations

from typing import Any

from tingbro.config import DecodeConfig
from tingbro.decode import Codec, DecodeFailure, normalize
from tingbro.ingest.fastjson import Unusual
from tingbro.ingest.parse import JSON, encoding_for, parse_event
from tingbro.ingest.uplinkjson import uplink_from_json
from tingbro.metrics import Metrics


class Intake:
    def __init__(self, codec: Codec, settings: DecodeConfig, metrics: Metrics) -> None:
        self.codec = codec
        self.settings = settings
        self.metrics = metrics
        self._in_series: dict[tuple[str, str], Any] = {}

    def convert(self, source: str, event_name: str, body: bytes, content_type: str | None,
                received_at: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(events, dead letters) for one body; raises ParseError when it is no ChirpStack event."""
        encoding = JSON if content_type == "application/json" else encoding_for(content_type, body)
        settings = self.settings
        counted = False
        try:
            events = None
            if encoding == JSON and event_name == "up":
                try:
                    events = uplink_from_json(body, received_at, self.codec, settings.device_type_tag,
                                              settings.fallback_device_type)
                except Unusual:
                    pass  # json_format decides (see ingest/uplinkjson.py)
            if events is None:  # the reference path: the message via json_format or protobuf, then normalize
                message = parse_event(event_name, body, encoding)
                counted = True
                self._count_in(source, event_name)
                events = normalize(event_name, message, received_at, self.codec,
                                   settings.device_type_tag, settings.fallback_device_type)
            else:
                self._count_in(source, event_name)
        except DecodeFailure as exc:
            if not counted:  # the fast path: a valid event whose payload the codec rejects
                self._count_in(source, event_name)
            self.metrics.inc("tingbro_dead_lettered_total", stage="decode", sink="")
            return [], [ingest_letter("decode", str(exc), event_name, content_type, body)]
        return events, []

    def _count_in(self, source: str, event_name: str) -> None:
        handle = self._in_series.get((source, event_name))
        if handle is None:
            handle = self._in_series[(source, event_name)] = self.metrics.series(
                "tingbro_events_in_total", source=source, event=event_name)
        series, key = handle
        series[key] += 1


def ingest_letter(stage: str, reason: str, event_name: str | None, content_type: str | None,
                  body: bytes) -> dict[str, Any]:
    return {"stage": stage, "reason": reason, "event_name": event_name, "content_type": content_type,
            "raw": bytes(body)}
