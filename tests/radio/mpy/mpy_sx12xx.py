# Sx12xxRadio against a recording stand-in for micropython-lib's lora sync modem API
# (configure/send/recv/start_recv/poll_recv/standby/sleep, reference firmware.md §1.3-1.4).
import time

import mpytest
from tingfw.radio.clock import ManualClock
from tingfw.radio.sx12xx import Sx12xxRadio

# lora_cfg keys the drivers document; the stand-in refuses any other (a typo would be ignored on hardware)
LORA_CFG_KEYS = ("freq_khz", "sf", "bw", "coding_rate", "output_power", "tx_ant", "implicit_header", "crc_en",
                 "syncword", "preamble_len", "invert_iq_tx", "invert_iq_rx", "pa_ramp_us", "rx_boost",
                 "lna_gain", "auto_image_cal")
TICKS_PERIOD = 1 << 30  # time.ticks_ms wraps here on the unix port and most boards


class RxPacket(bytearray):
    pass


def rx_packet(data, rssi=-95, snr_x4=26, valid_crc=True):
    packet = RxPacket(data)
    packet.rssi = rssi
    packet.snr = snr_x4
    packet.valid_crc = valid_crc
    packet.ticks_ms = 0
    return packet


class RecordingModem:
    """Implements the driver API; time passes on the shared ManualClock, hw ticks wrap like the real ones."""

    def __init__(self, clock, hw_offset_ms=TICKS_PERIOD - 500):
        self.clock = clock
        self.hw_offset_ms = hw_offset_ms
        self.calls = []
        self.rx_script = []  # what recv()/poll_recv() return, in order
        self.tx_airtime_ms = 62

    def hw_ticks_ms(self):
        return (self.clock.ticks_ms() + self.hw_offset_ms) % TICKS_PERIOD

    def configure(self, lora_cfg):
        for key in lora_cfg:
            if key not in LORA_CFG_KEYS:
                raise ValueError("unknown lora_cfg key %s" % key)
        self.calls.append(("configure", self.clock.ticks_ms(), dict(lora_cfg)))

    def send(self, packet, tx_at_ms=None):
        self.calls.append(("send", self.clock.ticks_ms(), bytes(packet)))
        self.clock.advance(self.tx_airtime_ms)
        end = self.hw_ticks_ms()
        self.clock.advance(3)  # the driver returns a little after the TX-done IRQ
        return end

    def recv(self, timeout_ms=None, rx_length=0xFF, rx_packet=None):
        self.calls.append(("recv", self.clock.ticks_ms(), timeout_ms))
        result = self.rx_script.pop(0) if self.rx_script else None
        self.clock.advance(timeout_ms if result is None else 30)
        return result

    def start_recv(self, timeout_ms=None, continuous=False, rx_length=0xFF):
        self.calls.append(("start_recv", self.clock.ticks_ms(), (timeout_ms, continuous)))
        return False

    def poll_recv(self, rx_packet=None):
        self.calls.append(("poll_recv", self.clock.ticks_ms(), None))
        return self.rx_script.pop(0) if self.rx_script else True

    def standby(self):
        self.calls.append(("standby", self.clock.ticks_ms(), None))

    def sleep(self):
        self.calls.append(("sleep", self.clock.ticks_ms(), None))

    def names(self):
        return [call[0] for call in self.calls]


def make(start_ms=10000, **options):
    clock = ManualClock(start_ms)
    modem = RecordingModem(clock)
    radio = Sx12xxRadio(modem, clock, hw_ticks_ms=modem.hw_ticks_ms, ticks_diff=time.ticks_diff, **options)
    return clock, modem, radio


