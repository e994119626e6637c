"""A duty-cycle ledger per sub-band: after a frame of airtime T on a band with duty cycle 1/d the band
is closed for T * (d - 1). A network DutyCycleReq adds an aggregated limit over all bands."""


class DutyCycleLedger:
    def __init__(self, sub_bands):
        self.sub_bands = sub_bands
        self.free_at_ms = [0] * len(sub_bands)
        self.aggregated_divisor = 1  # 2**MaxDCycle from DutyCycleReq; 1 = no extra limit
        self.aggregated_free_at_ms = 0

    def band_of(self, freq_hz):
        for index, band in enumerate(self.sub_bands):
            if band[0] <= freq_hz <= band[1]:
                return index
        return -1

    def wait_ms(self, freq_hz, now_ms):
        """Milliseconds until a frame may start on freq_hz (0 = now); None if no band covers it."""
        band = self.band_of(freq_hz)
        if band < 0:
            return None
        free_at = max(self.free_at_ms[band], self.aggregated_free_at_ms)
        return max(free_at - now_ms, 0)

    def record(self, freq_hz, start_ms, airtime_ms):
        """Book a frame that started at start_ms."""
        band = self.band_of(freq_hz)
        if band < 0:
            raise ValueError("frequency outside every sub-band")
        self.free_at_ms[band] = start_ms + airtime_ms * self.sub_bands[band][2]
        if self.aggregated_divisor > 1:
            self.aggregated_free_at_ms = start_ms + airtime_ms * self.aggregated_divisor

    def remaining(self, now_ms):
        """Off-time left per band, then the aggregated one (ms): what persist.py keeps over a reboot."""
        return [max(free_at - now_ms, 0) for free_at in self.free_at_ms + [self.aggregated_free_at_ms]]

    def resume(self, remaining, now_ms):
        """Restore remaining() as of now_ms (the save time, or the restore time if the clock restarted)."""
        count = len(self.free_at_ms)
        self.free_at_ms = [now_ms + left for left in remaining[:count]]
        self.aggregated_free_at_ms = now_ms + remaining[count]

    def set_max_duty_cycle(self, max_dcycle):
        """DutyCycleReq: aggregated duty cycle 1 / 2**max_dcycle (0 = no limit)."""
        self.aggregated_divisor = 1 << max_dcycle if max_dcycle else 1
