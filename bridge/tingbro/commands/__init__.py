"""Subcommands of `tingbro`: one module per command, each with `register(subparsers)`.

A module sets `handler=` on its subparser with `set_defaults`; the handler takes the
parsed args and returns an exit code (or None for 0). See `tingbro.cli`.
"""
