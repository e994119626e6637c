"""`tingbro check-config --config FILE`: validate the file, the secrets' variables and every sink's options."""

from __future__ import annotations

import argparse

from tingbro.cli import UsageError
from tingbro.config import ConfigError, load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check-config", help="validate a bridge configuration file")
    parser.add_argument("--config", required=True, help="TOML file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tingbro.service import build_sinks
    from tingbro.sinks.base import SinkConfigError

    try:
        config = load_config(args.config)
        sinks = build_sinks(config)
    except (ConfigError, SinkConfigError) as exc:
        raise UsageError(str(exc)) from None
    ingests = [name for name, on in (("http", config.http.enabled), ("mqtt", config.mqtt.enabled)) if on]
    print(f"config OK: outbox {config.storage.path}; ingest {', '.join(ingests)}; "
          f"sinks {', '.join(f'{sink.name} ({sink.kind})' for sink in sinks)}")
    return 0