def test_transmit_configures_a_lorawan_uplink_and_returns_the_tx_end_on_the_mac_clock():
    clock, modem, radio = make()
    end_ms = radio.transmit(b"\x40\x01\x02", 868100000, 9, 125, 14)
    assert modem.names() == ["configure", "send"]
    assert modem.calls[0][2] == {
        "freq_khz": 868100, "sf": 9, "bw": "125", "coding_rate": 5, "output_power": 14, "syncword": 0x34,
        "preamble_len": 8, "implicit_header": False, "crc_en": True, "invert_iq_tx": False,
    }, modem.calls[0][2]
    assert modem.calls[1][2] == b"\x40\x01\x02"
    # the hardware tick wrapped during the frame; the MAC still gets the true end time
    assert end_ms == 10000 + 62, end_ms
    assert clock.ticks_ms() == 10000 + 65


def test_transmit_options_for_sx1276_boards_and_dr6():
    clock, modem, radio = make(tx_ant="PA_BOOST")
    radio.transmit(b"x", 868300000, 7, 250, 16)
    cfg = modem.calls[0][2]
    assert cfg["tx_ant"] == "PA_BOOST" and cfg["bw"] == "250" and cfg["output_power"] == 16


def test_off_raster_frequency_keeps_its_100_hz():
    clock, modem, radio = make()
    radio.transmit(b"x", 867100100, 7, 125, 14)
    assert modem.calls[0][2]["freq_khz"] == 867100.1


def test_receive_configures_inverted_iq_without_crc_then_opens_at_the_tick():
    clock, modem, radio = make(start_ms=0, rx_boost=True)
    modem.rx_script.append(rx_packet(b"\x60downlink", rssi=-101, snr_x4=-10))
    data = radio.receive(868500000, 7, 125, 980, 40)
    assert data == b"\x60downlink"
    assert modem.names() == ["configure", "recv"]
    assert modem.calls[0][1] == 0  # configured before sleeping, so the window is not late
    assert modem.calls[0][2] == {
        "freq_khz": 868500, "sf": 7, "bw": "125", "coding_rate": 5, "syncword": 0x34, "preamble_len": 8,
        "implicit_header": False, "crc_en": False, "invert_iq_rx": True, "rx_boost": True,
    }, modem.calls[0][2]
    assert modem.calls[1][1] == 980 and modem.calls[1][2] == 40
    assert radio.last_rssi_dbm == -101 and radio.last_snr_db == -2.5


def test_receive_window_never_shorter_than_six_symbols():
    clock, modem, radio = make(start_ms=0)
    assert radio.receive(869525000, 12, 125, 1980, 40) is None
    # SF12/125: 6 x 32.768 ms = 196.6 ms -> 197 ms; the window closed without a frame
    assert modem.calls[1] == ("recv", 1980, 197), modem.calls[1]
    assert modem.calls[0][2]["freq_khz"] == 869525 and modem.calls[0][2]["sf"] == 12


def test_receive_when_the_window_is_already_open_starts_at_once():
    clock, modem, radio = make(start_ms=5000)
    radio.receive(868100000, 7, 125, 4990, 40)
    assert modem.calls[1][1] == 5000


def test_receive_drops_a_frame_with_a_bad_crc():
    clock, modem, radio = make(start_ms=0)
    modem.rx_script.append(rx_packet(b"junk", valid_crc=False))
    assert radio.receive(868100000, 7, 125, 1000, 40) is None


def test_class_c_listen_and_poll():
    clock, modem, radio = make()
    assert radio.poll() is None and modem.names() == []  # not listening: the modem is not touched
    radio.listen(869525000, 12, 125)
    assert modem.calls[0][2]["invert_iq_rx"] is True and modem.calls[0][2]["crc_en"] is False
    assert modem.calls[1][0] == "start_recv" and modem.calls[1][2] == (None, True)
    modem.rx_script.append(True)
    modem.rx_script.append(rx_packet(b"\xa0class-c"))
    assert radio.poll() is None
    assert radio.poll() == b"\xa0class-c"
    radio.sleep()
    assert modem.names()[-1] == "sleep"
    assert radio.poll() is None


def test_transmit_ends_class_c_listening():
    clock, modem, radio = make()
    radio.listen(869525000, 12, 125)
    radio.transmit(b"x", 868100000, 7, 125, 14)
    count = len(modem.calls)
    assert radio.poll() is None and len(modem.calls) == count


mpytest.main(globals())
