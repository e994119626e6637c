# Driver parsing and conversions under the real MicroPython interpreter, with host fakes.
import mpytest
from tingfw.drivers.a02yyuw import A02YYUW, FrameParser
from tingfw.drivers.battery import BatteryDivider
from tingfw.drivers.bl0937 import EnergyMeter, bl0937_joules_per_pulse
from tingfw.drivers.dimmer import Dimmer, level_to_duty_u16
from tingfw.drivers.jsnsr04t import JSNSR04T, round_trip_to_mm
from tingfw.drivers.switch import Switch, debounce
from tingfw.drivers.thermistor import NtcThermistor
from tingfw.drivers.tilt import AccelTilt, SwitchTilt, tilt_angle_deg
from tingfw.fakes import FakeAdc, FakeClock, FakeCounter, FakePin, FakePwm, FakeUart


def frame(distance_mm):
    high = distance_mm >> 8
    low = distance_mm & 0xFF
    return bytes((0xFF, high, low, (0xFF + high + low) & 0xFF))


def parse(data):
    parser = FrameParser()
    out = []
    parser.feed(data, out)
    return out, parser


def test_a02yyuw_reference_frame():
    # firmware.md §8.1: FF 07 A1 A7 -> 0x07A1 = 1953 mm
    out, parser = parse(bytes.fromhex("FF07A1A7"))
    assert out == [1953], out
    assert parser.bad_checksums == 0


def test_a02yyuw_bad_checksum_rejected():
    out, parser = parse(bytes.fromhex("FF07A1A8"))
    assert out == []
    assert parser.bad_checksums == 1


def test_a02yyuw_resync_after_garbage():
    garbage = bytes((0x12, 0x00, 0x34, 0xFF, 0xFF, 0x99))  # noise including a false header
    out, _ = parse(garbage + frame(1234) + b"\x01\x02" + frame(250))
    assert out == [1234, 250], out


def test_a02yyuw_lost_byte_realigns_on_next_header():
    broken = frame(1500)[:3]  # the checksum byte got lost
    out, parser = parse(broken + frame(800) + frame(801))
    assert 800 in out and 801 in out, out
    assert 1500 not in out
    assert parser.bad_checksums >= 1


def test_a02yyuw_split_across_reads():
    parser = FrameParser()
    out = []
    data = frame(2000) + frame(2001)
    for index in range(len(data)):
        parser.feed(data[index:index + 1], out)
    assert out == [2000, 2001]


def test_a02yyuw_all_byte_values_never_crash():
    parser = FrameParser()
    out = []
    parser.feed(bytes(range(256)) * 3, out)
    for value in out:
        assert 0 <= value <= 0xFFFF


def test_a02yyuw_driver_reads_fresh_frame_after_discard():
    clock = FakeClock()
    # A stale frame waits in the buffer from before the sleep; fresh frames stream after it.
    uart = FakeUart(chunks=[frame(999)], repeat=frame(1111))
    sensor = A02YYUW(uart, clock, timeout_ms=400)
    assert sensor.read_mm() == 1111


def test_a02yyuw_sensor_that_never_answers_times_out():
    clock = FakeClock()
    sensor = A02YYUW(FakeUart(), clock, timeout_ms=400)
    assert sensor.read_mm() is None
    assert 400 <= clock.now_ms <= 420  # bounded: gave up after its timeout


def test_a02yyuw_only_garbage_times_out():
    clock = FakeClock()
    sensor = A02YYUW(FakeUart(repeat=b"\xff\x01\x02\x03"), clock, timeout_ms=300)
    assert sensor.read_mm() is None
    assert sensor.bad_checksums > 0


def test_jsnsr04t_echo_to_distance():
    assert round_trip_to_mm(5824, 20) == 1000  # 343.4 m/s at 20 C: 5.824 ms there and back
    assert round_trip_to_mm(6267, -20) == 1000  # colder air, slower sound: 319.2 m/s
    trigger = FakePin()
    widths = [5824]
    sensor = JSNSR04T(trigger, FakePin(), lambda pin, level, timeout: widths[0], lambda us: None)
    assert sensor.read_mm() == 1000
    assert trigger.writes == [0, 1, 0]  # a clean trigger pulse


def test_jsnsr04t_no_echo_is_none_not_ten_metres():
    widths = [60000]  # the module holds echo high ~60 ms when nothing returns
    sensor = JSNSR04T(FakePin(), FakePin(), lambda pin, level, timeout: widths[0], lambda us: None)
    assert sensor.read_mm() is None
    widths[0] = -1  # echo never rose: the sensor is not connected
    assert sensor.read_mm() is None
    widths[0] = -2
    assert sensor.read_mm() is None


