"""The watchdog inside every wait.

The MAC sleeps through receive windows and duty-cycle waits on the clock passed to it (up to
6 s + a window for a join accept at SF12, longer for duty cycle). WatchdogClock wraps the
device clock (tingfw.radio.clock.SystemClock, which never wraps) and feeds the watchdog in
slices shorter than its timeout, so an RP2040 (watchdog max 8.3 s) is never reset mid-join.
"""


class WatchdogClock:
    """`idle(ms)`, when given, replaces waits of at least idle_min_ms: machine.lightsleep on ESP32
    battery boards (0.24 mA instead of ~30 mA through the app's longer waits). Short waits (UART
    polling, debounce sampling, Class C polls) stay awake so nothing is missed.

    `light_sleep(ms)`, when given, is what `light_sleep_ms` runs for the radio adapter's waits
    (tingfw.radio.sx12xx): any length, because the radio works on by itself and is polled after.
    `light_sleep_ms` is None when the board gave none, so the adapter knows to stay awake."""

    def __init__(self, clock, wdt, slice_ms=1000, idle=None, idle_min_ms=100, light_sleep=None):
        self._clock = clock
        self._wdt = wdt
        self.slice_ms = slice_ms
        self.feeds = 0
        self._idle = idle
        self.idle_min_ms = idle_min_ms
        self._light = light_sleep
        self.light_sleep_ms = self._light_sleep_ms if light_sleep is not None else None
        # the wrapped clock's RTC time, if it has one: the MAC's restored duty-cycle ledger sees time asleep
        self.epoch_ms = getattr(clock, "epoch_ms", None)

    def ticks_ms(self):
        return self._clock.ticks_ms()

    def feed(self):
        self._wdt.feed()
        self.feeds += 1

    def sleep_ms(self, ms):
        self._sliced(ms, False)

    def _light_sleep_ms(self, ms):
        self._sliced(ms, True)

    def _sliced(self, ms, light):
        # never one sleep longer than a slice: the watchdog is fed between slices
        self.feed()
        while ms > 0:
            step = ms if ms < self.slice_ms else self.slice_ms
            if light:
                self._light(step)
            elif self._idle is not None and step >= self.idle_min_ms:
                self._idle(step)
            else:
                self._clock.sleep_ms(step)
            ms -= step
            self.feed()
