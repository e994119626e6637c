"""`tingbro version`: print versions of Tingbro and the runtimes it relies on."""

from __future__ import annotations

import argparse
import platform

from tingbro import __version__


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("version", help="print version information")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(f"tingbro {__version__} (Python {platform.python_version()})")
    return 0
