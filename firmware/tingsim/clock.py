"""SimClock: simulated time that skips ahead through long sleeps and runs at wall speed through short ones.

Why two speeds: a device spends almost all its life asleep (deep sleep, watchdog slices of a long
wait, a sensor warm-up) and those sleeps can be shortened by `sleep_scale`; but its receive windows
are 1 s and 5 s after an uplink, answered over loopback UDP by a network server on the wall clock.
The virtual radio waits for them in steps of a few ms, which stay real, so RX1/RX2 and join-accept
timing hold at any scale. `time_scale` stays 1: the virtual gateway polls its socket every 5 ms.
"""

import time

from tingfw.radio.clock import SystemClock

REALTIME_BELOW_MS = 20
MIN_WALL_S = 0.001  # an accelerated sleep still yields the CPU: a fleet shares two cores


class SimClock:
    time_scale = 1

    def __init__(self, sleep_scale=1, start_ms=0):
        if sleep_scale < 1:
            raise ValueError("sleep_scale must be >= 1")
        self.sleep_scale = sleep_scale
        self._wall = SystemClock(1)
        self.skipped_ms = start_ms

    def ticks_ms(self):
        return self._wall.ticks_ms() + self.skipped_ms

    def sleep_ms(self, ms):
        if ms <= 0:
            return
        if ms < REALTIME_BELOW_MS or self.sleep_scale == 1:
            time.sleep(ms / 1000)
            return
        before = self._wall.ticks_ms()
        time.sleep(max(MIN_WALL_S, ms / self.sleep_scale / 1000))
        spent = self._wall.ticks_ms() - before
        if ms > spent:
            self.skipped_ms += ms - spent
