"""LoRa time on air (Semtech AN1200.13) for the codec benchmark.

The MAC's own `lorawan.airtime` is used when it is importable (it is on the MAC branch, not
yet on main); this small pure function is the stand-in until then. Same formula either way.
"""

from __future__ import annotations

LORAWAN_OVERHEAD_B = 13  # MHDR 1 + DevAddr 4 + FCtrl 1 + FCnt 2 + FPort 1 + MIC 4 (no FOpts)


def time_on_air_us(phy_len: int, sf: int, bw_khz: int = 125, coding_rate: int = 1, preamble: int = 8,
                   explicit_header: bool = True, crc: bool = True) -> int:
    """Airtime in microseconds of a PHYPayload of phy_len bytes; coding_rate 1..4 = 4/5..4/8."""
    symbol_us = (1 << sf) * 1000 // bw_khz
    low_dr_optimise = 1 if symbol_us >= 16000 else 0  # SF11/SF12 at 125 kHz
    numerator = 8 * phy_len - 4 * sf + 28 + (16 if crc else 0) - (0 if explicit_header else 20)
    blocks = -(-numerator // (4 * (sf - 2 * low_dr_optimise))) if numerator > 0 else 0
    payload_symbols = 8 + blocks * (coding_rate + 4)
    return (4 * preamble + 17) * symbol_us // 4 + payload_symbols * symbol_us


try:  # prefer the MAC's implementation once it is merged
    from lorawan.airtime import time_on_air_us as _mac_time_on_air_us

    SOURCE = "lorawan.airtime"
except ImportError:
    _mac_time_on_air_us = time_on_air_us
    SOURCE = "bench/airtime.py"


def app_payload_airtime_ms(app_len: int, sf: int) -> float:
    """Time on air of an uplink carrying app_len application bytes (EU868, 125 kHz, CR 4/5)."""
    return _mac_time_on_air_us(LORAWAN_OVERHEAD_B + app_len, sf, 125) / 1000
