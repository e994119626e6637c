"""LoRaWAN 1.0.x frame layout: MHDR, FHDR (DevAddr, FCtrl, FCnt, FOpts), FPort, FRMPayload, MIC,
and the join-request / join-accept frames. Multi-byte fields are little-endian on air; EUIs
are given the way people write them (big-endian) and reversed for the wire.
"""

from lorawan.crypto import crypt_payload, data_mic, decrypt_join_accept, join_mic, mic_matches
from lorawan.errors import FrameError, MicError

JOIN_REQUEST = 0x00
JOIN_ACCEPT = 0x20
UNCONFIRMED_UP = 0x40
UNCONFIRMED_DOWN = 0x60
CONFIRMED_UP = 0x80
CONFIRMED_DOWN = 0xA0
MTYPE_MASK = 0xE0

FCTRL_ADR = 0x80
FCTRL_ADR_ACK_REQ = 0x40  # uplink only
FCTRL_ACK = 0x20
FCTRL_FPENDING = 0x10  # downlink only
FOPTS_MAX = 15


def put_le(buf, at, value, size):
    for i in range(size):
        buf[at + i] = (value >> (8 * i)) & 0xFF


def get_le(buf, at, size):
    value = 0
    for i in range(size - 1, -1, -1):
        value = (value << 8) | buf[at + i]
    return value


def _copy(buf, at, data):
    for i in range(len(data)):
        buf[at + i] = data[i]
    return at + len(data)


def build_data(nwk_key, app_key, direction, mhdr, dev_addr, fctrl, fcnt, fopts, fport, payload):
    """A complete, encrypted and MIC'd data frame (bytearray). fport None = no FPort/FRMPayload."""
    fopts_len = len(fopts)
    if fopts_len > FOPTS_MAX:
        raise FrameError("FOpts longer than 15 bytes")
    if fport is None and len(payload):
        raise FrameError("a payload needs an FPort")
    if fport == 0 and fopts_len:
        raise FrameError("MAC commands go in FOpts or on FPort 0, never both")
    size = 8 + fopts_len + (0 if fport is None else 1 + len(payload)) + 4
    buf = bytearray(size)
    buf[0] = mhdr
    put_le(buf, 1, dev_addr, 4)
    buf[5] = (fctrl & 0xF0) | fopts_len
    put_le(buf, 6, fcnt & 0xFFFF, 2)
    pos = _copy(buf, 8, fopts)
    if fport is not None:
        buf[pos] = fport
        start = pos + 1
        pos = _copy(buf, start, payload)
        crypt_payload(nwk_key if fport == 0 else app_key, direction, dev_addr, fcnt, buf, start, pos)
    mac = data_mic(nwk_key, direction, dev_addr, fcnt, buf, 0, pos)
    for i in range(4):
        buf[pos + i] = mac[i]
    return buf


def recover_fcnt(last_fcnt, fcnt16):
    """The 32-bit counter closest above last_fcnt whose low 16 bits are fcnt16 (equal allowed)."""
    if last_fcnt is None:
        return fcnt16
    candidate = (last_fcnt & 0xFFFF0000) | fcnt16
    if candidate < last_fcnt:
        candidate += 0x10000
    return candidate & 0xFFFFFFFF


