"""One received body -> normalized events or a dead letter; shared by the HTTP and MQTT ingests.

`ParseError` (the body is not a ChirpStack event) propagates: HTTP answers it with 4xx, MQTT
dead-letters it (a broker cannot be told "no"). A well-formed event whose payload the codec rejects is
dead-lettered with the raw body and the reason, and still acknowledged: it is safe in the outbox.
"""

from __future__ import annotations

from typing import Any

from tingbro.config import DecodeConfig
from tingbro.decode import Codec, DecodeFailure, normalize
from tingbro.ingest.parse import encoding_for, parse_event
from tingbro.metrics import Metrics


class Intake:
    def __init__(self, codec: Codec, settings: DecodeConfig, metrics: Metrics) -> None:
        self.codec = codec
        self.settings = settings
        self.metrics = metrics

    def convert(self, source: str, event_name: str, body: bytes, content_type: str | None,
                received_at: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(events, dead letters) for one body; raises ParseError when it is no ChirpStack event."""
        encoding = encoding_for(content_type, body)
        message = parse_event(event_name, body, encoding)
        self.metrics.inc("tingbro_events_in_total", source=source, event=event_name)
        try:
            events = normalize(event_name, message, received_at, self.codec,
                               self.settings.device_type_tag, self.settings.fallback_device_type)
        except DecodeFailure as exc:
            self.metrics.inc("tingbro_dead_lettered_total", stage="decode", sink="")
            return [], [ingest_letter("decode", str(exc), event_name, content_type, body)]
        return events, []


def ingest_letter(stage: str, reason: str, event_name: str | None, content_type: str | None,
                  body: bytes) -> dict[str, Any]:
    return {"stage": stage, "reason": reason, "event_name": event_name, "content_type": content_type,
            "raw": bytes(body)}
