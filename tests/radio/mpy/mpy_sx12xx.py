# Sx12xxRadio against tingfw.radio.fake_modem (micropython-lib lora's low-level modem API with SX126x
# timing, reference firmware.md §1.3-1.4): configuration, TX-end timing, receive windows, and the MCU
# light-sleeping while the radio works (time on air minus a wake-up margin; the RX window's timeout).
import time

import mpytest
from loraphy.airtime import time_on_air_us
from tingfw.clock import WatchdogClock
from tingfw.fakes import FakeWatchdog
from tingfw.radio.clock import ManualClock
from tingfw.radio.fake_modem import FakeLoraModem, FakeRxPacket
from tingfw.radio.sx12xx import Sx12xxRadio, rx_timeout_ms

# lora_cfg keys the drivers document; the stand-in refuses any other (a typo would be ignored on hardware)
LORA_CFG_KEYS = ("freq_khz", "sf", "bw", "coding_rate", "output_power", "tx_ant", "implicit_header", "crc_en",
                 "syncword", "preamble_len", "invert_iq_tx", "invert_iq_rx", "pa_ramp_us", "rx_boost",
                 "lna_gain", "auto_image_cal")
TICKS_PERIOD = 1 << 30  # time.ticks_ms wraps here on the unix port and most boards


class StrictModem(FakeLoraModem):
    def configure(self, lora_cfg):
        for key in lora_cfg:
            if key not in LORA_CFG_KEYS:
                raise ValueError("unknown lora_cfg key %s" % key)
        FakeLoraModem.configure(self, lora_cfg)


class LightSleep:
    """Records every light sleep (ms, what the radio was doing) and lets the fake time pass."""

    def __init__(self, clock, modem):
        self.clock = clock
        self.modem = modem
        self.sleeps = []

    def __call__(self, ms):
        self.sleeps.append((ms, self.modem.state()))
        self.clock.sleep_ms(ms)

    def total(self, state):
        return sum(ms for ms, during in self.sleeps if during == state)


def make(start_ms=10000, light=True, **options):
    clock = ManualClock(start_ms)
    modem = StrictModem(clock, hw_offset_ms=TICKS_PERIOD - 500)
    sleeper = LightSleep(clock, modem) if light else None
    radio = Sx12xxRadio(modem, clock, hw_ticks_ms=modem.hw_ticks_ms, ticks_diff=time.ticks_diff,
                        light_sleep=sleeper, **options)
    return clock, modem, radio, sleeper


def airtime_ms(phy_len, sf, bw_khz=125):
    return time_on_air_us(phy_len, sf, bw_khz) // 1000


def test_transmit_configures_a_lorawan_uplink_and_returns_the_tx_end_on_the_mac_clock():
    clock, modem, radio, _ = make(light=False)
    end_ms = radio.transmit(b"\x40\x01\x02", 868100000, 9, 125, 14)
    assert modem.names()[:2] == ["configure", "start_send"], modem.names()
    assert modem.calls[0][2] == {
        "freq_khz": 868100, "sf": 9, "bw": "125", "coding_rate": 5, "output_power": 14, "syncword": 0x34,
        "preamble_len": 8, "implicit_header": False, "crc_en": True, "invert_iq_tx": False,
    }, modem.calls[0][2]
    assert modem.calls[1][2] == b"\x40\x01\x02"
    # the hardware tick wrapped during the frame; the MAC still gets the true end time
    assert end_ms == 10000 + airtime_ms(3, 9), end_ms
    assert clock.ticks_ms() - end_ms <= 1


def test_transmit_light_sleeps_the_time_on_air_minus_the_margin_at_every_sf():
    for sf in (7, 8, 9, 10, 11, 12):
        clock, modem, radio, sleeper = make()
        phy = bytes(21)  # an 8-byte status uplink
        air_ms = airtime_ms(len(phy), sf)
        end_ms = radio.transmit(phy, 868300000, sf, 125, 14)
        margin_ms = (air_ms >> 5) + 5  # 1/32 of the airtime for timer drift + 5 ms wake-up
        assert sleeper.sleeps == [(air_ms - margin_ms, "tx")], (sf, sleeper.sleeps)
        assert radio.light_slept_ms == air_ms - margin_ms
        # woken before the frame ended, then polled awake: the TX end is exact, noticed within 1 ms
        assert end_ms == 10000 + air_ms, (sf, end_ms)
        assert clock.ticks_ms() - end_ms <= 1


