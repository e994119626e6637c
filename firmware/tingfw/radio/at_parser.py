"""Response tables for AT-command LoRaWAN modules (Wio-E5, RAK3172/RUI3). Pure: text in, events out.

Modules print more lines than any manual lists, in an order that varies by firmware, so a
line is classified by prefix against a table; unknown lines are ignored, never fatal.
Sources: firmware.md §4 (Seeed wiki/forum transcripts, RUI3 service_lora.c).
"""

import binascii

# Events
START = "start"
DONE = "done"
OK = "ok"
JOINED = "joined"
ALREADY_JOINED = "already joined"
JOIN_FAILED = "join failed"
ACK = "ack"
FPENDING = "frame pending"
NO_ACK = "no ack"
TX_DONE = "tx done"
NOT_JOINED = "not joined"
BUSY = "busy"
NO_BAND = "duty cycle"
NO_CHANNEL = "no free channel"
LENGTH = "payload too long"
ERROR = "error"

# Events that settle a command at once (no terminal line is known to follow them).
TERMINAL_ERRORS = (NOT_JOINED, BUSY, NO_BAND, NO_CHANNEL, LENGTH, ERROR)

# Wio-E5: lines are "+<CMD>: <text>"; tables match <text>. Longest-specific first.
WIO_JOIN = (
    ("Network joined", JOINED),
    ("Joined already", ALREADY_JOINED),
    ("Join failed", JOIN_FAILED),
    ("Done", DONE),
    ("Start", START),
    ("Not in OTAA mode", ERROR),
    ("LoRaWAN modem is busy", BUSY),
    ("No band", NO_BAND),
    ("ERROR", ERROR),
)
WIO_SEND = (
    ("Done", DONE),
    ("Start", START),
    ("ACK Received", ACK),
    ("FPENDING", FPENDING),
    ("Please join network first", NOT_JOINED),
    ("Length error", LENGTH),
    ("No free channel", NO_CHANNEL),
    ("No band", NO_BAND),
    ("LoRaWAN modem is busy", BUSY),
    ("DR error", ERROR),
    ("ERROR", ERROR),
)
WIO_SETTING = (("ERROR", ERROR),)

# RUI3: bare "OK"/"AT_*" answers, then "+EVT:" events for join and send.
RUI3_COMMAND = (
    ("OK", OK),
    ("AT_NO_NETWORK_JOINED", NOT_JOINED),
    ("AT_BUSY_ERROR", BUSY),
    ("AT_", ERROR),
)
RUI3_JOIN = (("+EVT:JOINED", JOINED), ("+EVT:JOIN_FAILED", JOIN_FAILED)) + RUI3_COMMAND
RUI3_SEND = (
    ("+EVT:TX_DONE", TX_DONE),
    ("+EVT:SEND_CONFIRMED_OK", ACK),
    ("+EVT:SEND_CONFIRMED_FAILED", NO_ACK),  # newer builds append "(<status>)"
) + RUI3_COMMAND

_WIO_DOWNLINK_PREFIXES = ("+MSG:", "+MSGHEX:", "+CMSG:", "+CMSGHEX:")


def classify(text, table):
    """The event of the first table entry whose prefix starts `text`, else None."""
    for prefix, event in table:
        if text.startswith(prefix):
            return event
    return None


def wio_body(line, command):
    """The text after '+<command>: ' (or after '+<command>:'), or None for another command's line."""
    head = "+" + command + ":"
    if not line.startswith(head):
        return None
    return line[len(head):].strip()


def _unhex(text):
    text = text.replace(" ", "")
    try:
        return binascii.unhexlify(text)
    except ValueError:
        return None


def parse_wio_downlink(line):
    """'+CMSGHEX: PORT: 15; RX: "48 65"' -> (15, b'He'); None if not a (valid) downlink line."""
    if not line.startswith(_WIO_DOWNLINK_PREFIXES):
        return None
    port_at = line.find("PORT:")
    rx_at = line.find('RX: "')
    if port_at < 0 or rx_at < port_at:
        return None
    end = line.find('"', rx_at + 5)
    if end < 0:
        return None
    try:
        fport = int(line[port_at + 5:line.find(";", port_at)].strip())
    except ValueError:
        return None
    payload = _unhex(line[rx_at + 5:end])
    if payload is None or not 0 <= fport <= 255:
        return None
    return fport, payload


def parse_rui3_downlink(line):
    """'+EVT:RX_1:-70:8:UNICAST:2:1234' -> (2, b'\\x124'); None if not a (valid) downlink line."""
    if not line.startswith("+EVT:RX_"):
        return None
    parts = line.split(":")
    if len(parts) < 7:
        return None
    try:
        fport = int(parts[5])
    except ValueError:
        return None
    payload = _unhex(parts[6].strip())
    if payload is None or not 0 <= fport <= 255:
        return None
    return fport, payload


def first_integers(text, count):
    """The first `count` integers in text ('+LW: ULDL, 12, 3' -> [12, 3]), fewer if absent."""
    found = []
    number = None
    for char in text + " ":
        if "0" <= char <= "9":
            number = (number or 0) * 10 + ord(char) - 48
        elif number is not None:
            found.append(number)
            number = None
            if len(found) == count:
                break
    return found
