"""HOST:PORT arguments, restricted to loopback where the tool must only talk to this machine."""

from __future__ import annotations


def parse_host_port(text: str, option: str) -> tuple[str, int]:
    from tingbro.cli import UsageError

    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option} {text!r}: expected HOST:PORT")
    return host, int(port)
