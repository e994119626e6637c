"""Battery voltage through a resistor divider into an ADC."""


class BatteryDivider:
    """read_mv() -> battery millivolts, the mean of `samples` readings.

    adc.read_u16() gives 0..65535 for 0..ref_mv at the pin; the divider scales the battery
    down by r_bottom / (r_top + r_bottom).
    """

    def __init__(self, adc, ref_mv=3300, r_top_kohm=100, r_bottom_kohm=100, samples=8):
        self._adc = adc
        self.ref_mv = ref_mv
        self.r_top_kohm = r_top_kohm
        self.r_bottom_kohm = r_bottom_kohm
        self.samples = samples

    def read_mv(self):
        total = 0
        for _ in range(self.samples):
            total += self._adc.read_u16()
        pin_mv = (total * self.ref_mv) // (65535 * self.samples)
        return (pin_mv * (self.r_top_kohm + self.r_bottom_kohm)) // self.r_bottom_kohm
