"""The bridge's configuration: a TOML file, secrets from the environment, validated up front.

`load_config(path)` returns a `BridgeConfig` or raises `ConfigError` with one line saying what is wrong.
Secrets are given as `<name>_env = "VARIABLE"` (preferred) or literally; either way they are collected in
`BridgeConfig.secrets` so the log formatter can blank them out.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEVICE_TYPES = ("fill_level", "lifebuoy", "streetlight")


class ConfigError(ValueError):
    """The configuration file is missing, malformed or inconsistent."""


@dataclass
class StorageConfig:
    path: Path
    synchronous: str = "full"          # SQLite PRAGMA synchronous: "full" survives power loss, "normal" a crash
    retention_hours: float = 168.0     # delivered events are kept this long for `tingbro replay --since`
    commit_interval_ms: float = 2.0    # group commit: gather ingested events this long before one transaction
    commit_max_events: int = 5000


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8090
    event_loop: str = "auto"           # uvloop when installed (its sockets cost less CPU), else asyncio; or either


@dataclass
class HttpIngestConfig:
    enabled: bool = True
    path: str = "/chirpstack"
    token_header: str = "Authorization"
    token: str | None = None           # compared with the whole header value ("Bearer x" if you configure that)
    max_body_bytes: int = 256 * 1024
    fast_path: bool = True             # serve the ingest path with the lean HTTP/1.1 front (false: all via aiohttp)
    request_timeout_s: float = 10.0    # a request must arrive completely within this (slow senders get 408)


@dataclass
class MqttIngestConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "tingbro"
    username: str | None = None
    password: str | None = None
    topic: str = "application/+/device/+/event/+"
    shared_group: str = ""             # MQTT v5 shared subscription: $share/<group>/<topic>
    protocol: int = 5                  # 5 or 4 (= 3.1.1)
    session_expiry_s: int = 7 * 86400  # v5: how long the broker keeps our session (and queues QoS 1) while away
    keepalive_s: int = 30
    max_inflight: int = 1000           # unacknowledged QoS 1 messages in flight at once
    tls: bool = False                  # TLS to the broker (usually port 8883); its certificate is always verified
    ca_file: Path | None = None        # CA certificates (PEM) for the broker's certificate; default: the system's
    cert_file: Path | None = None      # client certificate (PEM) with key_file, for brokers that ask for one
    key_file: Path | None = None


@dataclass
class DecodeConfig:
    device_type_tag: str = "tingbro_device_type"
    fallback_device_type: str | None = None


@dataclass
class DeliveryConfig:
    retry_initial_s: float = 0.5
    retry_max_s: float = 30.0
    give_up_after_s: float = 0.0       # 0: retry a failing batch forever; >0: dead-letter it after this long
    idle_poll_s: float = 0.5           # also notice events added by another process (`tingbro replay`)


@dataclass
class SinkEntry:
    name: str
    kind: str
    options: dict[str, Any]


@dataclass
class BridgeConfig:
    storage: StorageConfig
    server: ServerConfig = field(default_factory=ServerConfig)
    http: HttpIngestConfig = field(default_factory=HttpIngestConfig)
    mqtt: MqttIngestConfig = field(default_factory=MqttIngestConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    log_level: str = "info"
    sinks: list[SinkEntry] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    control: Any = None  # tingbro.control.settings.ControlSettings when [control] is enabled


class _Table:
    """Typed reads from one TOML table; `done()` rejects keys nobody read (catches typos)."""

    def __init__(self, where: str, data: Any, secrets: list[str]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"[{where}] must be a table")
        self.where, self.data, self.read, self.secrets = where, data, set(), secrets

    def get(self, key: str, kinds: type | tuple[type, ...], default: Any) -> Any:
        self.read.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        kinds_tuple = kinds if isinstance(kinds, tuple) else (kinds,)
        if (isinstance(value, bool) and bool not in kinds_tuple) or not isinstance(value, kinds_tuple):
            names = " or ".join(k.__name__ for k in kinds_tuple)
            raise ConfigError(f"[{self.where}] {key} must be {names}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = float(self.get(key, (int, float), default))
        if not low <= value <= high:
            raise ConfigError(f"[{self.where}] {key} must be between {low:g} and {high:g}")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key, int, default)
        if not low <= value <= high:
            raise ConfigError(f"[{self.where}] {key} must be between {low} and {high}")
        return int(value)

    def choice(self, key: str, default: Any, allowed: tuple[Any, ...]) -> Any:
        value = self.get(key, type(default) if default is not None else str, default)
        if value not in allowed:
            raise ConfigError(f"[{self.where}] {key} must be one of {', '.join(map(str, allowed))}")
        return value

    def secret(self, key: str) -> str | None:
        """`<key>_env` names an environment variable (wins), else `<key>` itself; both are remembered as secrets."""
        env_name = self.get(key + "_env", str, "")
        literal = self.get(key, str, "")
        if env_name:
            value = os.environ.get(env_name, "")
            if not value:
                raise ConfigError(f"[{self.where}] environment variable {env_name} ({key}_env) is not set")
        else:
            value = literal
        if value:
            self.secrets.append(value)
        return value or None

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise ConfigError(f"[{self.where}] unknown keys: {', '.join(unknown)}")


def _file(table: _Table, key: str, base_dir: Path) -> Path | None:
    """An existing file named by `key`, relative to the config file's folder; None when not given."""
    name = table.get(key, str, "")
    if not name:
        return None
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    if not path.is_file():
        raise ConfigError(f"[{table.where}] {key} {path} does not exist")
    return path


