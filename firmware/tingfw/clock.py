"""The watchdog inside every wait.

The MAC sleeps through receive windows and duty-cycle waits on the clock passed to it (up to
6 s + a window for a join accept at SF12, longer for duty cycle). WatchdogClock wraps the
device clock (tingfw.radio.clock.SystemClock, which never wraps) and feeds the watchdog in
slices shorter than its timeout, so an RP2040 (watchdog max 8.3 s) is never reset mid-join.
"""


class WatchdogClock:
    def __init__(self, clock, wdt, slice_ms=1000):
        self._clock = clock
        self._wdt = wdt
        self.slice_ms = slice_ms
        self.feeds = 0

    def ticks_ms(self):
        return self._clock.ticks_ms()

    def feed(self):
        self._wdt.feed()
        self.feeds += 1

    def sleep_ms(self, ms):
        self.feed()
        while ms > 0:
            step = ms if ms < self.slice_ms else self.slice_ms
            self._clock.sleep_ms(step)
            ms -= step
            self.feed()
