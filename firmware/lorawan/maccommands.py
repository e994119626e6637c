"""LoRaWAN 1.0.4 MAC commands as data: CIDs, payload lengths per direction, and small codecs.

A command on the wire is CID followed by a fixed-length payload; an unknown CID ends parsing
because its length is unknown (the spec's rule).
"""

LINK_CHECK = 0x02
LINK_ADR = 0x03
DUTY_CYCLE = 0x04
RX_PARAM_SETUP = 0x05
DEV_STATUS = 0x06
NEW_CHANNEL = 0x07
RX_TIMING_SETUP = 0x08
TX_PARAM_SETUP = 0x09
DL_CHANNEL = 0x0A
DEVICE_TIME = 0x0D

# payload length of what the network sends (Req, or LinkCheckAns/DeviceTimeAns)
DOWN_LENGTH = {LINK_CHECK: 2, LINK_ADR: 4, DUTY_CYCLE: 1, RX_PARAM_SETUP: 4, DEV_STATUS: 0, NEW_CHANNEL: 5,
               RX_TIMING_SETUP: 1, TX_PARAM_SETUP: 1, DL_CHANNEL: 4, DEVICE_TIME: 5}
# payload length of what the device sends (Ans, or LinkCheckReq/DeviceTimeReq)
UP_LENGTH = {LINK_CHECK: 0, LINK_ADR: 1, DUTY_CYCLE: 0, RX_PARAM_SETUP: 1, DEV_STATUS: 2, NEW_CHANNEL: 1,
             RX_TIMING_SETUP: 0, TX_PARAM_SETUP: 0, DL_CHANNEL: 1, DEVICE_TIME: 0}
# answers repeated in every uplink until a Class A downlink arrives
STICKY = (RX_PARAM_SETUP, RX_TIMING_SETUP, DL_CHANNEL)


def split(data, lengths):
    """[(cid, payload bytes)] of a command sequence; stops at an unknown CID or a short payload."""
    commands = []
    pos = 0
    end = len(data)
    while pos < end:
        cid = data[pos]
        size = lengths.get(cid)
        if size is None or pos + 1 + size > end:
            break
        commands.append((cid, bytes(data[pos + 1 : pos + 1 + size])))
        pos += 1 + size
    return commands


def join(commands):
    """The wire bytes of [(cid, payload)]."""
    out = bytearray()
    for cid, payload in commands:
        out.append(cid)
        out.extend(payload)
    return bytes(out)


def freq_from(payload, at):
    """A 3-byte little-endian frequency in 100 Hz units, in Hz."""
    return (payload[at] | payload[at + 1] << 8 | payload[at + 2] << 16) * 100


def freq_bytes(freq_hz):
    value = freq_hz // 100
    return bytes((value & 0xFF, (value >> 8) & 0xFF, value >> 16))


# --- network side encoders (tests, devnet) -----------------------------------------------------

def link_adr_req(dr, tx_power, ch_mask, ch_mask_cntl=0, nb_trans=1):
    return bytes((LINK_ADR, (dr << 4) | tx_power, ch_mask & 0xFF, ch_mask >> 8, (ch_mask_cntl << 4) | nb_trans))


def rx_param_setup_req(rx1_dr_offset, rx2_dr, freq_hz):
    return bytes((RX_PARAM_SETUP, (rx1_dr_offset << 4) | rx2_dr)) + freq_bytes(freq_hz)


def new_channel_req(index, freq_hz, min_dr, max_dr):
    return bytes((NEW_CHANNEL, index)) + freq_bytes(freq_hz) + bytes(((max_dr << 4) | min_dr,))


def dl_channel_req(index, freq_hz):
    return bytes((DL_CHANNEL, index)) + freq_bytes(freq_hz)


def device_time_ans(gps_ms):
    seconds = gps_ms // 1000
    fraction = (gps_ms % 1000) * 256 // 1000
    return bytes((DEVICE_TIME, seconds & 0xFF, (seconds >> 8) & 0xFF, (seconds >> 16) & 0xFF, seconds >> 24, fraction))