class DataFrame:
    """The plaintext header fields of a data frame; the payload stays encrypted until `open_data`."""

    def __init__(self, phy):
        length = len(phy)
        if length < 12:
            raise FrameError("data frame shorter than 12 bytes")
        self.mhdr = phy[0]
        self.mtype = phy[0] & MTYPE_MASK
        if self.mtype not in (UNCONFIRMED_UP, UNCONFIRMED_DOWN, CONFIRMED_UP, CONFIRMED_DOWN) or phy[0] & 0x03:
            raise FrameError("not a LoRaWAN R1 data frame")
        self.dev_addr = get_le(phy, 1, 4)
        self.fctrl = phy[5]
        self.fcnt16 = get_le(phy, 6, 2)
        fopts_len = phy[5] & 0x0F
        self.fopts_end = 8 + fopts_len
        self.mic_at = length - 4
        if self.fopts_end > self.mic_at:
            raise FrameError("FOptsLen runs past the MIC")
        if self.fopts_end == self.mic_at:
            self.fport = None
            self.payload_start = self.mic_at
        else:
            self.fport = phy[self.fopts_end]
            self.payload_start = self.fopts_end + 1
        if self.fport == 0 and fopts_len:
            raise FrameError("MAC commands in FOpts and on FPort 0")
        self.confirmed = self.mtype in (CONFIRMED_UP, CONFIRMED_DOWN)
        self.uplink = self.mtype in (UNCONFIRMED_UP, CONFIRMED_UP)

    def fopts(self, phy):
        return bytes(phy[8 : self.fopts_end])


def open_data(frame, phy, nwk_key, app_key, fcnt32):
    """Verify the MIC at the full 32-bit counter and return the decrypted FRMPayload (bytearray)."""
    direction = 0 if frame.uplink else 1
    mac = data_mic(nwk_key, direction, frame.dev_addr, fcnt32, phy, 0, frame.mic_at)
    if not mic_matches(mac, phy, frame.mic_at):
        raise MicError("MIC check failed")
    payload = bytearray(phy[frame.payload_start : frame.mic_at])
    key = nwk_key if frame.fport == 0 else app_key
    crypt_payload(key, direction, frame.dev_addr, fcnt32, payload, 0, len(payload))
    return payload


def _put_eui(buf, at, eui):
    if len(eui) != 8:
        raise ValueError("an EUI is 8 bytes")
    for i in range(8):
        buf[at + i] = eui[7 - i]


def _get_eui(buf, at):
    return bytes(buf[at + 7 - i] for i in range(8))


def build_join_request(app_key, join_eui, dev_eui, dev_nonce):
    """MHDR | JoinEUI | DevEUI | DevNonce | MIC (23 bytes). app_key is a CmacKey."""
    buf = bytearray(23)
    buf[0] = JOIN_REQUEST
    _put_eui(buf, 1, join_eui)
    _put_eui(buf, 9, dev_eui)
    put_le(buf, 17, dev_nonce, 2)
    mac = join_mic(app_key, buf, 19)
    for i in range(4):
        buf[19 + i] = mac[i]
    return buf


def parse_join_request(app_key, phy):
    """(join_eui, dev_eui, dev_nonce) of a join-request whose MIC verifies; MicError otherwise."""
    if len(phy) != 23 or phy[0] != JOIN_REQUEST:
        raise FrameError("not a join-request")
    if not mic_matches(join_mic(app_key, phy, 19), phy, 19):
        raise MicError("join-request MIC check failed")
    return _get_eui(phy, 1), _get_eui(phy, 9), get_le(phy, 17, 2)


class JoinAccept:
    """Fields of a decrypted, MIC-verified join-accept."""

    def __init__(self, plain):
        self.join_nonce = get_le(plain, 1, 3)
        self.net_id = get_le(plain, 4, 3)
        self.dev_addr = get_le(plain, 7, 4)
        self.rx1_dr_offset = (plain[11] >> 4) & 0x07
        self.rx2_dr = plain[11] & 0x0F
        self.rx_delay_s = (plain[12] & 0x0F) or 1
        self.cflist = bytes(plain[13:29]) if len(plain) == 33 else None


def parse_join_accept(app_key, wire):
    """Decrypt and verify a join-accept; MicError/FrameError if it is not one for this AppKey."""
    if len(wire) not in (17, 33) or wire[0] != JOIN_ACCEPT:
        raise FrameError("not a join-accept")
    plain = decrypt_join_accept(app_key, wire)
    mic_at = len(plain) - 4
    if not mic_matches(join_mic(app_key, plain, mic_at), plain, mic_at):
        raise MicError("join-accept MIC check failed")
    return JoinAccept(plain)
