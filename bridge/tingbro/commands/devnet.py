"""`tingbro devnet`: the development network stand-in (NOT for production; production uses ChirpStack)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from tingbro.commands._hostport import parse_host_port


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "devnet", help="development/test stand-in for ChirpStack: GWMP, OTAA, events, gRPC (loopback only)")
    parser.add_argument("--devices", type=Path, help="device list from `tingbro provision` (JSON lines)")
    parser.add_argument("--udp-port", type=int, default=1700, help="GWMP (Semtech UDP) port (default 1700)")
    parser.add_argument("--grpc-port", type=int, default=8080, help="gRPC API port (default 8080; 0 = free port)")
    parser.add_argument("--http", metavar="URL", help="HTTP integration: POST events to URL?event=<name>")
    parser.add_argument("--http-token-env", metavar="NAME",
                        help="environment variable whose value is sent as the Authorization header")
    parser.add_argument("--mqtt", metavar="HOST:PORT", help="MQTT integration: publish events to this broker")
    parser.add_argument("--token-env", default="CHIRPSTACK_API_TOKEN", metavar="NAME",
                        help="environment variable with the API token gRPC clients must send")
    parser.add_argument("--info", type=Path, help="write ports and ids (JSON, no secrets) to this file when ready")
    parser.add_argument("--state-dir", type=Path, metavar="DIR",
                        help="keep devices, profiles and sessions in DIR/devnet-state.json (0600), so a restart "
                             "keeps every device joined (default: memory only)")
    parser.add_argument("--dev-status-interval", type=float, metavar="S",
                        help="ask every device's battery and margin (DevStatusReq -> status event) every S seconds "
                             "(default: the device profile's device_status_req_interval, times a day)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tingbro.cli import UsageError
    from tingbro.devnet.server import Devnet

    token = os.environ.get(args.token_env, "")
    if not token:
        raise UsageError(f"no API token: set the environment variable {args.token_env}")
    headers = {}
    if args.http_token_env:
        value = os.environ.get(args.http_token_env, "")
        if not value:
            raise UsageError(f"environment variable {args.http_token_env} is empty")
        headers["Authorization"] = value
    mqtt_host, mqtt_port = parse_host_port(args.mqtt, "--mqtt") if args.mqtt else (None, 1883)
    if args.devices is not None and not args.devices.is_file():
        raise UsageError(f"--devices {args.devices}: no such file")
    if args.dev_status_interval is not None and args.dev_status_interval <= 0:
        raise UsageError("--dev-status-interval must be > 0")
    try:
        devnet = Devnet(token, args.devices, args.udp_port, args.grpc_port, args.http, headers, mqtt_host, mqtt_port,
                        args.dev_status_interval, args.state_dir)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot open a port: {exc.strerror}") from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    info = devnet.info()
    if args.info:
        args.info.write_text(json.dumps(info))
    print("devnet ready (development stand-in, not ChirpStack): " + json.dumps(info), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        devnet.close()
        print("devnet stopped: " + json.dumps(devnet.stats()), file=sys.stderr, flush=True)
    return 0
