"""Sinks: where the bridge delivers normalized events (webhook, MQTT, NGSI-LD, SQL, OS2iot)."""

from tingbro.sinks.base import (
    PermanentSinkError,
    Sink,
    SinkConfigError,
    TransientSinkError,
    build_sink,
)

__all__ = ["PermanentSinkError", "Sink", "SinkConfigError", "TransientSinkError", "build_sink"]
