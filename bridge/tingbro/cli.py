"""The `tingbro` command line.

Each subcommand lives in its own module under `tingbro.commands` and exposes
`register(subparsers)`; the parser is assembled from whatever modules are there,
so adding a command never touches this file.

Errors a user can fix raise `UsageError`: they print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from tingbro import __version__, commands


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tingbro",
        description="Tingbro: LoRaWAN sensors on municipal assets (codecs, firmware tools, bridge).",
    )
    parser.add_argument("--version", action="version", version=f"tingbro {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result = handler(args)
    except UsageError as exc:
        print(f"tingbro {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
