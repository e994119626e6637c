"""LoRa time on air (Semtech AN1200.13), integer microseconds."""


def time_on_air_us(phy_len, sf, bw_khz, coding_rate=1, preamble=8, explicit_header=True, crc=True):
    """Airtime of a PHYPayload of phy_len bytes. coding_rate 1..4 means 4/5..4/8."""
    symbol_us = (1 << sf) * 1000 // bw_khz
    low_dr_optimise = 1 if symbol_us >= 16000 else 0
    numerator = 8 * phy_len - 4 * sf + 28 + (16 if crc else 0) - (0 if explicit_header else 20)
    denominator = 4 * (sf - 2 * low_dr_optimise)
    blocks = -(-numerator // denominator) if numerator > 0 else 0
    payload_symbols = 8 + blocks * (coding_rate + 4)
    # preamble lasts (preamble + 4.25) symbols
    return (4 * preamble + 17) * symbol_us // 4 + payload_symbols * symbol_us


def time_on_air_ms(phy_len, sf, bw_khz):
    """Airtime rounded up to whole milliseconds (what the duty-cycle ledger books)."""
    return (time_on_air_us(phy_len, sf, bw_khz) + 999) // 1000