def test_transmit_stays_awake_for_a_frame_too_short_to_sleep_through():
    clock, modem, radio, sleeper = make()
    radio.transmit(b"x", 868100000, 7, 250, 14)  # SF7/250 kHz: ~15 ms on air, ~5 ms to sleep
    assert sleeper.sleeps == [] and modem.cfg["bw"] == "250"


def test_transmit_options_for_sx1276_boards_and_dr6():
    clock, modem, radio, _ = make(tx_ant="PA_BOOST")
    radio.transmit(b"x", 868300000, 7, 250, 16)
    cfg = modem.calls[0][2]
    assert cfg["tx_ant"] == "PA_BOOST" and cfg["bw"] == "250" and cfg["output_power"] == 16


def test_off_raster_frequency_keeps_its_100_hz():
    clock, modem, radio, _ = make()
    radio.transmit(b"x", 867100100, 7, 125, 14)
    assert modem.calls[0][2]["freq_khz"] == 867100.1


def test_a_stuck_transmitter_is_given_up_not_waited_on_forever():
    clock, modem, radio, _ = make()
    modem.stuck = True
    end_ms = radio.transmit(bytes(20), 868100000, 7, 125, 14)
    assert radio.tx_timeouts == 1 and "standby" in modem.names()
    assert end_ms - 10000 <= airtime_ms(20, 7) + 2000 + 2


def test_receive_configures_inverted_iq_without_crc_then_opens_on_time():
    clock, modem, radio, sleeper = make(start_ms=0, rx_boost=True)
    modem.rx_script.append(FakeRxPacket(b"\x60downlink", rssi=-101, snr_x4=-10))
    data = radio.receive(868500000, 7, 125, 980, 40)
    assert data == b"\x60downlink"
    assert modem.calls[0][0] == "configure" and modem.calls[0][1] == 0  # before sleeping: not late
    assert modem.calls[0][2] == {
        "freq_khz": 868500, "sf": 7, "bw": "125", "coding_rate": 5, "syncword": 0x34, "preamble_len": 8,
        "implicit_header": False, "crc_en": False, "invert_iq_rx": True, "rx_boost": True,
    }, modem.calls[0][2]
    assert modem.calls[1][:3] == ("start_recv", 980, (40, False)), modem.calls[1]
    assert radio.last_rssi_dbm == -101 and radio.last_snr_db == -2.5
    # the RX delay was light-slept up to a margin (980/32 + 5 ms), the rest waited awake
    assert sleeper.sleeps[0] == (980 - 35, None), sleeper.sleeps


def test_receive_light_sleeps_through_an_empty_window_at_every_sf():
    for sf in (7, 8, 9, 10, 11, 12):
        clock, modem, radio, sleeper = make(start_ms=0)
        window_ms = 8 * (1 << sf) // 125 + 20  # what lorawan.Device asks for
        timeout_ms = rx_timeout_ms(sf, 125, window_ms)
        assert radio.receive(869525000, sf, 125, 1000, window_ms) is None
        assert modem.calls[1][:2] == ("start_recv", 1000), (sf, modem.calls[1])
        assert sleeper.sleeps == [(1000 - 36, None), (timeout_ms, "rx")], (sf, sleeper.sleeps)
        assert modem.air == [["rx", 1000, 1000 + timeout_ms]], modem.air
        assert clock.ticks_ms() == 1000 + timeout_ms  # woken at the timeout: no awake tail


