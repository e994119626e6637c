"""0-10 V dimming from a PWM pin through an RC low-pass and an op-amp stage.

Level 0..100 % maps onto the PWM duty; 1-10 V drivers cannot go below ~10 %, so
`min_on_level` is the lowest level sent while on and level 0 also opens the relay
(when a relay pin is given) to switch the lamp off.
"""


def level_to_duty_u16(level, min_on_level=0, invert=False):
    if level <= 0:
        duty = 0
    else:
        if level < min_on_level:
            level = min_on_level
        if level > 100:
            level = 100
        duty = (level * 65535) // 100
    return 65535 - duty if invert else duty


class Dimmer:
    """set_level(level 0..100). `level` reads back what was last applied."""

    def __init__(self, pwm, relay_pin=None, min_on_level=10, invert=False, freq_hz=1000):
        self._pwm = pwm
        self._relay = relay_pin
        self.min_on_level = min_on_level
        self.invert = invert
        self.level = None
        pwm.freq(freq_hz)

    def set_level(self, level):
        if level == self.level:
            return
        self._pwm.duty_u16(level_to_duty_u16(level, self.min_on_level, self.invert))
        if self._relay is not None:
            self._relay.value(1 if level > 0 else 0)
        self.level = level
