"""`tingbro simulate`: run every device of a device list with the real firmware under MicroPython."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

from tingbro.commands._hostport import parse_host_port


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="run a device list's devices (real firmware, MicroPython unix port) over a virtual radio")
    parser.add_argument("--devices", type=Path, required=True, help="device list from `tingbro provision`")
    parser.add_argument("--gateway", required=True, metavar="HOST:PORT",
                        help="GWMP (Semtech UDP) server, e.g. 127.0.0.1:1700 (devnet or a Gateway Bridge)")
    parser.add_argument("--time-scale", type=float, default=1.0, metavar="X",
                        help="run sleeps X times faster (receive windows stay real-time); default 1")
    parser.add_argument("--duration", type=float, default=0.0, metavar="S",
                        help="stop after S wall-clock seconds (default: until Ctrl-C)")
    parser.add_argument("--work-dir", type=Path, help="device state and logs (default: a temporary folder)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tingbro.cli import UsageError
    from tingbro.simulate.fleet import Fleet, read_device_list

    host, port = parse_host_port(args.gateway, "--gateway")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise UsageError(f"--gateway {args.gateway}: the simulation only talks to loopback (127.0.0.1)")
    if args.time_scale < 1:
        raise UsageError("--time-scale must be >= 1")
    try:
        entries = read_device_list(args.devices)
    except OSError as exc:
        raise UsageError(f"--devices {args.devices}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not entries:
        raise UsageError(f"--devices {args.devices}: no devices")
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="tingbro-simulate-"))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    fleet = Fleet(entries, ("127.0.0.1", port), work_dir, args.time_scale)
    try:
        fleet.start()
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    print(f"simulating {len(fleet.devices)} devices (sleeps x{args.time_scale:g}); state and logs in {work_dir}",
          file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        while not stopping and (not args.duration or time.monotonic() - started < args.duration):
            time.sleep(0.2)
            if fleet.running() == 0:
                break
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
    failed = [d.name for d in fleet.devices if d.process is not None and d.process.returncode not in (0, -15, None)]
    for name in failed:
        print(f"device {name} stopped with an error (see its device.log)", file=sys.stderr)
    print(f"simulation ended after {time.monotonic() - started:.0f} s; logs in {work_dir}/devices/*/device.log")
    return 1 if failed else 0
