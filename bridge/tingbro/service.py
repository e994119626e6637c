"""`tingbro serve`: wires ingest -> decode -> outbox -> sinks, plus /metrics and /healthz.

Shutdown (SIGTERM/SIGINT) runs in the reverse order of the data: stop taking events (HTTP listener
closed, MQTT stops reading), let every sink finish the delivery in flight, commit cursor moves, close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

from aiohttp import web

from tingbro.codec import tingcodec_decode
from tingbro.config import BridgeConfig
from tingbro.decode import Codec
from tingbro.delivery import SinkWorker
from tingbro.ingest.http import HttpIngest
from tingbro.ingest.http_front import HttpFront
from tingbro.ingest.http_rules import IngestRules
from tingbro.ingest.intake import Intake
from tingbro.ingest.mqtt import MqttIngest
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox
from tingbro.sinks.base import Sink, build_sink

log = logging.getLogger("tingbro.service")

PRUNE_EVERY_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0   # for HTTP requests in flight at shutdown


def build_sinks(config: BridgeConfig) -> list[Sink]:
    return [build_sink(entry.name, entry.kind, entry.options) for entry in config.sinks]


class Service:
    def __init__(self, config: BridgeConfig, codec: Codec = tingcodec_decode) -> None:
        self.config = config
        self.metrics = Metrics()
        self.outbox = Outbox(config.storage.path, config.storage.synchronous, config.storage.commit_interval_ms,
                             config.storage.commit_max_events)
        self.intake = Intake(codec, config.decode, self.metrics)
        self.sinks = build_sinks(config)
        self.workers: list[SinkWorker] = []
        self.worker_tasks: list[asyncio.Task[None]] = []
        self.mqtt: MqttIngest | None = None
        self.mqtt_task: asyncio.Task[None] | None = None
        self.runner: web.AppRunner | None = None
        self.front: HttpFront | None = None
        self.prune_task: asyncio.Task[None] | None = None
        self.port = 0
        self.control: Any = None  # tingbro.control.runtime.ControlRuntime when [control] is enabled

    async def start(self) -> None:
        await self.outbox.open()
        for sink in self.sinks:
            await sink.start()
            worker = SinkWorker(sink, self.outbox, self.config.delivery, self.metrics)
            self.workers.append(worker)
            self.worker_tasks.append(asyncio.create_task(worker.run(), name=f"sink-{sink.name}"))
        self.metrics.gauge("tingbro_queue_depth", "events in the outbox not yet delivered, per sink",
                           lambda: {(("sink", w.sink.name),): float(w.queue_depth) for w in self.workers})
        app = web.Application(client_max_size=self.config.http.max_body_bytes)
        rules = None
        if self.config.http.enabled:
            rules = IngestRules(self.config.http, self.intake, self.outbox, self.metrics)
            HttpIngest(rules).add_routes(app)
        if self.config.control is not None:
            from tingbro.control.runtime import ControlRuntime

            self.control = ControlRuntime(self.config.control, self.outbox)
            self.control.add_routes(app)
        app.router.add_get("/metrics", self.handle_metrics)
        app.router.add_get("/healthz", self.handle_health)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        if rules is not None and self.config.http.fast_path:
            # The lean front owns the port; it hands every request but the ingest's to aiohttp's handler.
            assert self.runner.server is not None
            self.front = HttpFront(rules, self.config.http.request_timeout_s, self.runner.server)
            self.port = await self.front.start(self.config.server.host, self.config.server.port)
        else:
            site = web.TCPSite(self.runner, self.config.server.host, self.config.server.port)
            await site.start()
            self.port = self.runner.addresses[0][1] if self.runner.addresses else self.config.server.port
        if self.config.mqtt.enabled:
            self.mqtt = MqttIngest(self.config.mqtt, self.intake, self.outbox, self.metrics)
            self.mqtt_task = asyncio.create_task(self.mqtt.run(), name="mqtt-ingest")
        self.prune_task = asyncio.create_task(self.prune_loop(), name="prune")
        if self.control is not None:
            await self.control.start()
        log.info("service started", extra={"host": self.config.server.host, "port": self.port,
                                           "http_ingest": self.config.http.enabled,
                                           "mqtt_ingest": self.config.mqtt.enabled,
                                           "sinks": [sink.name for sink in self.sinks],
                                           "event_loop": type(asyncio.get_running_loop()).__module__,
                                           "http_front": self.front is not None})

    async def stop(self) -> None:
        log.info("service stopping")
        if self.front is not None:
            await self.front.stop(SHUTDOWN_TIMEOUT_S)  # stops listening, answers requests in flight
        if self.runner is not None:
            await self.runner.cleanup()  # stops listening, waits for requests in flight
        if self.mqtt is not None:
            await self.mqtt.stop()
        if self.mqtt_task is not None:
            self.mqtt_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.mqtt_task
        if self.control is not None:
            await self.control.stop()  # after the ingests, before the outbox closes: it writes events back
        if self.prune_task is not None:
            self.prune_task.cancel()
        for worker in self.workers:
            worker.stop()
        await asyncio.gather(*self.worker_tasks, return_exceptions=True)
        for sink in self.sinks:
            await sink.close()
        await self.outbox.close()
        log.info("service stopped")

    async def prune_loop(self) -> None:
        retention_s = self.config.storage.retention_hours * 3600
        while True:
            await asyncio.sleep(PRUNE_EVERY_S)
            try:
                removed = await self.outbox.prune([sink.name for sink in self.sinks], retention_s)
                if removed:
                    log.info("pruned delivered events", extra={"removed": removed})
            except Exception as exc:
                log.warning("prune failed", extra={"reason": f"{type(exc).__name__}: {exc}"})

    async def handle_metrics(self, request: web.Request) -> web.Response:
        self.metrics.counters["tingbro_events_stored_total"][()] = float(self.outbox.stored_total)
        self.metrics.counters["tingbro_events_absorbed_total"][()] = float(self.outbox.absorbed_total)
        return web.Response(text=self.metrics.render(), content_type="text/plain", charset="utf-8")

    async def handle_health(self, request: web.Request) -> web.Response:
        status: dict[str, Any] = {"status": "ok", "outbox_last_seq": self.outbox.last_seq,
                                  "queue_depth": {w.sink.name: w.queue_depth for w in self.workers}}
        if self.mqtt is not None:
            status["mqtt_connected"] = self.mqtt.connected.is_set()
            status["mqtt_subscribed"] = self.mqtt.subscribed.is_set()
        return web.json_response(status)


def run(config: BridgeConfig) -> None:
    """Serve until SIGTERM/SIGINT on the configured event loop ([server] event_loop)."""
    if config.server.event_loop != "asyncio":
        try:
            import uvloop
        except ImportError:  # "auto" without uvloop installed ("uvloop" is checked with the config)
            pass
        else:
            uvloop.run(serve(config))
            return
    asyncio.run(serve(config))


async def serve(config: BridgeConfig) -> None:
    service = Service(config)
    # Modules and config are long-lived: keep the cyclic collector from re-scanning them, and let it run less
    # often (events are short-lived dicts without cycles); its pauses showed up in the p99 latency.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
