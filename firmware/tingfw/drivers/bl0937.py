"""BL0937 / HLW8012 energy metering by counting CF pulses (frequency proportional to power).

power_W = f_CF_Hz * multiplier, so each CF pulse is `multiplier` joules:
multiplier = Vref^2 * Vdiv / Rshunt / 1721506 for the BL0937 (firmware.md §8.3) and
Vref^2 * Vdiv / Rshunt * 64 / 24 / 3579000 for the HLW8012.
The counter is passed in: `count()` returns a monotonic pulse total (machine.Counter on
ESP32, a Pin.irq counter elsewhere, a fake on the host).
"""

BL0937_VREF = 1.218
HLW8012_VREF = 2.43


def bl0937_joules_per_pulse(v_div=1981.0, r_shunt_ohm=0.001):
    """Joules per CF pulse for a BL0937; default divider is 6 x 330k + 1k, shunt 1 mOhm."""
    return BL0937_VREF * BL0937_VREF * v_div / r_shunt_ohm / 1721506


def hlw8012_joules_per_pulse(v_div=2351.0, r_shunt_ohm=0.001):
    return HLW8012_VREF * HLW8012_VREF * v_div / r_shunt_ohm * 64 / 24 / 3579000


class EnergyMeter:
    """Active power (W) over the last window and cumulative energy (Wh) from CF pulses.

    Energy is kept as whole Wh plus a pulse remainder so it never drifts by rounding;
    `energy_wh` can be restored from the store after a power cut.
    """

    def __init__(self, counter, clock, joules_per_pulse, energy_wh=0):
        self._counter = counter
        self._clock = clock
        self.joules_per_pulse = joules_per_pulse
        self.energy_wh = energy_wh
        self._joules_remainder = 0.0
        self._last_count = counter.count()
        self._last_ms = clock.ticks_ms()
        self.power_w = 0

    def update(self):
        """Read the counter; returns the mean power (W) since the last update."""
        count = self._counter.count()
        now = self._clock.ticks_ms()
        pulses = (count - self._last_count) & 0xFFFFFFFF  # a 32-bit hardware counter may wrap
        elapsed_ms = now - self._last_ms
        self._last_count = count
        self._last_ms = now
        joules = pulses * self.joules_per_pulse
        total_j = self._joules_remainder + joules
        whole_wh = int(total_j // 3600)
        self.energy_wh += whole_wh
        self._joules_remainder = total_j - whole_wh * 3600
        if elapsed_ms > 0:
            self.power_w = int(joules * 1000 / elapsed_ms + 0.5)
        return self.power_w


class PinPulseCounter:
    """A pulse counter from Pin.irq for ports without machine.Counter."""

    def __init__(self, pin, trigger):
        self._count = 0
        pin.irq(handler=self._on_edge, trigger=trigger)

    def _on_edge(self, _pin):
        self._count = (self._count + 1) & 0xFFFFFFFF

    def count(self):
        return self._count
