"""Session state of a joined device and its compact binary encoding (for RTC memory and flash)."""

import struct

VERSION = 1
_HEAD = "<BI16s16sHIIIBBBHBBIHBHB"
_HEAD_SIZE = struct.calcsize(_HEAD)
_CHANNEL_SIZE = 7  # uplink freq/100 (3) | max DR << 4 | min DR (1) | downlink freq/100 (3), 0 = same as uplink
NO_FCNT = 0xFFFFFFFF  # no downlink accepted yet


class Session:
    """Keys, DevAddr, counters, and the MAC state the network configures (ADR, channels, RX)."""

    def __init__(self, region, dev_addr=0, nwk_s_key=bytes(16), app_s_key=bytes(16), dev_nonce=0):
        self.dev_addr = dev_addr
        self.nwk_s_key = nwk_s_key
        self.app_s_key = app_s_key
        self.dev_nonce = dev_nonce  # the join this session came from: links it to the nonce record
        self.fcnt_up = 0  # next uplink counter to use
        self.fcnt_up_limit = 0  # counters below this may have been used (reserved in flash)
        self.fcnt_down = NO_FCNT  # last accepted downlink counter
        self.dr = region.UPLINK_DR_MAX
        self.tx_power = 0
        self.nb_trans = 1
        self.rx1_dr_offset = 0
        self.rx2_dr = region.RX2_DR
        self.rx2_freq_hz = region.RX2_FREQ_HZ
        self.rx1_delay_ms = region.RX1_DELAY_MS
        self.max_dcycle = 0
        self.adr_ack_cnt = 0
        self.sticky = b""  # sticky MAC answers waiting for a downlink
        # channels[i] = [uplink Hz, min DR, max DR, downlink Hz (0 = uplink)] or None
        self.channels = [None] * region.MAX_CHANNELS
        for i, (freq_hz, min_dr, max_dr) in enumerate(region.DEFAULT_CHANNELS):
            self.channels[i] = [freq_hz, min_dr, max_dr, 0]
        self.ch_mask = (1 << len(region.DEFAULT_CHANNELS)) - 1

    def enabled_channels(self):
        return [i for i in range(len(self.channels)) if self.channels[i] and self.ch_mask >> i & 1]


def _put3(buf, at, value):
    buf[at] = value & 0xFF
    buf[at + 1] = (value >> 8) & 0xFF
    buf[at + 2] = (value >> 16) & 0xFF


def _get3(buf, at):
    return buf[at] | buf[at + 1] << 8 | buf[at + 2] << 16


def encode(session):
    count = len(session.channels)  # only up to the last defined channel: a smaller record, less flash wear
    while count and session.channels[count - 1] is None:
        count -= 1
    buf = bytearray(_HEAD_SIZE + count * _CHANNEL_SIZE + 1 + len(session.sticky))
    struct.pack_into(
        _HEAD, buf, 0, VERSION, session.dev_addr, session.nwk_s_key, session.app_s_key, session.dev_nonce,
        session.fcnt_up, session.fcnt_up_limit, session.fcnt_down, session.dr, session.tx_power, session.nb_trans,
        session.ch_mask, session.rx1_dr_offset, session.rx2_dr, session.rx2_freq_hz, session.rx1_delay_ms,
        session.max_dcycle, session.adr_ack_cnt, count)
    at = _HEAD_SIZE
    for i in range(count):
        channel = session.channels[i]
        if channel:
            _put3(buf, at, channel[0] // 100)
            buf[at + 3] = channel[2] << 4 | channel[1]
            _put3(buf, at + 4, channel[3] // 100)
        at += _CHANNEL_SIZE
    buf[at] = len(session.sticky)
    buf[at + 1 :] = session.sticky
    return bytes(buf)


def decode(region, data):
    """A Session from encode()'s bytes; ValueError if the layout does not match."""
    if len(data) < _HEAD_SIZE or data[0] != VERSION:
        raise ValueError("unknown session record")
    fields = struct.unpack_from(_HEAD, data, 0)
    session = Session(region, fields[1], fields[2], fields[3], fields[4])
    (session.fcnt_up, session.fcnt_up_limit, session.fcnt_down, session.dr, session.tx_power, session.nb_trans,
     session.ch_mask, session.rx1_dr_offset, session.rx2_dr, session.rx2_freq_hz, session.rx1_delay_ms,
     session.max_dcycle, session.adr_ack_cnt) = fields[5:18]
    count = fields[18]
    at = _HEAD_SIZE
    if count > len(session.channels) or len(data) < at + count * _CHANNEL_SIZE + 1:
        raise ValueError("session record has the wrong channel count")
    for i in range(count):
        freq_hz = _get3(data, at) * 100
        session.channels[i] = [freq_hz, data[at + 3] & 0x0F, data[at + 3] >> 4, _get3(data, at + 4) * 100] \
            if freq_hz else None
        at += _CHANNEL_SIZE
    session.sticky = bytes(data[at + 1 : at + 1 + data[at]])
    return session
