"""Command-line options for reaching ChirpStack, shared by `provision` and `send`.

The API token is read from an environment variable (never a command-line argument, which other
users could see in the process list).
"""

from __future__ import annotations

import argparse
import os

from tingbro.chirpstack.client import ChirpStackClient

DEFAULT_TOKEN_ENV = "CHIRPSTACK_API_TOKEN"


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ChirpStack connection")
    group.add_argument("--server", default=os.environ.get("CHIRPSTACK_SERVER", "127.0.0.1:8080"),
                       help="ChirpStack gRPC host:port (env CHIRPSTACK_SERVER; default 127.0.0.1:8080)")
    group.add_argument("--token-env", default=DEFAULT_TOKEN_ENV, metavar="NAME",
                       help=f"environment variable holding the API token (default {DEFAULT_TOKEN_ENV})")
    group.add_argument("--tls", action="store_true", help="use TLS (a TLS proxy in front of ChirpStack)")
    group.add_argument("--ca-file", help="PEM root certificates for --tls (default: system roots)")
    group.add_argument("--timeout", type=float, default=10.0, metavar="S", help="deadline per call (default 10)")
    group.add_argument("--application-id", default=os.environ.get("CHIRPSTACK_APPLICATION_ID"),
                       help="ChirpStack application UUID (env CHIRPSTACK_APPLICATION_ID)")


def client_from_args(args: argparse.Namespace) -> ChirpStackClient:
    from tingbro.cli import UsageError

    token = os.environ.get(args.token_env, "")
    if not token:
        raise UsageError(f"no ChirpStack API token: set the environment variable {args.token_env}")
    root_certificates = None
    if args.ca_file:
        try:
            with open(args.ca_file, "rb") as handle:
                root_certificates = handle.read()
        except OSError as exc:
            raise UsageError(f"cannot read --ca-file {args.ca_file}: {exc.strerror}") from None
    return ChirpStackClient(args.server, token, tls=args.tls, root_certificates=root_certificates,
                            timeout_s=args.timeout)
