"""Time on air of an application payload, for the benchmarks (formula in `loraphy.airtime`)."""

from __future__ import annotations

from loraphy.airtime import time_on_air_us

SOURCE = "loraphy.airtime"
LORAWAN_OVERHEAD_B = 13  # MHDR 1 + DevAddr 4 + FCtrl 1 + FCnt 2 + FPort 1 + MIC 4 (no FOpts)


def app_payload_airtime_ms(app_len: int, sf: int) -> float:
    """Time on air of an uplink carrying app_len application bytes (EU868, 125 kHz, CR 4/5)."""
    return time_on_air_us(LORAWAN_OVERHEAD_B + app_len, sf, 125) / 1000
