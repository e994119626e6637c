"""The clock passed to drivers, apps and the MAC: ticks_ms / ticks_diff / sleep_ms.

WatchdogClock feeds the watchdog inside every sleep, in slices shorter than its timeout:
the MAC's receive-window waits (up to 6 s + window for a join at SF12) go through
clock.sleep_ms, so an RP2040 (watchdog max 8.3 s) is never reset in the middle of a join.
"""

import time


class Clock:
    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    def sleep_ms(self, ms):
        if ms > 0:
            time.sleep_ms(ms)


class WatchdogClock:
    def __init__(self, clock, wdt, slice_ms=1000):
        self._clock = clock
        self._wdt = wdt
        self.slice_ms = slice_ms
        self.feeds = 0

    def ticks_ms(self):
        return self._clock.ticks_ms()

    def ticks_diff(self, a, b):
        return self._clock.ticks_diff(a, b)

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