def test_switch_and_debounce_ignores_wind_sway():
    clock = FakeClock()
    pin = FakePin(level=0, clock=clock)  # active low: magnet present
    pin.script = [(100, 1), (300, 0)]  # opens for 200 ms as the buoy sways
    assert debounce(Switch(pin, active_level=0), clock, stable_ms=1000) is True


def test_debounce_accepts_a_real_removal():
    clock = FakeClock()
    pin = FakePin(level=1, clock=clock)
    assert debounce(Switch(pin, active_level=0), clock, stable_ms=500) is False
    assert clock.now_ms >= 500


def test_debounce_is_bounded_on_a_chattering_switch():
    clock = FakeClock()
    pin = FakePin(level=0, clock=clock)
    pin.script = [(t, (t // 100) % 2) for t in range(0, 20000, 100)]
    debounce(Switch(pin, 0), clock, stable_ms=1000)
    assert clock.now_ms <= 4100


def test_battery_divider():
    battery = BatteryDivider(FakeAdc(32768), ref_mv=3300, r_top_kohm=100, r_bottom_kohm=100)
    assert 3290 <= battery.read_mv() <= 3310
    heltec = BatteryDivider(FakeAdc(int(65535 * 0.8 / 3.3)), ref_mv=3300, r_top_kohm=390, r_bottom_kohm=100)
    assert 3900 <= heltec.read_mv() <= 3925  # 0.8 V at the pin * 4.9


def test_tilt_from_accelerometer_and_switch():
    assert tilt_angle_deg(0, 0, 1000) < 1
    assert 89 < tilt_angle_deg(1000, 0, 0) < 91
    assert tilt_angle_deg(0, 0, 0) is None
    readings = [(0, 100, 995)]
    accel = AccelTilt(lambda: readings[0], max_angle_deg=45)
    assert accel.tilted() is False
    readings[0] = (0, 990, 100)
    assert accel.tilted() is True
    assert accel.tilted(80) is True and accel.tilted(89) is False  # 84 degrees
    assert SwitchTilt(Switch(FakePin(1), active_level=1)).tilted() is True


def test_accelerometer_that_never_answers():
    def broken():
        raise OSError(19)  # ENODEV on I2C
    assert AccelTilt(broken).tilted() is None


def test_dimmer_levels():
    assert level_to_duty_u16(0) == 0
    assert level_to_duty_u16(100) == 65535
    assert level_to_duty_u16(5, min_on_level=10) == level_to_duty_u16(10)
    assert level_to_duty_u16(100, invert=True) == 0
    pwm = FakePwm()
    relay = FakePin()
    dimmer = Dimmer(pwm, relay, min_on_level=10)
    dimmer.set_level(50)
    assert pwm.duty == 32767 and relay.level == 1
    dimmer.set_level(0)
    assert pwm.duty == 0 and relay.level == 0


def test_bl0937_power_and_energy():
    joules = bl0937_joules_per_pulse()
    assert 1.0 < joules < 3.0  # ~1.7 J per pulse with the default divider and a 1 mOhm shunt
    clock = FakeClock()
    counter = FakeCounter(clock, joules)
    counter.power_w = 100
    meter = EnergyMeter(counter, clock, joules, energy_wh=10)
    for _ in range(360):  # one hour in 10 s steps
        clock.advance(10000)
        meter.update()
    assert 98 <= meter.power_w <= 102, meter.power_w
    assert 109 <= meter.energy_wh <= 110, meter.energy_wh


def test_bl0937_counter_wrap():
    clock = FakeClock()

    class WrappingCounter:
        value = 0xFFFFFFF0

        def count(self):
            return self.value

    counter = WrappingCounter()
    meter = EnergyMeter(counter, clock, 3600.0)  # 1 Wh per pulse to make it obvious
    counter.value = 0x10  # wrapped: 32 pulses later
    clock.advance(1000)
    meter.update()
    assert meter.energy_wh == 32


def test_thermistor():
    ntc = NtcThermistor(FakeAdc(32768))
    assert 24.5 < ntc.read_c() < 25.5  # equal resistances: T0
    assert NtcThermistor(FakeAdc(0)).read_c() is None  # shorted
    assert NtcThermistor(FakeAdc(65535)).read_c() is None  # open


mpytest.main(globals())
