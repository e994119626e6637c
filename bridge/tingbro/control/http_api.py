"""The bridge's command API (aiohttp routes), behind a bearer token.

    POST /api/commands        {"device": NAME | "dev_eui": EUI | "group": NAME, "device_type": T,
                               "command": "level", "fields": {"level_pct": 40}, "confirmed": true}
                              -> 202 {command record}; 400 invalid (names the field and range);
                                 404 unknown device; 502 ChirpStack refused or is unreachable
    GET  /api/commands/{id}   -> 200 {command record} | 404

`device_type` may be left out for a single device: it is read from the device's ChirpStack tag.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from aiohttp import web

from tingbro.chirpstack import ChirpStackError, NotFoundError
from tingbro.control.command_service import CommandService
from tingbro.control.commands import CommandError, build_command


class ControlApi:
    def __init__(self, service: CommandService, token: str) -> None:
        if not token:
            raise ValueError("the command API needs a token")
        self.service = service
        self._expected = ("Bearer " + token).encode()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/commands", self.post_command)
        app.router.add_get("/api/commands/{command_id}", self.get_command)

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, self._expected)

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status)

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        command, fields = body.get("command"), body.get("fields", {})
        if not isinstance(command, str) or not isinstance(fields, dict):
            raise CommandError('"command" (a string) and "fields" (an object) are required')
        device_type = body.get("device_type")
        if body.get("group"):
            if not device_type:
                raise CommandError('"device_type" is required for a group command')
            build_command(device_type, command, fields)
            return self.service.send_group(str(body["group"]), device_type, command, fields)
        if body.get("device"):
            dev_eui, tagged_type = self.service.device_by_name(str(body["device"]))
        elif body.get("dev_eui"):
            dev_eui, tagged_type = str(body["dev_eui"]).lower(), ""
        else:
            raise CommandError('one of "device", "dev_eui" or "group" is required')
        if device_type:
            build_command(device_type, command, fields)  # validate before any look-up
        device_type = device_type or tagged_type or self.service.device_type_of(dev_eui)
        if not device_type:
            raise CommandError(f"device {dev_eui} has no tingbro_device_type tag: give \"device_type\"")
        confirmed = body.get("confirmed", True)
        if not isinstance(confirmed, bool):
            raise CommandError('"confirmed" must be true or false')
        return self.service.send(dev_eui, device_type, command, fields, confirmed=confirmed)

    async def post_command(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, "missing or wrong bearer token")
        try:
            body = await request.json()
        except ValueError:
            return self._error(400, "body is not JSON")
        if not isinstance(body, dict):
            return self._error(400, "body must be a JSON object")
        try:
            command = await asyncio.to_thread(self._send, body)
        except CommandError as exc:
            return self._error(400, str(exc))
        except NotFoundError as exc:
            return self._error(404, str(exc))
        except ChirpStackError as exc:
            return self._error(502, str(exc))
        if command["status"] == "failed":
            return web.json_response(command, status=502)
        return web.json_response(command, status=202)

    async def get_command(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, "missing or wrong bearer token")
        command = await asyncio.to_thread(self.service.store.get, request.match_info["command_id"])
        if command is None:
            return self._error(404, "no such command")
        return web.json_response(command)
