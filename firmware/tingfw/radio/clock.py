"""Clocks passed to the MAC and the radios: `ticks_ms()` and `sleep_ms(ms)`.

`ticks_ms()` here never wraps (it counts from the clock's creation), so callers may
compare and subtract plainly. `time_scale` > 1 runs simulated time faster than the
wall clock: with time_scale=10 an RX1 delay of 1000 ms lasts 100 ms of real time.
"""

import time

# CPython has monotonic_ns; MicroPython has not (its ticks_ms is unwrapped below).
_monotonic_ns = getattr(time, "monotonic_ns", None)


class SystemClock:
    def __init__(self, time_scale=1):
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale
        self._unwrapped_ms = 0
        self._last_ticks = None if _monotonic_ns else time.ticks_ms()
        self._origin_ms = self._wall_ms()

    def _wall_ms(self):
        if _monotonic_ns:
            return _monotonic_ns() // 1000000
        # ticks_ms wraps (2**30 on most ports): accumulate differences instead.
        now = time.ticks_ms()
        self._unwrapped_ms += time.ticks_diff(now, self._last_ticks)
        self._last_ticks = now
        return self._unwrapped_ms

    def ticks_ms(self):
        return int((self._wall_ms() - self._origin_ms) * self.time_scale)

    def sleep_ms(self, ms):
        if ms > 0:
            time.sleep(ms / self.time_scale / 1000)

    def epoch_ms(self):
        """The real-time clock in ms (scaled like ticks_ms): unlike ticks_ms it keeps counting through a
        reset on boards whose RTC runs on (ESP32 deep sleep), so the MAC's restored duty-cycle ledger
        sees the time asleep (lorawan/README.md)."""
        return int(time.time_ns() // 1000000 * self.time_scale)


class ManualClock:
    """Simulated time that only moves when slept or advanced: deterministic tests, instant timeouts."""

    time_scale = 1

    def __init__(self, start_ms=0):
        self.now_ms = start_ms

    def ticks_ms(self):
        return self.now_ms

    def sleep_ms(self, ms):
        if ms > 0:
            self.now_ms += ms

    def advance(self, ms):
        self.now_ms += ms
