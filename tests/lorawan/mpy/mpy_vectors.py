# Known-answer tests: RFC 4493 CMAC, lora-packet and ChirpStack lrwn vectors (reference §5.3).
# Runs under MicroPython and CPython alike.
from binascii import hexlify, unhexlify

import mpytest
from lorawan import network
from lorawan.aes import aes_factory
from lorawan.cmac import CmacKey, cmac
from lorawan.crypto import derive_session_keys
from lorawan.errors import FrameError, MicError
from lorawan.frame import (
    UNCONFIRMED_UP,
    DataFrame,
    build_data,
    build_join_request,
    open_data,
    parse_join_accept,
    parse_join_request,
)

AES = aes_factory()


def h(text):
    return unhexlify(text.replace(" ", ""))


def hx(data):
    return hexlify(bytes(data)).decode()


def key(text):
    return CmacKey(AES, h(text))


RFC_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
RFC_M = h("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")


def test_rfc4493_subkeys():
    k = key(RFC_KEY)
    assert hx(k.k1) == "fbeed618357133667c85e08f7236a8de"
    assert hx(k.k2) == "f7ddac306ae266ccf90bc11ee46d513b"


def test_rfc4493_cmac():
    k = key(RFC_KEY)
    for length, expect in ((0, "bb1d6929e95937287fa37d129b756746"), (16, "070a16b46b4d4144f79bdd9dd04a287c"),
                           (40, "dfa66747de9ae63030ca32611497c827"), (64, "51f0bebf7e3b9d92fc49741779363cfe")):
        assert hx(cmac(k, RFC_M, 0, length)) == expect, length


def test_cmac_prefix_equals_concatenation():
    k = key(RFC_KEY)
    for length in (0, 1, 16, 24, 48):
        whole = hx(cmac(k, RFC_M, 0, 16 + length))
        assert hx(cmac(k, RFC_M, 16, 16 + length, RFC_M[0:16])) == whole, length


LP_NWK = "44024241ed4ce9a68c6a8bc055233fd3"
LP_APP = "ec925802ae430ca77fd3dd73cb2cc588"


def _open(phy_hex, nwk, app, fcnt32=None):
    phy = h(phy_hex)
    frame = DataFrame(phy)
    return frame, open_data(frame, phy, key(nwk), key(app), frame.fcnt16 if fcnt32 is None else fcnt32)


def test_lora_packet_uplink_decrypts_test():
    frame, payload = _open("40F17DBE4900020001954378762B11FF0D", LP_NWK, LP_APP)
    assert frame.dev_addr == 0x49BE7DF1 and frame.fcnt16 == 2 and frame.fport == 1
    assert bytes(payload) == b"test"


def test_lora_packet_empty_payload_and_tamper():
    frame, payload = _open("40F17DBE49000300012A3518AF", LP_NWK, LP_APP)
    assert frame.fcnt16 == 3 and bytes(payload) == b""
    mpytest.raises(MicError, _open, "40F17DBE49000300012A3518AA", LP_NWK, LP_APP)


def test_lora_packet_downlink_ack():
    frame, payload = _open("60f17dbe4920020001f9d65d27", LP_NWK, LP_APP)
    assert not frame.uplink and frame.fctrl & 0x20


def test_lora_packet_three_blocks():
    phy = ("40f17dbe490004000155332de41a11adc072553544429ce7787707d1c316e027e7e5e334263376affb8aa17ad30075293f28de"
           "a8a20af3c5e7")
    frame, payload = _open(phy, LP_NWK, LP_APP)
    assert bytes(payload) == b"The quick brown fox jumps over the lazy dog."


def test_lora_packet_fopts_and_port0():
    frame, payload = _open("40F7EC10E081000002015A171220B0C6D6470FC3", "17da125f3d55b28cc16a8111bd1d6c0b", LP_APP)
    assert frame.dev_addr == 0xE010ECF7 and frame.fctrl == 0x81 and frame.fopts(h("40F7EC10E081000002")) == b"\x02"
    frame, payload = _open("4006DC00FCC07400000244925050", "581c4d08ef04cda30b1fef7a8b2c74b8", LP_APP)
    assert frame.fctrl == 0xC0 and frame.fcnt16 == 116


