"""`tingbro demo` (= `make demo`): a simulated fleet, devnet, the bridge and a webhook, on loopback."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the whole chain on this machine (devnet, bridge, a fleet)")
    parser.add_argument("--bins", type=int, default=20, help="fill-level sensors (default 20)")
    parser.add_argument("--buoys", type=int, default=5, help="lifebuoys (default 5)")
    parser.add_argument("--lights", type=int, default=5, help="streetlights (default 5)")
    parser.add_argument("--duration", type=float, default=100.0, metavar="S", help="wall seconds (default 100)")
    parser.add_argument("--forever", action="store_true", help="run until Ctrl-C")
    parser.add_argument("--time-scale", type=float, default=2000.0, metavar="X",
                        help="device sleeps run X times faster (default 2000)")
    parser.add_argument("--work-dir", type=Path, default=Path("build/demo"),
                        help="where the SQLite store, logs and report stay (default build/demo; emptied first)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tingbro.cli import UsageError
    from tingbro.demo.runner import Demo

    if min(args.bins, args.buoys, args.lights) < 0 or args.bins + args.buoys + args.lights == 0:
        raise UsageError("--bins/--buoys/--lights must be >= 0 and not all 0")
    if args.time_scale < 1 or args.duration <= 0:
        raise UsageError("--time-scale must be >= 1 and --duration > 0")

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    demo = Demo(args.work_dir, args.bins, args.buoys, args.lights, args.time_scale)
    try:
        demo.run(args.duration, args.forever)
    except KeyboardInterrupt:
        print("interrupted: stopping everything", file=sys.stderr)
        return 130
    except (RuntimeError, OSError) as exc:
        print(f"tingbro demo: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.close()
    print(f"done. SQLite store, logs and report in {args.work_dir}/ (report.md, outbox.sqlite3)")
    return 0
