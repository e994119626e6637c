# The RP2040's sleep between wakes, under the real MicroPython: light sleep in slices under the watchdog
# (it keeps counting through lightsleep), ended early by a reed-switch edge on the wake pin, then the
# next wake runs in place with the right wake reason. `machine` is a recording stand-in.
import json
import sys

import mpytest
from tingfw.fakes import FakeClock, FakeHardware, FakeLink, FakeStore, FakeWatchdog
from tingfw.timed_sleep import sleep_sliced

CLOCK = FakeClock()


class FakeMachinePin:
    IN = 0
    OUT = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, level=1):
        self.level = level
        self.handler = None
        self.trigger = None
        self.pull = "up"
        self.change_at_ms = None  # the reed opens then: the level flips and the IRQ fires

    def init(self, pull=None):
        self.pull = pull

    def value(self):
        return self.level

    def irq(self, handler=None, trigger=None):
        self.handler = handler
        if handler is not None:
            self.trigger = trigger


class Sleeps:
    """count / total / longest of the lightsleeps (a day in 2 s slices is too many to keep)."""

    def __init__(self):
        self.count = 0
        self.total_ms = 0
        self.longest_ms = 0

    def append(self, ms):
        self.count += 1
        self.total_ms += ms
        self.longest_ms = max(self.longest_ms, ms)


class FakeMachine:
    """The few machine functions tingfw.hardware's rp2 sleep uses, on the fake clock."""

    Pin = FakeMachinePin

    def __init__(self):
        self.sleeps = Sleeps()
        self.watched = None  # the pin whose scripted change interrupts a lightsleep

    def WDT(self, timeout):  # noqa: N802 (machine's name)
        return FakeWatchdog(timeout, CLOCK)

    def lightsleep(self, ms):
        self.sleeps.append(ms)
        pin = self.watched
        if pin is not None and pin.change_at_ms is not None and CLOCK.now_ms + ms >= pin.change_at_ms:
            CLOCK.now_ms = pin.change_at_ms  # a pin IRQ with a handler ends a timed lightsleep (rp2)
            pin.level = 1 - pin.level
            pin.change_at_ms = None
            if pin.handler is not None:
                pin.handler(pin)
            return
        CLOCK.advance(ms)

    def deepsleep(self, ms):
        raise AssertionError("rp2 must not deep-sleep: it is a reset, and the watchdog cuts it short")

    def reset_cause(self):
        return 1

    PWRON_RESET = 1


MACHINE = FakeMachine()
sys.modules["machine"] = MACHINE
from tingfw.hardware import MachineHardware  # noqa: E402  (after the stand-in is in place)


def make_hardware():
    CLOCK.now_ms = 0
    MACHINE.sleeps = Sleeps()
    hardware = MachineHardware("rp2040", ticks_ms=CLOCK.ticks_ms, ticks_diff=lambda a, b: a - b)
    wdt = hardware.watchdog(8300)
    return hardware, wdt


def test_sleep_sliced_feeds_between_slices_and_stops_when_woken():
    clock = FakeClock()
    sleeps = []
    feeds = []
    slept = sleep_sliced(10000, 2075, lambda ms: (sleeps.append(ms), clock.advance(ms)), clock.ticks_ms,
                         lambda a, b: a - b, lambda: feeds.append(clock.ticks_ms()), lambda: False)
    assert slept == 10000 and sleeps == [2075, 2075, 2075, 2075, 1700], sleeps
    assert feeds == [2075, 4150, 6225, 8300, 10000], feeds
    woken_after = [3]
    sleeps.clear()

    def woken():
        woken_after[0] -= 1
        return woken_after[0] < 0

    assert sleep_sliced(10000, 2075, lambda ms: (sleeps.append(ms), clock.advance(ms)), clock.ticks_ms,
                        lambda a, b: a - b, lambda: None, woken) == 3 * 2075
    assert len(sleeps) == 3


def test_a_heartbeat_long_sleep_is_sliced_under_the_watchdog():
    hardware, wdt = make_hardware()
    hardware.deep_sleep(86400 * 1000)
    assert MACHINE.sleeps.total_ms == 86400 * 1000 and MACHINE.sleeps.longest_ms <= 8300 // 4
    assert wdt.longest_gap_ms <= 8300 // 4
    assert hardware.reset_cause() == "deep_sleep_wake" and hardware.woke_by_pin() is False
    assert hardware.slept_ms == 86400 * 1000


def test_the_reed_switch_wakes_a_pico_lifebuoy_early():
    hardware, wdt = make_hardware()
    reed = FakeMachinePin(level=1)  # magnet present holds the input high (active level 1)
    MACHINE.watched = reed
    reed.change_at_ms = 3 * 3600 * 1000 + 1234  # the buoy is taken three hours in
    hardware.deep_sleep(86400 * 1000, reed, 0)  # wake when the level goes to 0
    assert reed.pull is None  # no internal pull leaking through the closed contact
    assert reed.trigger == FakeMachinePin.IRQ_FALLING
    assert reed.handler is None  # the IRQ is released after the sleep
    assert hardware.woke_by_pin() is True and hardware.reset_cause() == "deep_sleep_wake"
    assert hardware.slept_ms == 3 * 3600 * 1000 + 1234
    assert wdt.longest_gap_ms <= 8300 // 4
    MACHINE.watched = None


def test_a_pin_already_at_its_wake_level_does_not_sleep_at_all():
    hardware, _wdt = make_hardware()
    reed = FakeMachinePin(level=0)  # changed while the cycle ran: no edge will come
    hardware.deep_sleep(60000, reed, 0)
    assert MACHINE.sleeps.count == 0 and hardware.woke_by_pin() is True and hardware.slept_ms == 0


def test_the_next_wake_counts_the_time_slept_towards_the_heartbeat():
    from tingfw import main as boot

    clock = FakeClock()
    hardware = FakeHardware(clock, reset_cause="deep_sleep_wake", woke_by_pin=True)
    hardware.slept_ms = 5 * 3600 * 1000
    raw = {"device": "lifebuoy", "dev_eui": "70B3D57ED0000001", "join_eui": "70b3d57ed0000000",
           "app_key": "2b7e151628aed2a6abf7158809cf4f3c", "region": "EU868", "board": "pico_waveshare_sx1262"}
    stores = (FakeStore(), FakeStore())
    started = boot.start(json.dumps(raw), hardware, clock, lambda line: None,
                         link_factory=lambda *args: FakeLink(clock=clock), stores=stores)
    app = started[1]
    app.state.update(present=True, tamper=False)  # not the first wake
    boot.run_once(started, hardware)
    assert app.state["woke_after_s"] == 5 * 3600
    assert app.state["since_heartbeat_s"] == 5 * 3600


mpytest.main(globals())
