# GWMP v2 encode/parse, clocks, and the airtime the virtual radio takes from loraphy.airtime.
import json

import mpytest
from loraphy.airtime import time_on_air_us
from tingfw.radio import gwmp
from tingfw.radio.clock import ManualClock, SystemClock

EUI = b"\xaa\x55\x5a\x00\x00\x00\x01\x01"


def test_pull_data_and_acks_layout():
    assert gwmp.encode_pull_data(0x1234, EUI) == b"\x02\x12\x34\x02" + EUI
    assert gwmp.encode_ack(gwmp.PULL_ACK, 0x1234) == b"\x02\x12\x34\x04"
    assert gwmp.parse_datagram(b"\x02\x12\x34\x01") == (gwmp.PUSH_ACK, 0x1234, None, b"")
    assert gwmp.parse_datagram(b"\x02\xff\x01\x02" + EUI) == (gwmp.PULL_DATA, 0xFF01, EUI, b"")


def test_push_data_rxpk_fields():
    item = gwmp.rxpk_json(b"\x40\x01\x02\x03", 4000000123, 868300000, 9, 125, -97, -3.5, chan=1)
    datagram = gwmp.encode_push_data(7, EUI, (item,))
    identifier, token, eui, body = gwmp.parse_datagram(datagram)
    assert (identifier, token, eui) == (gwmp.PUSH_DATA, 7, EUI)
    rxpk = json.loads(body)["rxpk"][0]
    assert rxpk["tmst"] == 4000000123 and rxpk["freq"] == 868.3 and rxpk["datr"] == "SF9BW125"
    assert rxpk["codr"] == "4/5" and rxpk["size"] == 4 and rxpk["data"] == "QAECAw=="
    assert rxpk["chan"] == 1 and rxpk["rfch"] == 0 and rxpk["stat"] == 1 and rxpk["modu"] == "LORA"
    assert rxpk["rssi"] == -97 and rxpk["lsnr"] == -3.5
    back = gwmp.parse_rxpk(body)[0]
    assert back["payload"] == b"\x40\x01\x02\x03" and back["freq_hz"] == 868300000 and back["sf"] == 9


def test_push_data_with_a_stat_object():
    stat = gwmp.stat_json((2026, 3, 4, 5, 6, 7, 0, 0), 3, 1, 2, 75.0)
    body = json.loads(gwmp.parse_datagram(gwmp.encode_push_data(1, EUI, (), stat))[3])
    assert body == {"stat": {"time": "2026-03-04 05:06:07 GMT", "rxnb": 3, "rxok": 3, "rxfw": 3, "ackr": 75.0,
                             "dwnb": 2, "txnb": 1}}, body


def test_tmst_wraps_at_32_bits():
    rxpk = json.loads(gwmp.rxpk_json(b"", (1 << 32) + 5, 868100000, 7, 125, -80, 9.0))
    assert rxpk["tmst"] == 5


def test_txpk_round_trip_timed_and_immediate():
    body = gwmp.encode_pull_resp(9, gwmp.txpk_json(b"\x60abc", 869525000, 12, 125, 27, tmst_us=123456789))
    identifier, token, eui, json_body = gwmp.parse_datagram(body)
    assert (identifier, token, eui) == (gwmp.PULL_RESP, 9, None)
    txpk = gwmp.parse_txpk(json_body)
    assert txpk == {"imme": False, "tmst_us": 123456789, "freq_hz": 869525000, "sf": 12, "bw_khz": 125,
                    "power_dbm": 27, "ipol": True, "payload": b"\x60abc"}, txpk
    imme = gwmp.parse_txpk(b'{"txpk":{"imme":true,"freq":869.525,"datr":"SF9BW125","size":0,"data":""}}')
    assert imme["imme"] and imme["tmst_us"] is None and imme["ipol"] is False and imme["payload"] == b""


def test_frequency_rounds_to_the_100_hz_raster():
    assert gwmp.freq_hz_from_mhz(869.525) == 869525000
    assert gwmp.freq_hz_from_mhz(867.1000001) == 867100000
    assert gwmp.format_freq_mhz(867100100) == "867.100100"


def test_malformed_datagrams_raise_gwmp_error():
    for bad in (b"", b"\x02\x00", b"\x01\x00\x00\x00", b"\x02\x00\x00\x09", b"\x02\x00\x00\x00" + EUI[:3]):
        mpytest.raises(gwmp.GwmpError, gwmp.parse_datagram, bad)
    for body in (b"not json", b"[1]", b'{"x":1}', b'{"txpk":{"freq":868.1,"datr":"SF7BW125","data":""}}',
                 b'{"txpk":{"imme":true,"datr":"SF7BW125","data":""}}',
                 b'{"txpk":{"imme":true,"freq":868.1,"datr":"FSK50","data":""}}',
                 b'{"txpk":{"imme":true,"freq":868.1,"datr":"SF7BW125","modu":"FSK","data":""}}',
                 b'{"txpk":{"imme":true,"freq":868.1,"datr":"SF7BW125","size":3,"data":"QQ=="}}'):
        mpytest.raises(gwmp.GwmpError, gwmp.parse_txpk, body)
    mpytest.raises(gwmp.GwmpError, gwmp.parse_rxpk, b'{"rxpk":[{"datr":"SF7BW125"}]}')


def test_gateway_eui_forms():
    assert gwmp.eui_bytes("aa:55:5a:00:00:00:01:01") == EUI
    assert gwmp.eui_bytes("AA555A0000000101") == EUI
    for bad in ("aa55", "zz555a0000000101", b"\x01"):
        mpytest.raises(gwmp.GwmpError, gwmp.eui_bytes, bad)


def test_time_on_air_matches_the_reference_table():
    # firmware.md §6.2: PHYPayload 23 B (10-byte app payload), CR 4/5, preamble 8, CRC on
    assert time_on_air_us(23, 7, 125) == 61696
    assert time_on_air_us(23, 12, 125) == 1482752
    assert time_on_air_us(23, 7, 250) == 30848
    assert time_on_air_us(13, 11, 125) == 577536
    assert time_on_air_us(64, 10, 125) == 698368
    assert time_on_air_us(255, 8, 125) == 707072
    assert time_on_air_us(5, 8, 125, coding_rate=2) == 66048  # micropython-lib's own test case


def test_manual_clock_moves_only_when_slept():
    clock = ManualClock(100)
    clock.sleep_ms(-5)
    clock.sleep_ms(50)
    clock.advance(1)
    assert clock.ticks_ms() == 151


def test_system_clock_scales_time():
    mpytest.raises(ValueError, SystemClock, 0)
    clock = SystemClock(time_scale=50)
    start = clock.ticks_ms()
    clock.sleep_ms(1000)  # 20 ms of real time
    elapsed = clock.ticks_ms() - start
    assert 1000 <= elapsed < 3000, elapsed


mpytest.main(globals())
