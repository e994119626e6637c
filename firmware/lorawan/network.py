"""The network side of LoRaWAN 1.0.x as pure functions: accept a join-request, build the
join-accept, open (verify + decrypt) an uplink with 32-bit FCnt recovery, build a downlink.

Used by the tests and by the development network server. Keys are `CmacKey` objects made
with `cmac_key(aes, key_bytes)`; counters are the full 32-bit values.
"""

from lorawan.cmac import CmacKey
from lorawan.crypto import DOWNLINK, derive_session_keys, join_mic
from lorawan.errors import FrameError
from lorawan.frame import (
    CONFIRMED_DOWN,
    FCTRL_ACK,
    FCTRL_ADR,
    FCTRL_ADR_ACK_REQ,
    FCTRL_FPENDING,
    JOIN_ACCEPT,
    UNCONFIRMED_DOWN,
    DataFrame,
    build_data,
    open_data,
    parse_join_request,
    put_le,
    recover_fcnt,
)


def cmac_key(aes, key):
    return CmacKey(aes, key)


def accept_join_request(app_key, phy):
    """(join_eui, dev_eui, dev_nonce) of a join-request with a valid MIC; MicError otherwise."""
    return parse_join_request(app_key, phy)


def session_keys(aes, app_key, join_nonce, net_id, dev_nonce):
    """(NwkSKey, AppSKey) bytes for LoRaWAN 1.0.x."""
    return derive_session_keys(aes, app_key, join_nonce, net_id, dev_nonce)


def build_cflist(frequencies_hz):
    """CFList type 0: up to five extra channel frequencies (100 Hz units), then type 0x00."""
    if len(frequencies_hz) > 5:
        raise ValueError("a CFList holds at most 5 frequencies")
    cflist = bytearray(16)
    for i, freq_hz in enumerate(frequencies_hz):
        put_le(cflist, 3 * i, freq_hz // 100, 3)
    return bytes(cflist)


def build_join_accept(aes, app_key, join_nonce, net_id, dev_addr, rx1_dr_offset=0, rx2_dr=0, rx_delay_s=1,
                      cflist=None):
    """The join-accept as sent on air: MIC'd with AppKey, then encrypted with AES *decrypt*."""
    size = 17 if cflist is None else 33
    plain = bytearray(size)
    plain[0] = JOIN_ACCEPT
    put_le(plain, 1, join_nonce, 3)
    put_le(plain, 4, net_id, 3)
    put_le(plain, 7, dev_addr, 4)
    plain[11] = ((rx1_dr_offset & 0x07) << 4) | (rx2_dr & 0x0F)
    plain[12] = rx_delay_s & 0x0F
    if cflist is not None:
        if len(cflist) != 16:
            raise ValueError("a CFList is 16 bytes")
        plain[13:29] = cflist
    mac = join_mic(CmacKey(aes, app_key), plain, size - 4)
    plain[size - 4 : size] = mac[0:4]
    body = memoryview(plain)[1:]
    aes(app_key).decrypt(body, body)
    return bytes(plain)


class Uplink:
    """An uplink opened by the network: header flags, the 32-bit FCnt and the plaintext."""

    def __init__(self, frame, phy, fcnt, payload):
        self.dev_addr = frame.dev_addr
        self.fcnt = fcnt
        self.fport = frame.fport
        self.payload = bytes(payload)
        self.fopts = frame.fopts(phy)
        self.confirmed = frame.confirmed
        self.adr = bool(frame.fctrl & FCTRL_ADR)
        self.adr_ack_req = bool(frame.fctrl & FCTRL_ADR_ACK_REQ)
        self.ack = bool(frame.fctrl & FCTRL_ACK)


def open_uplink(nwk_key, app_key, phy, last_fcnt_up=None):
    """Verify and decrypt an uplink; FrameError/MicError if it is malformed, tampered or foreign."""
    frame = DataFrame(phy)
    if not frame.uplink:
        raise FrameError("not an uplink")
    fcnt = recover_fcnt(last_fcnt_up, frame.fcnt16)
    return Uplink(frame, phy, fcnt, open_data(frame, phy, nwk_key, app_key, fcnt))


def build_downlink(nwk_key, app_key, dev_addr, fcnt_down, fport=None, payload=b"", fopts=b"", ack=False,
                   confirmed=False, fpending=False, adr=False):
    """A downlink data frame (bytes) with optional FOpts MAC commands and the ACK bit."""
    fctrl = (FCTRL_ADR if adr else 0) | (FCTRL_ACK if ack else 0) | (FCTRL_FPENDING if fpending else 0)
    mhdr = CONFIRMED_DOWN if confirmed else UNCONFIRMED_DOWN
    return bytes(build_data(nwk_key, app_key, DOWNLINK, mhdr, dev_addr, fctrl, fcnt_down, fopts, fport, payload))
