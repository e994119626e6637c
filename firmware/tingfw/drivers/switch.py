"""A contact input: reed switch or Hall sensor (lifebuoy magnet), tilt switch, PIR output, tamper loop.

`active_level` is the pin level that means "active" (magnet present, tilted, motion).
"""


class Switch:
    def __init__(self, pin, active_level=0):
        self._pin = pin
        self.active_level = active_level

    def active(self):
        return self._pin.value() == self.active_level

    @property
    def pin(self):
        """The machine.Pin, for arming wake-on-change before deep sleep."""
        return self._pin


def debounce(switch, clock, stable_ms, sample_ms=100, max_ms=None):
    """Sample until the switch has kept one state for stable_ms; return that state.

    Wind sway makes a buoy rock against its reed switch: brief opens must not count as a
    removal. Bounded: after max_ms (default 4 x stable_ms) returns the state held longest
    at the end, so a vibrating switch cannot keep the device awake.
    """
    if max_ms is None:
        max_ms = 4 * stable_ms
    start = clock.ticks_ms()
    state = switch.active()
    since = start
    while True:
        now = clock.ticks_ms()
        if now - since >= stable_ms:
            return state
        if now - start >= max_ms:
            return state
        clock.sleep_ms(sample_ms)
        sample = switch.active()
        if sample != state:
            state = sample
            since = clock.ticks_ms()


class Output:
    """An output with an active level (e.g. Heltec Vext is on when low): value(1) means on."""

    def __init__(self, pin, active_level=1):
        self._pin = pin
        self.active_level = active_level

    def value(self, on):
        self._pin.value(self.active_level if on else 1 - self.active_level)
