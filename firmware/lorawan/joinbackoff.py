"""Join-request retransmission back-off (LoRaWAN 1.0.4 §7, TS001): aggregated join airtime of at most
36 s in the first hour after start, 36 s per 10 h in hours 1..11, then 8.7 s per 24 h."""

HOUR_MS = 3600000
DAY_MS = 24 * HOUR_MS


def window(elapsed_ms):
    """(window start, window end, airtime budget) for a time since the first join attempt."""
    if elapsed_ms < HOUR_MS:
        return 0, HOUR_MS, 36000
    if elapsed_ms < 11 * HOUR_MS:
        return HOUR_MS, 11 * HOUR_MS, 36000
    start = 11 * HOUR_MS + (elapsed_ms - 11 * HOUR_MS) // DAY_MS * DAY_MS
    return start, start + DAY_MS, 8700


class JoinBackoff:
    def __init__(self):
        self.started_ms = None
        self.window_start = -1
        self.used_ms = 0

    def wait_ms(self, now_ms, airtime_ms):
        """Milliseconds until a join-request of airtime_ms fits the budget (0 = now)."""
        if self.started_ms is None:
            return 0
        elapsed = now_ms - self.started_ms
        start, end, budget = window(elapsed)
        used = self.used_ms if start == self.window_start else 0
        if used + airtime_ms <= budget:
            return 0
        return self.started_ms + end - now_ms

    def record(self, start_ms, airtime_ms):
        if self.started_ms is None:
            self.started_ms = start_ms
        start = window(start_ms - self.started_ms)[0]
        if start != self.window_start:
            self.window_start = start
            self.used_ms = 0
        self.used_ms += airtime_ms

    def state(self, now_ms):
        """[time since the first attempt + 1 (0 = none), airtime used in its window] for persist.py; after
        hour 11 only the place in the 24 h window matters, so whole days are dropped (small numbers)."""
        if self.started_ms is None:
            return [0, 0]
        elapsed = now_ms - self.started_ms
        start = window(elapsed)[0]
        used = self.used_ms if start == self.window_start else 0
        return [elapsed - max(start - 11 * HOUR_MS, 0) + 1, used]

    def resume(self, state, now_ms):
        """Restore state() as of now_ms (the save time, or the restore time if the clock restarted)."""
        if state[0]:
            self.started_ms = now_ms - state[0] + 1
            self.window_start = window(state[0] - 1)[0]
            self.used_ms = state[1]
