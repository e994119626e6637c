"""Host fakes for the hardware and the link, used by the MicroPython tests and the host simulation.

Each fake implements exactly the small interface its driver or app uses, and records what
was done to it so a test can assert on behaviour.
"""

from tingfw.radio.clock import ManualClock


class FakeClock(ManualClock):
    """Simulated time (never wraps, like every clock passed to the MAC): moves only when slept or advanced."""


class FakePin:
    """value() / value(v); `script` maps a clock time (ms) to the level from then on."""

    def __init__(self, level=0, clock=None):
        self.level = level
        self.clock = clock
        self.script = []  # [(at_ms, level)], sorted
        self.writes = []
        self.irq_handler = None

    def value(self, level=None):
        if level is None:
            if self.clock is not None:
                for at_ms, scripted in self.script:
                    if self.clock.ticks_ms() >= at_ms:
                        self.level = scripted
            return self.level
        self.level = level
        self.writes.append(level)

    def irq(self, handler=None, trigger=None):
        self.irq_handler = handler

    def init(self, *args, **kwargs):
        pass


class FakeUart:
    """any() / read(): hands out queued chunks, one per read(), like bytes arriving over time."""

    def __init__(self, chunks=None, repeat=None):
        self.chunks = list(chunks or [])
        self.repeat = repeat  # bytes handed out forever once the queue is empty (a streaming sensor)
        self.written = []

    def any(self):
        return 1 if (self.chunks or self.repeat) else 0

    def read(self, n=None):
        if self.chunks:
            return self.chunks.pop(0)
        return self.repeat

    def write(self, data):
        self.written.append(bytes(data))
        return len(data)


class FakeAdc:
    def __init__(self, raw_u16=32768):
        self.raw_u16 = raw_u16

    def read_u16(self):
        return self.raw_u16


class FakePwm:
    def __init__(self):
        self.duty = None
        self.frequency = None
        self.history = []

    def freq(self, hz):
        self.frequency = hz

    def duty_u16(self, duty):
        self.duty = duty
        self.history.append(duty)


class FakeCounter:
    """A CF pulse counter whose pulse rate follows a power in W (set `power_w`)."""

    def __init__(self, clock, joules_per_pulse):
        self.clock = clock
        self.joules_per_pulse = joules_per_pulse
        self.power_w = 0
        self._pulses = 0.0
        self._last_ms = clock.ticks_ms()

    def count(self):
        now = self.clock.ticks_ms()
        self._pulses += self.power_w * (now - self._last_ms) / 1000 / self.joules_per_pulse
        self._last_ms = now
        return int(self._pulses) & 0xFFFFFFFF


class FakeDistanceSensor:
    """read_mm() from a list of scripted readings (None = no echo); repeats the last one."""

    def __init__(self, readings):
        self.readings = list(readings)
        self.reads = 0
        self.temperature_c = 20

    def read_mm(self):
        self.reads += 1
        if len(self.readings) > 1:
            return self.readings.pop(0)
        return self.readings[0] if self.readings else None


class FakeValue:
    """A sensor with one method returning `value`: read_c, read_mv, tilted, active."""

    def __init__(self, value):
        self.value = value

    def read_c(self):
        return self.value

    def read_mv(self):
        return self.value

    def tilted(self, max_angle_deg=None):
        return self.value

    def active(self):
        return self.value


class FakeStore:
    """store.read(name) / store.write(name, data), in memory; `writes` counts writes per name."""

    def __init__(self):
        self.data = {}
        self.writes = {}

    def read(self, name):
        return self.data.get(name)

    def write(self, name, data):
        self.data[name] = bytes(data)
        self.writes[name] = self.writes.get(name, 0) + 1


class SendResult:
    def __init__(self, acked=None, downlinks=None, fcnt_up=0):
        self.acked = acked
        self.downlinks = downlinks or []
        self.fcnt_up = fcnt_up


