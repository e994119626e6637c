"""NTC thermistor in a divider (NTC to ground, fixed resistor to the reference), read by an ADC.

Beta equation: 1/T = 1/T0 + ln(R/R0)/B. Fill-level uses it for the fire alarm.
"""

import math


class NtcThermistor:
    """read_c() -> degrees Celsius (float), or None when the NTC is open or shorted."""

    def __init__(self, adc, r_fixed_ohm=10000, r0_ohm=10000, t0_c=25.0, beta=3950):
        self._adc = adc
        self.r_fixed_ohm = r_fixed_ohm
        self.r0_ohm = r0_ohm
        self.t0_c = t0_c
        self.beta = beta

    def read_c(self):
        raw = self._adc.read_u16()
        if raw <= 64 or raw >= 65471:  # rail: broken wire or short, not a temperature
            return None
        r_ntc = self.r_fixed_ohm * raw / (65535 - raw)
        inv_t = 1.0 / (self.t0_c + 273.15) + math.log(r_ntc / self.r0_ohm) / self.beta
        return 1.0 / inv_t - 273.15