def test_receive_wakes_for_a_frame_that_arrives_in_the_window():
    for sf in (7, 10, 12):
        clock, modem, radio, sleeper = make(start_ms=0)
        frame = b"\x60" + bytes(30)
        modem.rx_script.append(FakeRxPacket(frame))
        window_ms = 8 * (1 << sf) // 125 + 20
        assert radio.receive(868100000, sf, 125, 2000, window_ms) == frame
        frame_end = 2000 + modem.rx_at_ms + time_on_air_us(len(frame), sf, 125, crc=False) // 1000  # no CRC down
        step_ms = max(4 * (1 << sf) // 125, 10)
        # slept through the window, then in 4-symbol steps while the frame came in; noticed within a step
        assert sleeper.sleeps[1] == (rx_timeout_ms(sf, 125, window_ms), "rx"), sleeper.sleeps
        assert all(ms <= step_ms and during == "rx" for ms, during in sleeper.sleeps[2:]), sleeper.sleeps
        assert frame_end <= clock.ticks_ms() <= frame_end + step_ms, (sf, clock.ticks_ms(), frame_end)


def test_receive_without_light_sleep_waits_awake_and_still_opens_on_time():
    clock, modem, radio, _ = make(start_ms=0, light=False)
    assert radio.receive(869525000, 12, 125, 1980, 40) is None
    # SF12/125: 6 x 32.768 ms = 196.6 ms -> 197 ms; the window closed without a frame
    assert modem.calls[1][:3] == ("start_recv", 1980, (197, False)), modem.calls[1]
    assert radio.light_slept_ms == 0


def test_receive_when_the_window_is_already_open_starts_at_once():
    clock, modem, radio, _ = make(start_ms=5000)
    radio.receive(868100000, 7, 125, 4990, 40)
    assert modem.calls[1][1] == 5000


def test_receive_drops_a_frame_with_a_bad_crc():
    clock, modem, radio, _ = make(start_ms=0)
    modem.rx_script.append(FakeRxPacket(b"junk", valid_crc=False))
    assert radio.receive(868100000, 7, 125, 1000, 40) is None


def test_light_sleep_through_the_watchdog_clock_never_exceeds_its_slice():
    # RP2040: watchdog max 8.3 s, slices of 2075 ms; an SF12 join-accept RX2 opens 6 s after the TX
    clock = ManualClock(0)
    wdt = FakeWatchdog(8300, clock)
    modem = FakeLoraModem(clock)
    sleeper = LightSleep(clock, modem)
    fed = WatchdogClock(clock, wdt, 8300 // 4, light_sleep=sleeper)
    radio = Sx12xxRadio(modem, fed, hw_ticks_ms=modem.hw_ticks_ms, ticks_diff=time.ticks_diff,
                        light_sleep=fed.light_sleep_ms)
    end_ms = radio.transmit(bytes(23), 868100000, 12, 125, 14)
    radio.receive(869525000, 12, 125, end_ms + 6000, 282)
    assert max(ms for ms, _ in sleeper.sleeps) <= 8300 // 4, sleeper.sleeps
    assert wdt.longest_gap_ms <= 8300 // 4 + 50, wdt.longest_gap_ms
    assert sum(ms for ms, _ in sleeper.sleeps) == radio.light_slept_ms
    # no light sleep given: WatchdogClock says so and the adapter stays awake
    assert WatchdogClock(clock, wdt).light_sleep_ms is None


def test_class_c_listen_and_poll():
    clock, modem, radio, _ = make()
    assert radio.poll() is None and modem.names() == []  # not listening: the modem is not touched
    radio.listen(869525000, 12, 125)
    assert modem.calls[0][2]["invert_iq_rx"] is True and modem.calls[0][2]["crc_en"] is False
    assert modem.calls[1][0] == "start_recv" and modem.calls[1][2] == (None, True)
    modem.listen_script.append(True)
    modem.listen_script.append(FakeRxPacket(b"\xa0class-c"))
    assert radio.poll() is None
    assert radio.poll() == b"\xa0class-c"
    radio.sleep()
    assert modem.names()[-1] == "sleep"
    assert radio.poll() is None


def test_transmit_ends_class_c_listening():
    clock, modem, radio, _ = make()
    radio.listen(869525000, 12, 125)
    radio.transmit(b"x", 868100000, 7, 125, 14)
    count = len(modem.calls)
    assert radio.poll() is None and len(modem.calls) == count


mpytest.main(globals())
