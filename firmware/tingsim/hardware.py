"""SimHardware: tingfw's hardware interface whose sensors follow a scenario in simulated time.

Built on tingfw.fakes.FakeHardware (the apps' own host fakes); pins, ADCs, the ultrasonic UART and
the energy-meter pulses are computed from the scenario when the firmware reads them. RTC memory
is kept in a file so a simulated reset keeps what an ESP32 keeps (RTC memory survives resets and
deep sleep, not power loss). Deep sleep is a (time-scaled) wait that a wake pin can cut short.
"""

import math

from tingfw.fakes import FakeCounter, FakeHardware, FakePwm

from tingsim import scenarios
from tingsim.clock import SimulationEnd

VREF_MV = 3300
INPUT_ROLES = {"fill_level": ("tilt_switch",), "lifebuoy": ("presence", "tamper"), "streetlight": ("pir",)}


class _Pin:
    def __init__(self, level_fn):
        self.level_fn = level_fn
        self.level = 0

    def value(self, level=None):
        if level is None:
            return self.level_fn()
        self.level = level

    def irq(self, handler=None, trigger=None):
        pass

    def init(self, *args, **kwargs):
        pass


class _Adc:
    def __init__(self, raw_fn):
        self.raw_fn = raw_fn

    def read_u16(self):
        return max(0, min(65535, int(self.raw_fn())))


class _UltrasonicUart:
    """An A02YYUW streaming frames of the scenario's distance plus the sensor's own noise: +-noise_mm,
    and one read in echo_outlier_every an echo off the bin wall (the median filter must drop it)."""

    def __init__(self, distance_fn, scenario, seed):
        self.distance_fn = distance_fn
        self.noise_mm = scenario.get("noise_mm", 0)
        self.outlier_every = scenario.get("echo_outlier_every", 0)
        self.outlier_mm = scenario.get("echo_outlier_mm", 300)
        self.state = seed & 0x7FFFFFFF or 1
        self.outliers = 0

    def _random(self, span):
        """A deterministic integer in 0..span-1 (a linear congruential generator: repeatable runs)."""
        self.state = (1103515245 * self.state + 12345) & 0x7FFFFFFF
        return (self.state >> 8) % span

    def any(self):
        return 8

    def read(self, n=None):
        if self.outlier_every and self._random(self.outlier_every) == 0:
            mm = self.outlier_mm
            self.outliers += 1
        else:
            mm = self.distance_fn()
            if self.noise_mm:
                mm += self._random(2 * self.noise_mm + 1) - self.noise_mm
        mm = max(0, min(0xFFFF, mm))
        high, low = (mm >> 8) & 0xFF, mm & 0xFF
        frame = bytes((0xFF, high, low, (0xFF + high + low) & 0xFF))
        return frame + frame

    def write(self, data):
        return len(data)


class _LoggingPwm(FakePwm):
    """The dimmer's PWM; logs each change of the lamp level (whole percent) as the lamp shows it."""

    def __init__(self, log):
        FakePwm.__init__(self)
        self.log = log
        self.level_pct = None

    def duty_u16(self, duty):
        FakePwm.duty_u16(self, duty)
        level_pct = (duty * 100 + 32767) // 65535
        if level_pct != self.level_pct:
            self.level_pct = level_pct
            self.log("lamp level %d %%" % level_pct)


class _NoWatchdog:
    def feed(self):
        pass


class _ScenarioCounter(FakeCounter):
    """BL0937 CF pulses at the rate of the lamp's power (PWM duty, relay, failure)."""

    def __init__(self, clock, joules_per_pulse, power_fn):
        FakeCounter.__init__(self, clock, joules_per_pulse)
        self.power_fn = power_fn

    def count(self):
        self.power_w = self.power_fn()
        return FakeCounter.count(self)


