"""The control plane inside `tingbro serve`: the command API and a consumer of the outbox.

The consumer reads the outbox in order with its own cursor (`_control`), like a sink: each event
goes to the command-status machine and the watchdog, and the events they produce (`command`,
`device_offline`, `device_online`, `alarm`) are committed back into the outbox for the sinks. A
timer runs the watchdog. At start the watchdog is seeded from ChirpStack's device list; if
ChirpStack is unreachable then, the bridge still starts (and says so in the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from tingbro.chirpstack import ChirpStackClient, ChirpStackError
from tingbro.control.command_service import CommandService
from tingbro.control.command_store import CommandStore
from tingbro.control.control_plane import ControlPlane
from tingbro.control.health import Watchdog
from tingbro.control.health_seed import devices_to_watch
from tingbro.control.http_api import ControlApi
from tingbro.control.settings import ControlSettings
from tingbro.outbox import Outbox

log = logging.getLogger("tingbro.control")

CURSOR = "_control"
BATCH = 500
MAX_BATCH_FAILURES = 3
RETRY_S = 5.0


def parse_row_body(body: Any) -> dict[str, Any]:
    """An outbox row's event: the outbox hands out dicts (JSON text from older outboxes)."""
    return body if isinstance(body, dict) else json.loads(body)


def event_time_s(event: dict[str, Any], default: float) -> float:
    try:
        return datetime.fromisoformat(str(event.get("time"))).timestamp()
    except ValueError:
        return default


class ControlRuntime:
    def __init__(self, settings: ControlSettings, outbox: Outbox, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.outbox = outbox
        self.clock = clock
        root = settings.ca_file.read_bytes() if settings.tls and settings.ca_file else None
        self.client = ChirpStackClient(settings.chirpstack, settings.chirpstack_token, tls=settings.tls,
                                       root_certificates=root, timeout_s=settings.timeout_s)
        self.store = CommandStore(settings.commands_db)
        self.commands = CommandService(self.client, self.store, settings.application_id, settings.max_attempts)
        self.plane = ControlPlane(self.commands, Watchdog(settings.offline_factor))
        self.api = ControlApi(self.commands, settings.api_token)
        self.cursor = 0
        self._stop = asyncio.Event()
        self.seeded = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = outbox.listener()

    def add_routes(self, app: web.Application) -> None:
        self.api.add_routes(app)

    async def start(self) -> None:
        """Returns at once; seeding runs in the background (`seeded` is set when it is over)."""
        self.cursor = await self.outbox.cursor_of(CURSOR)
        self._tasks = [asyncio.create_task(self._seed(), name="control-seed"),
                       asyncio.create_task(self._consume(), name="control-consume"),
                       asyncio.create_task(self._watch(), name="control-watchdog")]

    async def _seed(self) -> None:
        try:
            devices = await asyncio.to_thread(devices_to_watch, self.client, self.settings.application_id,
                                              self.clock())
            await asyncio.to_thread(self.plane.seed, devices)
            log.info("watchdog seeded", extra={"devices": len(devices)})
        except ChirpStackError as exc:
            log.warning("watchdog not seeded: devices are watched from their next uplink", extra={"reason": str(exc)})
        finally:
            self.seeded.set()

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.store.close()
        self.client.close()

    async def _consume(self) -> None:
        failures = 0
        while not self._stop.is_set():
            rows = await self.outbox.fetch(CURSOR, self.cursor, BATCH)
            if not rows:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                continue
            try:
                events = [parse_row_body(body) for _, _, body in rows]
                produced = await asyncio.to_thread(self._feed, events)
                if produced:
                    await self.outbox.accept(produced)
                failures = 0
            except Exception as exc:
                # Keep the cursor and try the batch again (a full disk passes); a batch failing
                # MAX_BATCH_FAILURES times is skipped by the control plane only: the sinks still get it.
                failures += 1
                reason = f"{type(exc).__name__}: {exc}"
                if failures < MAX_BATCH_FAILURES:
                    log.error("control plane failed on a batch; retrying", extra={"reason": reason})
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), RETRY_S)
                    continue
                log.error("control plane skips a batch it cannot process",
                          extra={"reason": reason, "first_seq": rows[0][0], "last_seq": rows[-1][0]})
                failures = 0
            self.cursor = rows[-1][0]
            self.outbox.advance(CURSOR, self.cursor)

    def _feed(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        produced: list[dict[str, Any]] = []
        now = self.clock()
        for event in events:  # the uplink's own time, so a replayed backlog is judged correctly
            produced.extend(self.plane.on_events([event], min(now, event_time_s(event, now))))
        return produced

    async def _watch(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.watchdog_interval_s)
            if self._stop.is_set():
                return
            produced = await asyncio.to_thread(self.plane.tick, self.clock())
            if produced:
                try:
                    await self.outbox.accept(produced)
                except Exception as exc:  # not stored: let the next tick raise them again
                    log.error("watchdog events not stored", extra={"reason": f"{type(exc).__name__}: {exc}"})
                    await asyncio.to_thread(self.plane.forget_offline, produced)
