"""Hand integration events to the bridge as ChirpStack does: HTTP POST `<url>?event=<name>` and/or MQTT
`application/{application_id}/device/{dev_eui}/event/{name}`, JSON in ChirpStack's exact shape.

Like ChirpStack's HTTP integration, an HTTP event that fails is logged and dropped (no retry); MQTT is
published with QoS 1 so a broker keeps events for a bridge that is away (its persistent session).
Publishing runs on its own thread so the radio path never waits for the bridge.
"""

from __future__ import annotations

import logging
import queue
import threading
import urllib.error
import urllib.request
from typing import Any

from tingbro.devnet.events import event_name
from tingbro.devnet.pbjson import chirpstack_json

log = logging.getLogger("tingbro.devnet")


class Publisher:
    def __init__(self, http_url: str | None = None, http_headers: dict[str, str] | None = None,
                 mqtt_host: str | None = None, mqtt_port: int = 1883, application_id: str = "") -> None:
        self.http_url = http_url
        self.http_headers = dict(http_headers or {})
        self.application_id = application_id
        self.counts = {"published": 0, "http_failed": 0}
        self.history: list[tuple[str, bytes]] = []  # (event name, JSON) of the last events, for tests/reports
        self._queue: queue.Queue[Any] = queue.Queue()
        self._mqtt: Any = None
        if mqtt_host:
            import paho.mqtt.client as paho
            from paho.mqtt.enums import CallbackAPIVersion

            self._mqtt = paho.Client(CallbackAPIVersion.VERSION2, client_id="devnet-" + application_id[:8])
            self._mqtt.connect_async(mqtt_host, mqtt_port)
            self._mqtt.loop_start()
        self._thread = threading.Thread(target=self._run, name="devnet-publish", daemon=True)
        self._thread.start()

    def emit(self, message: Any) -> None:
        self._queue.put(message)

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                self._publish(message)
            except Exception:  # one bad event must not stop the others
                log.exception("devnet: publishing an event failed")

    def _publish(self, message: Any) -> None:
        name = event_name(message)
        body = chirpstack_json(message)
        self.history.append((name, body))
        del self.history[:-2000]
        if self._mqtt is not None:
            topic = f"application/{self.application_id}/device/{message.device_info.dev_eui}/event/{name}"
            self._mqtt.publish(topic, body, qos=1)
        if self.http_url:
            separator = "&" if "?" in self.http_url else "?"
            request = urllib.request.Request(f"{self.http_url}{separator}event={name}", data=body, method="POST",
                                             headers={"Content-Type": "application/json", **self.http_headers})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    response.read()
            except (urllib.error.URLError, OSError) as exc:
                self.counts["http_failed"] += 1
                log.warning("devnet: HTTP integration: %s event not delivered (%s)", name,
                            getattr(exc, "code", None) or type(exc).__name__)
        self.counts["published"] += 1

    def close(self, timeout_s: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)
        if self._mqtt is not None:
            self._mqtt.loop_stop()
            self._mqtt.disconnect()