class SimHardware(FakeHardware):
    def __init__(self, clock, cfg, pins, board, scenario, rtc_path, seed=1, log=None):
        FakeHardware.__init__(self, clock, reset_cause="power_on")
        self.seed = seed
        self.cfg = cfg
        self.device = cfg["device"]
        self.roles = {}  # pin number -> role, for this device type's roles
        for role in pins:
            self.roles.setdefault(pins[role], [])
            self.roles[pins[role]].append(role)
        self.board = board
        self.scenario = scenario
        self.rtc_path = rtc_path
        self.pwm_out = _LoggingPwm(log or _no_log)
        self.relay = None
        self.relay_number = pins.get("relay")
        self.sleeps = 0
        self.pin_wakes = 0
        self.slept_ms = None
        self.ultrasonic = None
        try:
            with open(rtc_path, "rb") as handle:
                self.rtc = bytearray(handle.read())
        except OSError:
            self.rtc = bytearray()

    def now_s(self):
        return self.clock.ticks_ms() / 1000

    def _role(self, number, wanted):
        for role in self.roles.get(number, ()):
            if role in wanted:
                return role
        return None

    def pin_in(self, number, pull=None):
        settings = self.cfg["settings"]
        # Boards share a pin between roles of different device types (presence and PIR): ask this type's.
        role = self._role(number, INPUT_ROLES[self.device])
        if role == "presence" and self.device == "lifebuoy":
            active = settings["presence_active_level"]
            return _Pin(lambda: active if scenarios.buoy_present(self.scenario, self.now_s()) else 1 - active)
        if role == "pir" and self.device == "streetlight":
            active = settings["pir_active_level"]
            return _Pin(lambda: active if scenarios.pedestrian(self.scenario, self.now_s()) else 1 - active)
        if role == "tamper":
            quiet = 1 - settings.get("tamper_active_level", 1)
            return _Pin(lambda: quiet)
        if role == "tilt_switch" and self.device == "fill_level":
            return _Pin(lambda: 1 if scenarios.tilted(self.scenario, self.now_s()) else 0)  # SwitchTilt: 1 = tilted
        return _Pin(lambda: 0)  # anything else idle

    def pin_out(self, number, value=0):
        pin = FakeHardware.pin_out(self, number, value)
        if number == self.relay_number and self.device == "streetlight":
            self.relay = pin
        return pin

    def adc(self, number):
        if self._role(number, ("ntc_adc",)):
            return _Adc(self._ntc_raw)
        battery = self.board.get("battery", {})
        r_top, r_bottom = battery.get("r_top_kohm", 100), battery.get("r_bottom_kohm", 100)
        battery_mv = self.scenario.get("battery_mv", 3600)
        return _Adc(lambda: battery_mv * r_bottom / (r_top + r_bottom) * 65535 / VREF_MV)

    def _ntc_raw(self):
        t_k = scenarios.temperature_c(self.scenario, self.now_s()) + 273.15
        r_ntc = 10000 * math.exp(3950 * (1 / t_k - 1 / 298.15))
        return 65535 * r_ntc / (10000 + r_ntc)

    def uart(self, uart_id, baud, tx, rx):
        # one sensor per board: a reboot (every wake) finds it where its noise left off
        if self.ultrasonic is None:
            self.ultrasonic = _UltrasonicUart(lambda: scenarios.distance_mm(self.scenario, self.now_s()),
                                              self.scenario, self.seed)
        return self.ultrasonic

    def pwm(self, number):
        return self.pwm_out

    def counter(self, number):
        return _ScenarioCounter(self.clock, self.cfg["settings"]["joules_per_pulse"], self._lamp_power_w)

    def _lamp_power_w(self):
        duty = self.pwm_out.duty or 0
        relay_on = self.relay.level if self.relay is not None else duty > 0
        return scenarios.lamp_power_w(self.scenario, self.now_s(), duty, relay_on)

    def watchdog(self, timeout_ms):
        return _NoWatchdog()

    def _rtc_memory(self, data=None):
        if data is None:
            return bytes(self.rtc)
        self.rtc = bytearray(data)
        with open(self.rtc_path + ".tmp", "wb") as handle:
            handle.write(self.rtc)
        import os

        os.rename(self.rtc_path + ".tmp", self.rtc_path)

    def deep_sleep(self, sleep_ms, wake_pin=None, wake_level=None):
        """Sleep (scaled) until the timer or, if given, the wake pin reaching wake_level."""
        self.sleeps += 1
        self.cause = "deep_sleep_wake"
        self.pin_wake = False
        self.slept_ms = None  # an ESP32 wakes by a reset and does not know; an RP2040 sleeps in place and does
        start_ms = self.clock.ticks_ms()
        deadline_ms = start_ms + sleep_ms
        end_ms = getattr(self.clock, "end_ms", None)
        if end_ms is not None and deadline_ms >= end_ms:  # the simulation ends during this sleep
            deadline_ms = end_ms
        if wake_pin is not None and wake_level is not None and self.device == "lifebuoy":
            # the reed switch's interrupt: wake at the scenario's next change, not at a polling step
            while True:
                if wake_pin.value() == wake_level:
                    self.pin_wake = True
                    self.pin_wakes += 1
                    if self.board.get("mcu") == "rp2040":
                        self.slept_ms = self.clock.ticks_ms() - start_ms
                    return
                change_s = scenarios.next_presence_change_s(self.scenario, self.now_s())
                until_ms = deadline_ms if change_s is None else min(deadline_ms, int(change_s * 1000) + 1)
                left_ms = until_ms - self.clock.ticks_ms()
                if left_ms > 0:
                    self.clock.sleep_ms(left_ms)
                if self.clock.ticks_ms() >= deadline_ms and wake_pin.value() != wake_level:
                    break
        left_ms = deadline_ms - self.clock.ticks_ms()
        if left_ms > 0:
            self.clock.sleep_ms(left_ms)
        if end_ms is not None and self.clock.ticks_ms() >= end_ms:
            raise SimulationEnd()


def _no_log(_line):
    pass
