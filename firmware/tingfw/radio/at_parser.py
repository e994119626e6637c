"""Response tables for AT-command LoRaWAN modules (Wio-E5, RAK3172/RUI3). Pure: text in, events out.

Modules print more lines than any manual lists, in an order that varies by firmware, so a
line is classified by prefix against a table; unknown lines are ignored, never fatal.
Sources: firmware.md §4 (Seeed wiki/forum transcripts, RUI3 service_lora.c); for network time the
LoRa-E5 AT Command Specification v1.0 (AT+LW=DTR, AT+RTC) and the RAK3172 AT Command Manual
(AT+TIMEREQ, AT+LTIME), cited where they are used.
"""

import binascii

from tingfw.localtime import GPS_EPOCH_UNIX_S, GPS_UTC_LEAP_S, days_from_civil

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
RX_WINDOW = "rx window"  # a downlink arrived in RX1/RX2 (Wio-E5 'RXWIN1, RSSI ..., SNR ...')
TIME_OK = "time ok"
TIME_FAILED = "time failed"

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
    ("RXWIN", RX_WINDOW),
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

# RUI3 prints the DeviceTimeAns outcome as its own event, during or after the uplink's events:
# '+EVT:TIMEREQ_OK' in service_lora.c, '+EVT: TIMEREQ OK' in the RAK3172 AT manual's example.
RUI3_TIME_EVENTS = (
    ("+EVT:TIMEREQ_OK", TIME_OK),
    ("+EVT:TIMEREQ OK", TIME_OK),
    ("+EVT: TIMEREQ OK", TIME_OK),
    ("+EVT:TIMEREQ", TIME_FAILED),  # _FAILED and anything else: no time this round
    ("+EVT: TIMEREQ", TIME_FAILED),
)

# A network time older than this is a module clock that was never set (their RTCs boot at 2000
# or 2020): GPS seconds of 2024-01-01 00:00:00 UTC.
MIN_GPS_S = 1388102418

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


def gps_from_utc(year, month, day, hour, minute, second):
    """GPS epoch seconds of a UTC calendar time; None if a field is out of range or the time
    is before MIN_GPS_S (an unset module clock)."""
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    unix_s = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return _plausible(unix_s - GPS_EPOCH_UNIX_S + GPS_UTC_LEAP_S)


def _plausible(gps_s):
    return gps_s if gps_s is not None and gps_s >= MIN_GPS_S else None


def _numbers(text):
    """Every run of digits in text as an integer ('2026-11-23 11:56' -> [2026, 11, 23, 11, 56])."""
    return first_integers(text, 99)


def parse_wio_rtc(body):
    """The text after '+RTC:' of Wio-E5 'AT+RTC=FULL' -> GPS epoch seconds, or None.

    The reply is '<YYYY-MM-DD HH:MM:SS><zone>, <GPS seconds>, <age>' (the GPS seconds field as read
    by EnviroDIY/LoRa_AT's WioE5 driver; the LoRa-E5 AT Command Specification v1.0 lists AT+RTC and
    AT+LW=DTR). Without a seconds field the calendar text is used, shifted by its zone."""
    fields = body.split(",")
    if len(fields) >= 2 and fields[1].strip().isdigit():
        return _plausible(int(fields[1].strip()))
    text = fields[0].strip()
    numbers = _numbers(text)
    if len(numbers) < 6 or text[4:5] != "-":
        return None
    gps_s = gps_from_utc(numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
    zone_at = max(text.rfind("+"), text.rfind("-"))
    if gps_s is not None and zone_at > 10 and len(numbers) >= 8:  # '+01:00' after the time: local -> UTC
        offset_s = numbers[-2] * 3600 + numbers[-1] * 60
        gps_s -= offset_s if text[zone_at] == "+" else -offset_s
    return gps_s


def parse_rui3_ltime(line, day_first=True):
    """RUI3 'AT+LTIME=?' reply -> GPS epoch seconds, or None. Seen formats (UTC):
    'LTIME:02h46m12s on 22/10/2021' (RAK3172 AT manual, day first), 'AT+LTIME=15h08m55s on 08/17/2026'
    (a field report, month first), 'LTIME: 00h37m58s 2018-11-14' (RUI3 source comment). A slashed
    date is read day-first unless a field over 12 says otherwise; `day_first` settles 01/02."""
    at = line.find("LTIME")
    h_at = line.find("h", at)
    if at < 0 or h_at < 0:
        return None
    clock = line[at + 5:h_at + 7]
    if len(clock) < 9 or clock[-4] != "m" or clock[-1] != "s":
        return None
    time_fields = _numbers(clock)
    date = line[h_at + 7:].replace("on", " ")
    date_fields = _numbers(date)
    if len(time_fields) != 3 or len(date_fields) != 3:
        return None
    if "-" in date:
        year, month, day = date_fields
    else:
        first, second, year = date_fields
        month_first = first <= 12 and (second > 12 or not day_first)
        day, month = (second, first) if month_first else (first, second)
    return gps_from_utc(year, month, day, time_fields[0], time_fields[1], time_fields[2])