def load_config(path: str | Path) -> BridgeConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.__class__.__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(raw, base_dir=path.parent)


def parse_config(raw: dict[str, Any], base_dir: Path = Path(".")) -> BridgeConfig:
    secrets: list[str] = []
    top = _Table("top level", raw, secrets)
    storage_table = _Table("storage", top.get("storage", dict, {}), secrets)
    storage_path = Path(storage_table.get("path", str, "tingbro-outbox.sqlite3"))
    storage = StorageConfig(
        path=storage_path if storage_path.is_absolute() else base_dir / storage_path,
        synchronous=storage_table.choice("synchronous", "full", ("full", "normal")),
        retention_hours=storage_table.number("retention_hours", 168, 0, 24 * 365),
        commit_interval_ms=storage_table.number("commit_interval_ms", 2, 0, 1000),
        commit_max_events=storage_table.integer("commit_max_events", 5000, 1, 100_000),
    )
    storage_table.done()

    server_table = _Table("server", top.get("server", dict, {}), secrets)
    server = ServerConfig(host=server_table.get("host", str, "127.0.0.1"),
                          port=server_table.integer("port", 8090, 0, 65535),
                          event_loop=server_table.choice("event_loop", "auto", ("asyncio", "uvloop", "auto")))
    if server.event_loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ConfigError("[server] event_loop = \"uvloop\" but uvloop is not installed (pip install uvloop)")
    server_table.done()

    ingest = _Table("ingest", top.get("ingest", dict, {}), secrets)
    http_table = _Table("ingest.http", ingest.get("http", dict, {}), secrets)
    http = HttpIngestConfig(
        enabled=http_table.get("enabled", bool, True),
        path=http_table.get("path", str, "/chirpstack"),
        token_header=http_table.get("token_header", str, "Authorization"),
        token=http_table.secret("token"),
        max_body_bytes=http_table.integer("max_body_bytes", 256 * 1024, 64, 64 * 1024 * 1024),
        fast_path=http_table.get("fast_path", bool, True),
        request_timeout_s=http_table.number("request_timeout_s", 10, 0.5, 600),
    )
    if not http.path.startswith("/"):
        raise ConfigError("[ingest.http] path must start with /")
    if http.enabled and not http.token:
        raise ConfigError("[ingest.http] needs token_env (or token): the endpoint is never open without one")
    http_table.done()

    mqtt_table = _Table("ingest.mqtt", ingest.get("mqtt", dict, {}), secrets)
    mqtt = MqttIngestConfig(
        enabled=mqtt_table.get("enabled", bool, False),
        host=mqtt_table.get("host", str, "127.0.0.1"),
        port=mqtt_table.integer("port", 1883, 1, 65535),
        client_id=mqtt_table.get("client_id", str, "tingbro"),
        username=mqtt_table.get("username", str, "") or None,
        password=mqtt_table.secret("password"),
        topic=mqtt_table.get("topic", str, "application/+/device/+/event/+"),
        shared_group=mqtt_table.get("shared_group", str, ""),
        protocol=mqtt_table.choice("protocol", 5, (4, 5)),
        session_expiry_s=mqtt_table.integer("session_expiry_s", 7 * 86400, 1, 2**32 - 1),
        keepalive_s=mqtt_table.integer("keepalive_s", 30, 5, 3600),
        max_inflight=mqtt_table.integer("max_inflight", 1000, 1, 65535),
        tls=mqtt_table.get("tls", bool, False),
        ca_file=_file(mqtt_table, "ca_file", base_dir),
        cert_file=_file(mqtt_table, "cert_file", base_dir),
        key_file=_file(mqtt_table, "key_file", base_dir),
    )
    if (mqtt.ca_file or mqtt.cert_file or mqtt.key_file) and not mqtt.tls:
        raise ConfigError("[ingest.mqtt] ca_file, cert_file and key_file need tls = true")
    if bool(mqtt.cert_file) != bool(mqtt.key_file):
        raise ConfigError("[ingest.mqtt] cert_file and key_file go together")
    if mqtt.enabled and not mqtt.client_id:
        raise ConfigError("[ingest.mqtt] client_id must not be empty: a persistent session needs a fixed id")
    if any(ch in mqtt.shared_group for ch in "/+#"):
        raise ConfigError("[ingest.mqtt] shared_group must not contain /, + or #")
    mqtt_table.done()
    ingest.done()

    decode_table = _Table("decode", top.get("decode", dict, {}), secrets)
    fallback = decode_table.get("fallback_device_type", str, "") or None
    if fallback is not None and fallback.replace("-", "_") not in DEVICE_TYPES:
        raise ConfigError(f"[decode] fallback_device_type must be one of {', '.join(DEVICE_TYPES)}")
    decode = DecodeConfig(device_type_tag=decode_table.get("device_type_tag", str, "tingbro_device_type"),
                          fallback_device_type=fallback.replace("-", "_") if fallback else None)
    decode_table.done()

    delivery_table = _Table("delivery", top.get("delivery", dict, {}), secrets)
    delivery = DeliveryConfig(
        retry_initial_s=delivery_table.number("retry_initial_s", 0.5, 0.01, 3600),
        retry_max_s=delivery_table.number("retry_max_s", 30, 0.01, 86400),
        give_up_after_s=delivery_table.number("give_up_after_s", 0, 0, 365 * 86400),
        idle_poll_s=delivery_table.number("idle_poll_s", 0.5, 0.01, 60),
    )
    delivery_table.done()

    log_table = _Table("log", top.get("log", dict, {}), secrets)
    log_level = log_table.choice("level", "info", ("debug", "info", "warning", "error"))
    log_table.done()

    sinks = _parse_sinks(top.get("sinks", list, []), secrets)
    from tingbro.control.settings import parse_control  # imports this module: not at the top

    control = parse_control(top.get("control", dict, {}), secrets, base_dir)
    top.done()
    if not (http.enabled or mqtt.enabled):
        raise ConfigError("enable at least one ingest: [ingest.http] or [ingest.mqtt]")
    return BridgeConfig(storage=storage, server=server, http=http, mqtt=mqtt, decode=decode, delivery=delivery,
                        log_level=log_level, sinks=sinks, secrets=secrets, control=control)


# Sink options that hold a secret literally; `<anything>_env` options name a variable holding one.
SECRET_OPTION_NAMES = ("token", "authorization", "hmac_secret", "password", "api_key", "dsn")


def _parse_sinks(entries: list[Any], secrets: list[str]) -> list[SinkEntry]:
    sinks: list[SinkEntry] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"[[sinks]] entry {index + 1} must be a table")
        name, kind = entry.get("name"), entry.get("kind")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"[[sinks]] entry {index + 1} needs a name")
        if not isinstance(kind, str) or not kind:
            raise ConfigError(f"sink {name!r} needs a kind")
        if any(s.name == name for s in sinks):
            raise ConfigError(f"sink name {name!r} is used twice")
        for key, value in entry.items():
            if isinstance(value, str) and key.endswith("_env") and os.environ.get(value):
                secrets.append(os.environ[value])
            elif isinstance(value, str) and key in SECRET_OPTION_NAMES and value:
                secrets.append(value)
        sinks.append(SinkEntry(name=name, kind=kind, options=dict(entry)))
    if not sinks:
        raise ConfigError("configure at least one [[sinks]] table")
    return sinks
