"""`tingbro serve --config FILE`: run the bridge until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse

from tingbro.cli import UsageError
from tingbro.config import ConfigError, load_config
from tingbro.logs import setup_logging
from tingbro.sinks.base import SinkConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the bridge: ChirpStack events -> outbox -> sinks")
    parser.add_argument("--config", required=True, help="TOML file (see bridge/tingbro.example.toml)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    setup_logging(config.log_level, config.secrets)
    from tingbro.service import run as run_service  # after logging is set up; imports aiohttp, paho, protobuf

    try:
        run_service(config)
    except SinkConfigError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot start: {exc.strerror or exc}") from None
    return 0
