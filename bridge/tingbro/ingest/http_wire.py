"""HTTP/1.1 wire format for the lean ingest front: a conservative request-head parser and response bytes.

Pure functions over bytes. The parser accepts only the plain form ChirpStack sends (`POST <path>?query
HTTP/1.1` with CRLF lines, token header names, a decimal Content-Length); for anything else it returns None
and the front hands the connection, bytes untouched, to aiohttp, whose full parser answers it. It never
guesses at framing: a request it accepts is framed exactly as aiohttp would frame it.
"""

from __future__ import annotations

import re
from email.utils import formatdate
from urllib.parse import parse_qsl

MAX_HEAD_BYTES = 8190     # a longer head goes to aiohttp, whose line limit is this (it answers 400 over it)
MAX_HEADER_LINES = 100
MAX_LENGTH_DIGITS = 15

# The request target: visible ASCII only (no spaces, controls or bytes >= 0x80).
_TARGET = re.compile(rb"[\x21-\x7e]+\Z").match
# Every header line, each preceded by CRLF: a token name, a colon, a value of tab/visible/obs-text bytes (no CR,
# LF, NUL or other controls). An obs-folded line or whitespace before the colon does not match: aiohttp decides.
_HEADER_LINES = re.compile(rb"(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*)*\Z").match
# Headers (lower case, after CRLF) whose presence means a request this parser does not serve.
_HANDED_OVER = re.compile(rb"\r\n(?:transfer-encoding|expect|upgrade|te|content-encoding):").search
# aiohttp's SINGLETON_HEADERS: it refuses a request that repeats one (400), so such a request is its to answer.
_SINGLETONS = tuple(b"\r\n" + name + b":" for name in (
    b"content-length", b"content-location", b"content-range", b"content-type", b"etag", b"host", b"max-forwards",
    b"server", b"transfer-encoding", b"user-agent"))


class Ambiguous(ValueError):
    """A header this parser reads occurs twice: aiohttp decides what that means."""

REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 408: b"Request Timeout",
           413: b"Payload Too Large", 415: b"Unsupported Media Type", 500: b"Internal Server Error",
           503: b"Service Unavailable"}


class RequestHead:
    """A parsed ingest request head."""

    __slots__ = ("keep_alive", "http10", "content_length", "token", "content_type", "event_name")

    def __init__(self, keep_alive: bool, http10: bool, content_length: int, token: bytes | None,
                 content_type: str | None, event_name: str) -> None:
        self.keep_alive, self.http10 = keep_alive, http10
        self.content_length, self.token = content_length, token
        self.content_type, self.event_name = content_type, event_name


def parse_head(data: bytes, path: bytes, token_header: bytes) -> RequestHead | None:
    """`data` is one request head without its final CRLFCRLF; `token_header` is the header name in lower case.

    None: not an ingest request this parser serves (another path or method, or anything unusual)."""
    line_end = data.find(b"\r\n")
    if line_end < 0:
        line_end = len(data)
    request_line = data[:line_end]
    if request_line[-9:] == b" HTTP/1.1":
        http10 = False
    elif request_line[-9:] == b" HTTP/1.0":
        http10 = True
    else:
        return None
    target = request_line[5:-9]
    if request_line[:5] != b"POST " or not _TARGET(target):
        return None
    target_path, _, query = target.partition(b"?")
    if target_path != path or b"#" in query:
        return None
    fields = data[line_end:]
    if not _HEADER_LINES(fields) or fields.count(b"\r\n") > MAX_HEADER_LINES:
        return None
    lowered = fields.lower()
    if _HANDED_OVER(lowered) or (not http10 and b"\r\nhost:" not in lowered):
        return None  # aiohttp answers HTTP/1.1 without Host with 400
    if any(lowered.count(name) > 1 for name in _SINGLETONS):
        return None
    try:
        length = header(fields, lowered, b"\r\ncontent-length:")
        token = header(fields, lowered, b"\r\n" + token_header + b":")
        content_type = header(fields, lowered, b"\r\ncontent-type:")
    except Ambiguous:
        return None  # two lengths are an error; for two tokens aiohttp's rules pick, as they always did
    if length is not None and (not length.isdigit() or len(length) > MAX_LENGTH_DIGITS):
        return None
    keep_alive = not http10
    if b"\r\nconnection:" in lowered:
        options = connection_options(lowered)
        if b"upgrade" in options:
            return None
        keep_alive = b"close" not in options and (not http10 or b"keep-alive" in options)
    return RequestHead(keep_alive, http10, int(length) if length else 0, token,
                       None if content_type is None else content_type.decode("utf-8", "surrogateescape"),
                       event_name(query))


def header(fields: bytes, lowered: bytes, needle: bytes) -> bytes | None:
    """The value of the header `needle` (CRLF + lower-case name + colon), None if absent; Ambiguous if twice."""
    start = lowered.find(needle)
    if start < 0:
        return None
    if lowered.find(needle, start + 2) >= 0:
        raise Ambiguous(needle.decode("ascii").strip())
    start += len(needle)
    end = fields.find(b"\r\n", start)
    return fields[start:end if end >= 0 else len(fields)].strip(b" \t")


def connection_options(lowered: bytes) -> set[bytes]:
    """Every comma-separated option of every Connection header."""
    options: set[bytes] = set()
    needle = b"\r\nconnection:"
    start = lowered.find(needle)
    while start >= 0:
        end = lowered.find(b"\r\n", start + 2)
        line = lowered[start + len(needle):end if end >= 0 else len(lowered)]
        options.update(option.strip(b" \t") for option in line.split(b","))
        start = lowered.find(needle, start + 2)
    return options


def event_name(query: bytes) -> str:
    """The first `event` query parameter ("" if none), decoded as aiohttp's request.query would."""
    if query[:6] == b"event=" and b"&" not in query and b"%" not in query and b"+" not in query:
        return query[6:].decode("ascii")  # the usual `?event=up`
    if b"%" in query or b"+" in query:
        for key, value in parse_qsl(query.decode("ascii"), keep_blank_values=True):
            if key == "event":
                return value
        return ""
    for pair in query.split(b"&"):
        if pair[:6] == b"event=":
            return pair[6:].decode("ascii")
        if pair == b"event":
            return ""
    return ""


def has_bare_newline(data: bytes | bytearray) -> bool:
    """A LF without CR before it: not the CRLF framing this parser serves."""
    return data.count(b"\n") != data.count(b"\r\n")


def http_date(now: float) -> bytes:
    return formatdate(now, usegmt=True).encode("ascii")


def response(status: int, body: bytes, keep_alive: bool, http10: bool, date: bytes) -> bytes:
    if not keep_alive:
        connection = b"Connection: close\r\n"
    elif http10:
        connection = b"Connection: keep-alive\r\n"
    else:
        connection = b""
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nDate: %s\r\n%s\r\n%s" % (
        status, REASONS.get(status, b"Unknown"), len(body), date, connection, body)
