"""The bridge config's `[control]` table: ChirpStack access, the command API token, watchdog.

    [control]
    enabled = true
    chirpstack = "127.0.0.1:8080"        # gRPC host:port
    chirpstack_token_env = "CHIRPSTACK_API_TOKEN"
    application_id = "b586ec0e-..."      # the application whose devices are watched and commanded
    tls = false                          # true behind a TLS proxy; ca_file = "/etc/ssl/ca.pem" optional
    api_token_env = "TINGBRO_CONTROL_TOKEN"   # bearer token for POST/GET /api/commands
    commands_db = "tingbro-commands.sqlite3"  # relative to the config file
    max_attempts = 3                     # re-enqueue a NACKed confirmed command up to this many sends
    watchdog_interval_s = 60             # how often silent devices are checked
    offline_factor = 2.5                 # silent longer than this many uplink intervals -> device_offline
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tingbro.config import ConfigError, _Table


@dataclass(frozen=True)
class ControlSettings:
    chirpstack: str
    chirpstack_token: str
    application_id: str
    api_token: str
    commands_db: Path
    tls: bool = False
    ca_file: Path | None = None
    timeout_s: float = 10.0
    max_attempts: int = 3
    watchdog_interval_s: float = 60.0
    offline_factor: float = 2.5

    def __repr__(self) -> str:  # keep the tokens out of any log line that prints the settings
        return f"ControlSettings(chirpstack={self.chirpstack!r}, application_id={self.application_id!r})"


def parse_control(raw: Any, secrets: list[str], base_dir: Path) -> ControlSettings | None:
    """The `[control]` table -> settings, or None when absent or `enabled = false`."""
    table = _Table("control", raw, secrets)
    if not table.get("enabled", bool, False):
        table.read.update(table.data)  # a disabled table may hold anything
        return None
    chirpstack = table.get("chirpstack", str, "127.0.0.1:8080")
    token = table.secret("chirpstack_token")
    api_token = table.secret("api_token")
    application_id = table.get("application_id", str, "")
    db = Path(table.get("commands_db", str, "tingbro-commands.sqlite3"))
    ca_file = table.get("ca_file", str, "")
    settings = ControlSettings(
        chirpstack=chirpstack, chirpstack_token=token or "", application_id=application_id, api_token=api_token or "",
        commands_db=db if db.is_absolute() else base_dir / db,
        tls=table.get("tls", bool, False),
        ca_file=(Path(ca_file) if Path(ca_file).is_absolute() else base_dir / ca_file) if ca_file else None,
        timeout_s=table.number("timeout_s", 10, 0.1, 300),
        max_attempts=table.integer("max_attempts", 3, 1, 20),
        watchdog_interval_s=table.number("watchdog_interval_s", 60, 0.05, 86400),
        offline_factor=table.number("offline_factor", 2.5, 1.0, 100),
    )
    table.done()
    if not settings.chirpstack_token:
        raise ConfigError("[control] needs chirpstack_token_env: the ChirpStack API token")
    if not settings.api_token:
        raise ConfigError("[control] needs api_token_env: the command API is never open without a token")
    if not settings.application_id:
        raise ConfigError("[control] needs application_id (the ChirpStack application UUID)")
    return settings
