"""SimClock: simulated time that skips ahead through long sleeps and runs at wall speed through short ones.

Why two speeds: a device spends almost all its life asleep (deep sleep, watchdog slices of a long
wait, a sensor warm-up) and those sleeps can be shortened by `sleep_scale`; but its receive windows
are 1 s and 5 s after an uplink, answered over loopback UDP by a network server on the wall clock.
So two kinds of wait stay real: sleeps under REALTIME_BELOW_MS (the virtual radio's steps while it
listens), and every wait up to `hold_realtime_until()`, which the simulated radio sets after each
uplink to the end of its last receive window - however the MAC or a light-sleep adapter chooses to
wait for RX1/RX2, the network has its real second to answer. `time_scale` stays 1: the virtual
gateway polls its socket every 5 ms of wall time.

With `end_ms`, the first accelerated sleep at or after it raises SimulationEnd: the simulation stops
at a moment the device sleeps, never inside a receive window.
"""

import time

from tingfw.radio.clock import SystemClock

REALTIME_BELOW_MS = 20
MIN_WALL_S = 0.001  # an accelerated sleep still yields the CPU: a fleet shares two cores


class SimulationEnd(BaseException):
    """Raised out of a sleep once the simulated duration is over (BaseException: apps catch Exception)."""


class SimClock:
    time_scale = 1

    def __init__(self, sleep_scale=1, start_ms=0, end_ms=None):
        if sleep_scale < 1:
            raise ValueError("sleep_scale must be >= 1")
        self.sleep_scale = sleep_scale
        self._wall = SystemClock(1)
        self.skipped_ms = start_ms
        self.end_ms = end_ms
        self.realtime_until_ms = 0

    def ticks_ms(self):
        return self._wall.ticks_ms() + self.skipped_ms

    def hold_realtime_until(self, at_ms):
        """Run every sleep at wall speed until clock time at_ms (the end of the receive windows)."""
        self.realtime_until_ms = max(self.realtime_until_ms, at_ms)

    def release_realtime(self):
        """The awaited downlink came: later sleeps may be accelerated again."""
        self.realtime_until_ms = 0

    def sleep_ms(self, ms):
        if ms <= 0:
            return
        if ms < REALTIME_BELOW_MS or self.sleep_scale == 1:
            time.sleep(ms / 1000)
            return
        held_ms = min(ms, self.realtime_until_ms - self.ticks_ms())
        if held_ms > 0:  # the part of the sleep inside the receive windows runs in real time
            time.sleep(held_ms / 1000)
            ms -= held_ms
            if ms < REALTIME_BELOW_MS:
                if ms > 0:
                    time.sleep(ms / 1000)
                return
        if self.end_ms is not None and self.ticks_ms() >= self.end_ms:
            raise SimulationEnd()
        before = self._wall.ticks_ms()
        time.sleep(max(MIN_WALL_S, ms / self.sleep_scale / 1000))
        spent = self._wall.ticks_ms() - before
        if ms > spent:
            self.skipped_ms += ms - spent
