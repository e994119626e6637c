"""The sink contract: what the delivery loop calls, the two error kinds, and `build_sink`.

A sink receives batches of normalized events (see `bridge/tingbro/schema/event.schema.json`) and either
delivers all of them or raises. `TransientSinkError` means "try the same batch again later";
`PermanentSinkError` means "this batch can never be delivered": the bridge dead-letters it with `str(exc)`.
Error messages never contain secrets (tokens, API keys, passwords).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from typing import Any

# kind -> (module under tingbro.sinks, class name). Imported lazily so an optional driver (psycopg) is
# only needed by the deployments that configure it.
SINK_KINDS: dict[str, tuple[str, str]] = {
    "webhook": ("webhook", "WebhookSink"),
    "mqtt": ("mqtt", "MqttSink"),
    "ngsi_ld": ("ngsi_ld", "NgsiLdSink"),
    "sql": ("sql", "SqlSink"),
    "os2iot": ("os2iot", "Os2iotSink"),
}

EVENT_TYPES = ("uplink", "alarm", "join", "status", "ack", "txack", "log", "location",
               "device_offline", "device_online", "command")


class TransientSinkError(Exception):
    """The receiver is unavailable or overloaded: retry the same batch with exponential back-off."""


class PermanentSinkError(Exception):
    """The receiver rejected the batch for good: dead-letter it with str(exc) as the reason."""


class SinkConfigError(ValueError):
    """A sink's options are wrong (unknown kind, missing or mistyped option, unset environment variable)."""


class SinkOptions:
    """Typed reads from a sink's option table; `finish()` rejects keys nobody read (catches typos)."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.sink_name = name
        self._options = dict(options)
        self._read: set[str] = set()
        self.secrets: list[str] = []  # every secret read, so the bridge can blank them out of its logs

    def fail(self, message: str) -> SinkConfigError:
        return SinkConfigError(f"sink {self.sink_name!r}: {message}")

    def get(self, key: str, kinds: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        self._read.add(key)
        if key not in self._options:
            if required:
                raise self.fail(f"option {key!r} is required")
            return default
        value = self._options[key]
        # bool is an int in Python; an option meant as a number must not accept true/false.
        if isinstance(value, bool) and bool not in _as_tuple(kinds):
            raise self.fail(f"option {key!r} must be {_kind_names(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise self.fail(f"option {key!r} must be {_kind_names(kinds)}, not {type(value).__name__}")
        return value

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.get(key, str, default, required)
        if required and not value:
            raise self.fail(f"option {key!r} must not be empty")
        return value

    def number(self, key: str, default: float, minimum: float, maximum: float) -> float:
        value = float(self.get(key, (int, float), default))
        if not minimum <= value <= maximum:
            raise self.fail(f"option {key!r} must be between {minimum:g} and {maximum:g}")
        return value

    def integer(self, key: str, default: int, minimum: int, maximum: int) -> int:
        value = self.get(key, int, default)
        if not minimum <= value <= maximum:
            raise self.fail(f"option {key!r} must be between {minimum} and {maximum}")
        return int(value)

    def flag(self, key: str, default: bool) -> bool:
        return bool(self.get(key, bool, default))

    def strings(self, key: str, default: Iterable[str], allowed: Iterable[str] | None = None) -> tuple[str, ...]:
        value = self.get(key, list, list(default))
        if not all(isinstance(item, str) for item in value):
            raise self.fail(f"option {key!r} must be a list of strings")
        if allowed is not None:
            unknown = sorted(set(value) - set(allowed))
            if unknown:
                raise self.fail(f"option {key!r} has unknown values {unknown}")
        return tuple(value)

    def table(self, key: str) -> dict[str, Any]:
        value = self.get(key, dict, {})
        return dict(value)

    def secret(self, key: str, required: bool = False) -> str | None:
        """A secret from `<key>_env` (the name of an environment variable, preferred) or `<key>` itself."""
        env_name = self.text(key + "_env")
        literal = self.text(key)
        if env_name and literal:
            raise self.fail(f"give either {key!r} or {key + '_env'!r}, not both")
        if env_name:
            value = os.environ.get(env_name)
            if not value:
                raise self.fail(f"environment variable {env_name} (option {key + '_env'!r}) is not set")
            self.secrets.append(value)
            return value
        if required and not literal:
            raise self.fail(f"option {key + '_env'!r} (or {key!r}) is required")
        if literal:
            self.secrets.append(literal)
        return literal or None

    def finish(self) -> None:
        unknown = sorted(set(self._options) - self._read)
        if unknown:
            raise self.fail(f"unknown options {unknown}")


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _kind_names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(kind.__name__ for kind in _as_tuple(kinds))


class Sink:
    """One configured sink. Subclasses read their options in `configure` and implement `send`.

    `secrets` lists every secret the sink was configured with (tokens, keys, DSNs) for log redaction.

    Every sink understands the common options:
      max_batch     how many events one `deliver` call accepts (the delivery loop reads `sink.max_batch`)
      event_types   only these event types are sent; others are acknowledged without sending
      device_types  only events of these device types are sent ("unknown" selects events without a type)
    """

    kind = ""
    default_max_batch = 100
    default_event_types: tuple[str, ...] = EVENT_TYPES

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        reader = SinkOptions(name, options)
        self.max_batch = reader.integer("max_batch", self.default_max_batch, 1, 10_000)
        self.event_types = frozenset(reader.strings("event_types", self.default_event_types, EVENT_TYPES))
        device_types = reader.strings("device_types", ())
        self.device_types = frozenset(device_types) if device_types else None
        # A sink that selects every event skips `accepts` (a call per event) in `deliver`.
        self.selects_all = self.event_types == frozenset(EVENT_TYPES) and self.device_types is None
        self.configure(reader)
        reader.finish()
        self.secrets: tuple[str, ...] = tuple(reader.secrets)

    def configure(self, options: SinkOptions) -> None:
        """Read kind-specific options (raise SinkConfigError on bad ones)."""

    def accepts(self, event: dict[str, Any]) -> bool:
        if event["type"] not in self.event_types:
            return False
        if self.device_types is None:
            return True
        return (event["device"]["device_type"] or "unknown") in self.device_types

    async def start(self) -> None:
        """Open clients and local resources. A remote that is down does not fail start(); deliver() will."""

    async def deliver(self, events: list[dict[str, Any]]) -> None:
        """Deliver the whole batch or raise TransientSinkError / PermanentSinkError (all-or-nothing)."""
        selected = events if self.selects_all else [event for event in events if self.accepts(event)]
        # The delivery loop hands over at most max_batch events; a larger list is sent in max_batch chunks
        # (a failure part-way then re-sends the earlier chunks on retry: at-least-once, as always).
        for offset in range(0, len(selected), self.max_batch):
            await self.send(selected[offset:offset + self.max_batch])

    async def send(self, events: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release clients; safe to call more than once and after a failed start()."""


def build_sink(name: str, kind: str, options: dict[str, Any]) -> Sink:
    """Create a sink from its `[[sinks]]` table (`name` and `kind` keys in `options` are ignored)."""
    if not name:
        raise SinkConfigError("a sink needs a non-empty name")
    if kind not in SINK_KINDS:
        raise SinkConfigError(f"sink {name!r}: unknown kind {kind!r} (known: {', '.join(SINK_KINDS)})")
    options = {key: value for key, value in options.items() if key not in ("name", "kind")}
    module_name, class_name = SINK_KINDS[kind]
    module = importlib.import_module(f"tingbro.sinks.{module_name}")
    sink_class: type[Sink] = getattr(module, class_name)
    return sink_class(name, options)