class FakeLink:
    """The app-facing link: records every send; answers from scripted acks and downlinks.

    `acks`: list of True/False consumed by confirmed sends (default True).
    `downlinks`: list of [(fport, bytes)] lists, one consumed per send.
    `class_c`: list of [(fport, bytes)] lists, one consumed per poll().
    """

    def __init__(self, joined=True, join_ok=True, clock=None):
        self.joined = joined
        self.join_ok = join_ok
        self.clock = clock
        self.sent = []  # (fport, payload, confirmed)
        self.acks = []
        self.downlinks = []
        self.class_c = []
        self.joins = 0
        self.gps_time_s = None
        self.fcnt_up = 0
        self.polls = 0
        self.multicast = None  # a tingfw.multicast session, as lorawan.Device carries one

    def join(self):
        self.joins += 1
        self.joined = self.join_ok
        return self.joined

    def send(self, fport, payload, confirmed=False):
        if not self.joined:
            raise OSError("not joined")
        self.sent.append((fport, bytes(payload), confirmed))
        self.fcnt_up += 1
        acked = None
        if confirmed:
            acked = self.acks.pop(0) if self.acks else True
        downlinks = self.downlinks.pop(0) if self.downlinks else []
        return SendResult(acked, downlinks, self.fcnt_up)

    def poll(self, timeout_ms):
        self.polls += 1
        if self.clock is not None and timeout_ms > 0:
            self.clock.sleep_ms(timeout_ms)
        return self.class_c.pop(0) if self.class_c else []

    def network_time(self):
        if self.gps_time_s is None:
            return None
        # Network time moves with the clock, like the MAC's DeviceTimeAns plus elapsed ticks.
        elapsed_s = self.clock.ticks_ms() // 1000 if self.clock is not None else 0
        return self.gps_time_s + elapsed_s


class FakeLed:
    def __init__(self):
        self.writes = []

    def value(self, level=None):
        if level is not None:
            self.writes.append(level)


class FakeHardware:
    """Stands in for tingfw.hardware.MachineHardware; records every pin and peripheral made."""

    def __init__(self, clock, reset_cause="power_on", woke_by_pin=False):
        self.clock = clock
        self.made = []  # (kind, number)
        self.pins = {}
        self.adcs = {}
        self.uarts = {}
        self.slept = []  # (ms, wake pin, wake level)
        self.light_sleeps = []  # ms of every machine.lightsleep the radio asked for
        self.slept_ms = None  # set by a test: an in-place sleep (RP2040) that a pin cut short after this long
        self.wdt = None
        self.cause = reset_cause
        self.pin_wake = woke_by_pin
        self.rtc = bytearray()

    def _pin(self, kind, number, value=0):
        self.made.append((kind, number))
        pin = self.pins.get(number) or FakePin(value, self.clock)
        self.pins[number] = pin
        return pin

    def pin_in(self, number, pull=None):
        return self._pin("in", number)

    def pin_out(self, number, value=0):
        pin = self._pin("out", number, value)
        pin.value(value)
        return pin

    def adc(self, number):
        self.made.append(("adc", number))
        return self.adcs.setdefault(number, FakeAdc())

    def uart(self, uart_id, baud, tx, rx):
        self.made.append(("uart", uart_id))
        return self.uarts.setdefault(uart_id, FakeUart())

    def pwm(self, number):
        self.made.append(("pwm", number))
        return FakePwm()

    def i2c(self, sda, scl):
        self.made.append(("i2c", sda))
        return None

    def spi(self, spi_id, sck, mosi, miso):
        self.made.append(("spi", spi_id))
        return None

    def counter(self, number):
        self.made.append(("counter", number))
        return FakeCounter(self.clock, 1.7)

    def pulse_in(self):
        return lambda pin, level, timeout_us: -1

    def sleep_us(self):
        return lambda us: None

    def idle_sleep(self):
        return self.clock.sleep_ms

    def radio_light_sleep(self):
        return self._light_sleep

    def _light_sleep(self, ms):
        self.light_sleeps.append(ms)
        self.clock.sleep_ms(ms)

    def watchdog(self, timeout_ms):
        self.made.append(("wdt", timeout_ms))
        self.wdt = FakeWatchdog(timeout_ms, self.clock)
        return self.wdt

    def reset_cause(self):
        return self.cause

    def woke_by_pin(self):
        return self.pin_wake

    def rtc_memory(self):
        return self._rtc_memory

    def _rtc_memory(self, data=None):
        if data is None:
            return bytes(self.rtc)
        self.rtc = bytearray(data)

    def deep_sleep(self, sleep_ms, wake_pin=None, wake_level=None):
        self.slept.append((sleep_ms, wake_pin, wake_level))


class FakeWatchdog:
    """Fails loudly if not fed within its timeout on the fake clock, as the real one would reset the MCU."""

    def __init__(self, timeout_ms, clock):
        self.timeout_ms = timeout_ms
        self.clock = clock
        self.last_feed_ms = clock.ticks_ms()
        self.longest_gap_ms = 0

    def feed(self):
        gap = self.clock.ticks_ms() - self.last_feed_ms
        if gap > self.longest_gap_ms:
            self.longest_gap_ms = gap
        if gap > self.timeout_ms:
            raise AssertionError("watchdog starved for %d ms (timeout %d ms)" % (gap, self.timeout_ms))
        self.last_feed_ms = self.clock.ticks_ms()

