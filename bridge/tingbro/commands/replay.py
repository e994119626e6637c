"""`tingbro replay`: re-send dead letters, or every event received in a time range."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from tingbro.cli import UsageError
from tingbro.config import ConfigError, load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replay", help="re-send dead letters or a time range of events")
    parser.add_argument("--config", required=True, help="the bridge's TOML file (for the outbox path)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--dead-letters", action="store_true", help="re-send dead letters not yet replayed")
    what.add_argument("--since", help="re-send events received from this RFC 3339 time (UTC if no offset)")
    parser.add_argument("--until", help="with --since: up to this time (default now)")
    parser.add_argument("--sink", help="only for this sink (default: the dead letter's sink, or all sinks)")
    parser.add_argument("--id", type=int, action="append", dest="ids", help="only this dead letter (repeatable)")
    parser.add_argument("--include-replayed", action="store_true", help="also dead letters replayed before")
    parser.set_defaults(handler=run)


def parse_time(text: str, option: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an RFC 3339 time like 2026-11-23T09:00:00+00:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    sink_names = [entry.name for entry in config.sinks]
    if args.sink and args.sink not in sink_names:
        raise UsageError(f"no sink named {args.sink!r} in the config (have: {', '.join(sink_names)})")
    if not config.storage.path.exists():
        raise UsageError(f"outbox {config.storage.path} does not exist")
    from tingbro.codec import tingcodec_decode
    from tingbro.ingest.intake import Intake
    from tingbro.metrics import Metrics
    from tingbro.replay import replay_dead_letters, replay_range
    from tingbro.store import Store

    store = Store(config.storage.path, config.storage.synchronous)
    try:
        if args.dead_letters:
            intake = Intake(tingcodec_decode, config.decode, Metrics())
            queued, failing = replay_dead_letters(store, intake, args.sink, args.ids, args.include_replayed)
            for letter_id, reason in failing:
                print(f"dead letter {letter_id} still fails: {reason}")
            print(f"queued {queued} events from dead letters; {len(failing)} still failing")
        else:
            since = parse_time(args.since, "--since")
            until = parse_time(args.until, "--until") if args.until else datetime.now(UTC).timestamp()
            if until < since:
                raise UsageError("--until is before --since")
            queued = replay_range(store, since, until, args.sink)
            print(f"queued {queued} events for {args.sink or 'all sinks'}")
    finally:
        store.close()
    return 0