def test_lora_packet_join_request():
    app_key = key("98929b92c49edba9676d646d3b612456")
    join_eui, dev_eui, dev_nonce = parse_join_request(app_key, h("0039363463336913AA05693574323831330489C65B1304"))
    assert hx(join_eui) == "aa13693363343639" and hx(dev_eui) == "3331383274356905" and dev_nonce == 0x8904
    assert hx(build_join_request(app_key, join_eui, dev_eui, dev_nonce)) == "0039363463336913aa05693574323831330489c65b1304"


def test_lora_packet_session_keys():
    nwk, app = derive_session_keys(AES, h("98929b92c49edba9676d646d3b612456"), 0x376338, 0xAABBCC, 0xF18E)
    assert hx(nwk) == "4e3d6e6afbcc67af2ba3c8e8ec4acf4b"
    assert hx(app) == "610897aa6f1460623443b527d3ac6a9d"


def test_lora_packet_zero_join_accept():
    wire = network.build_join_accept(AES, bytes(16), 0, 0, 0, rx_delay_s=0)
    assert hx(wire) == "20e3de108795f776b8037610ef7869b5b3"
    accept = parse_join_accept(key("00" * 16), wire)
    assert accept.dev_addr == 0 and accept.rx_delay_s == 1


def test_lrwn_join_request():
    app_key = key("0102030405060708090a0b0c0d0e0f10")
    phy = build_join_request(app_key, h("0101010101010101"), h("0202020202020202"), 771)
    assert hx(phy) == "00010101010101010102020202020202020303" + "09b97b32"


def test_lrwn_join_accept():
    app_key_bytes = h("0102030405060708090a0b0c0d0e0f10")
    wire = network.build_join_accept(AES, app_key_bytes, 65793, 0x020202, 0x01020304, rx_delay_s=0)
    assert hx(wire) == "2023cf335489aae3183c0be0baa8dee5f3"
    app_key = key("0102030405060708090a0b0c0d0e0f10")
    accept = parse_join_accept(app_key, wire)
    assert accept.join_nonce == 65793 and accept.net_id == 0x020202 and accept.dev_addr == 0x01020304
    tampered = bytearray(wire)
    tampered[5] ^= 1
    mpytest.raises(MicError, parse_join_accept, app_key, bytes(tampered))
    mpytest.raises(FrameError, parse_join_accept, app_key, wire[:16])


def test_lrwn_confirmed_uplink_with_fopts():
    phy = build_data(key("0102030405060708090a0b0c0d0e0f10"), key("100f0e0d0c0b0a090807060504030201"), 0, 0x80,
                     0x01020304, 0, 0, h("067307"), 10, h("01020304"))
    assert hx(phy) == "80040302010300000673070ae264d4f7e117d2c0"


def test_lrwn_session_keys():
    nwk, app = derive_session_keys(AES, h("01020304050607080102030405060708"), 65536, 0x010203, 258)
    assert hx(nwk) == "df53c35f3034ccced0ff354c70de04df"
    assert hx(app) == "927b9c911183cffe4cb2ff4b75545f6d"


def test_derived_32bit_fcnt():
    nwk, app = key(RFC_KEY), key("000102030405060708090a0b0c0d0e0f")
    payload = h("a301182a02f5031901f4")
    phy = build_data(nwk, app, 0, UNCONFIRMED_UP, 0x260B1234, 0x80, 5, b"", 2, payload)
    assert hx(phy) == "4034120b268005000213fa10427eab736476b7c40d4993"
    phy = build_data(nwk, app, 0, UNCONFIRMED_UP, 0x260B1234, 0x80, 0x00010005, b"", 2, payload)
    assert hx(phy) == "4034120b2680050002557fcf9ccf110bc29f16ced9d67b"
    uplink = network.open_uplink(nwk, app, phy, last_fcnt_up=0x0000FFF0)
    assert uplink.fcnt == 0x00010005 and uplink.payload == payload and uplink.adr
    mpytest.raises(MicError, network.open_uplink, nwk, app, phy, 0)


mpytest.main(globals())
