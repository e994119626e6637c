# Pure parts: airtime (AN1200.13), EU868 limits, duty-cycle ledger, join back-off, ADR back-off,
# MAC command codec, session encoding. MicroPython + CPython.
import mpytest
from loraphy.airtime import time_on_air_ms, time_on_air_us
from lorawan import maccommands as mc
from lorawan import region_eu868 as eu868
from lorawan import session as session_codec
from lorawan.device import adr_backoff
from lorawan.dutycycle import DutyCycleLedger
from lorawan.joinbackoff import HOUR_MS, JoinBackoff
from lorawan.persist import crc32, crc32_loop


def test_airtime_reference_table():
    # app payload + 13 bytes overhead = PHYPayload; values in microseconds (reference §6)
    table = {7: (46336, 61696, 118016, 399616), 8: (82432, 113152, 215552, 707072),
             9: (164864, 205824, 390144, None), 10: (288768, 370688, 698368, None),
             11: (577536, 823296, 1560576, None), 12: (1155072, 1482752, 2793472, None)}
    for sf, row in table.items():
        for i, app_len in enumerate((0, 10, 51, 242)):
            expect = row[i]
            if expect is not None:
                assert time_on_air_us(app_len + 13, sf, 125) == expect, (sf, app_len)
    assert time_on_air_us(14, 11, 125) == 659456
    assert time_on_air_us(23, 7, 250) == 30848
    assert time_on_air_us(5, 8, 125, coding_rate=2) == 66048  # micropython-lib test case
    assert time_on_air_ms(23, 12, 125) == 1483


def test_eu868_limits():
    assert eu868.MAX_PAYLOAD[0] == 51 and eu868.MAX_PAYLOAD[3] == 115 and eu868.MAX_PAYLOAD[5] == 242
    assert eu868.DATA_RATES[0] == (12, 125) and eu868.DATA_RATES[6] == (7, 250)
    assert [c[0] for c in eu868.DEFAULT_CHANNELS] == [868100000, 868300000, 868500000]
    assert (eu868.RX2_FREQ_HZ, eu868.RX2_DR, eu868.JOIN_ACCEPT_DELAY1_MS) == (869525000, 0, 5000)
    assert eu868.rx1_dr(5, 2) == 3 and eu868.rx1_dr(1, 5) == 0


def test_duty_cycle_sub_bands():
    ledger = DutyCycleLedger(eu868.SUB_BANDS)
    assert ledger.wait_ms(868100000, 0) == 0
    ledger.record(868100000, 0, 1483)  # SF12 10-byte uplink on a 1 % band
    assert ledger.wait_ms(868300000, 1483) == 146817  # the whole sub-band is closed for 99 x airtime
    assert ledger.wait_ms(867100000, 1483) == 0  # another 1 % band is free
    assert ledger.wait_ms(868100000, 148300) == 0
    ledger.record(869525000, 0, 100)  # 10 % band
    assert ledger.wait_ms(869525000, 100) == 900
    ledger.record(868900000, 0, 100)  # 0.1 % band
    assert ledger.wait_ms(868900000, 100) == 99900
    assert ledger.wait_ms(880000000, 0) is None  # outside EU868: never allowed


def test_aggregated_duty_cycle():
    ledger = DutyCycleLedger(eu868.SUB_BANDS)
    ledger.set_max_duty_cycle(10)  # 1/1024
    ledger.record(867100000, 0, 50)
    assert ledger.wait_ms(868100000, 50) == 50 * 1024 - 50
    ledger.set_max_duty_cycle(0)
    ledger.record(867100000, 10 ** 6, 50)
    assert ledger.wait_ms(868100000, 10 ** 6 + 50) == 0


def test_join_backoff_budget():
    backoff = JoinBackoff()
    now = 0
    sent = 0
    airtime = 1483
    while now < 30 * HOUR_MS and sent < 500:
        now += backoff.wait_ms(now, airtime)
        if now >= 30 * HOUR_MS:
            break
        backoff.record(now, airtime)
        sent += 1
        now += airtime
    # 36 s in hour 0, 36 s in hours 1..11, 8.7 s per day after: 24 + 24 + 5 requests by 30 h
    assert sent == 24 + 24 + 5, sent


def test_adr_backoff_steps():
    assert adr_backoff(63, 5, 3, 64, 32, 0) == (False, 5, 3, False)
    assert adr_backoff(64, 5, 3, 64, 32, 0) == (True, 5, 3, False)
    assert adr_backoff(95, 5, 3, 64, 32, 0) == (True, 5, 3, False)
    assert adr_backoff(96, 5, 3, 64, 32, 0) == (True, 5, 0, False)
    assert adr_backoff(128, 5, 0, 64, 32, 0) == (True, 4, 0, False)
    assert adr_backoff(128, 0, 0, 64, 32, 0) == (True, 0, 0, True)


def test_mac_command_split_stops_at_unknown_cid():
    data = mc.link_adr_req(5, 1, 7) + bytes((mc.DEV_STATUS, 0x42, 1, 2))
    assert mc.split(data, mc.DOWN_LENGTH) == [(mc.LINK_ADR, data[1:5]), (mc.DEV_STATUS, b"")]
    assert mc.split(bytes((mc.LINK_ADR, 1)), mc.DOWN_LENGTH) == []  # truncated payload
    assert mc.join([(mc.LINK_CHECK, b""), (mc.LINK_ADR, b"\x07")]) == b"\x02\x03\x07"
    assert mc.freq_from(mc.freq_bytes(868100000), 0) == 868100000


def test_session_encoding_round_trip():
    s = session_codec.Session(eu868, 0x26011234, bytes(range(16)), bytes(range(16, 32)), 77)
    s.fcnt_up, s.fcnt_up_limit, s.fcnt_down = 70000, 70016, 0x10003
    s.channels[5] = [867300000, 0, 5, 869100000]
    s.ch_mask = 0b100111
    s.sticky = b"\x0a\x03\x08"
    data = session_codec.encode(s)
    assert len(data) < 200
    back = session_codec.decode(eu868, data)
    for name in ("dev_addr", "nwk_s_key", "app_s_key", "dev_nonce", "fcnt_up", "fcnt_up_limit", "fcnt_down",
                 "ch_mask", "sticky", "channels", "rx2_freq_hz", "rx1_delay_ms", "dr"):
        assert getattr(back, name) == getattr(s, name), name
    mpytest.raises(ValueError, session_codec.decode, eu868, data[:20])


def test_crc32_fallback_matches_native():
    for data in (b"", b"123456789", bytes(range(256))):
        assert crc32_loop(data) == crc32(data)
    assert crc32_loop(b"123456789") == 0xCBF43926  # the CRC-32 check value


mpytest.main(globals())
