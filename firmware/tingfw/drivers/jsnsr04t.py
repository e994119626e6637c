"""JSN-SR04T waterproof ultrasonic sensor in trigger/echo mode (mode resistor open).

A trigger pulse of ~20 us starts a burst; the echo pin stays high for the round trip.
With no echo the module holds echo high for ~60 ms, which would read as ~10 m: any
round trip beyond max_mm is reported as None (no echo), never as a distance.
"""

ECHO_TIMEOUT_US = 70000


def round_trip_to_mm(width_us, temperature_c=20):
    """Echo width (us, there and back) to distance (mm), speed of sound corrected for air temperature."""
    # c = 331.3 + 0.606 * T m/s  ->  in mm/us: (331300 + 606 * T) / 1e6; halve for the round trip.
    speed_um_per_us = 331300 + int(606 * temperature_c)  # micrometres per millisecond = mm/s * 1e-3
    return (width_us * speed_um_per_us) // 2000000


class JSNSR04T:
    """read_mm() -> mm or None. `pulse_in(pin, level, timeout_us)` is machine.time_pulse_us."""

    def __init__(self, trigger_pin, echo_pin, pulse_in, sleep_us, max_mm=6000):
        self._trigger = trigger_pin
        self._echo = echo_pin
        self._pulse_in = pulse_in
        self._sleep_us = sleep_us
        self.max_mm = max_mm
        self.temperature_c = 20
        # Echoes of one ping ring in a bin for a while: wait before the next trigger.
        self.sample_gap_ms = 60

    def read_mm(self):
        self._trigger.value(0)
        self._sleep_us(5)
        self._trigger.value(1)
        self._sleep_us(20)
        self._trigger.value(0)
        width_us = self._pulse_in(self._echo, 1, ECHO_TIMEOUT_US)
        if width_us < 0:  # -1: echo never rose; -2: it never fell
            return None
        distance_mm = round_trip_to_mm(width_us, self.temperature_c)
        if distance_mm > self.max_mm:
            return None
        return distance_mm
