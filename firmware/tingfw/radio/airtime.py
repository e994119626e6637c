"""LoRa time on air (Semtech AN1200.13), integer microseconds. Pure."""


def symbol_time_us(sf, bw_khz):
    return (1 << sf) * 1000 // bw_khz


def time_on_air_us(phy_len, sf, bw_khz, coding_rate=5, preamble_len=8, crc=True, explicit_header=True):
    """Airtime of a PHYPayload of phy_len bytes; coding_rate is N of 4/N."""
    t_sym_us = symbol_time_us(sf, bw_khz)
    low_dr_opt = 1 if t_sym_us >= 16000 else 0
    numerator = 8 * phy_len - 4 * sf + 28 + (16 if crc else 0) - (0 if explicit_header else 20)
    denominator = 4 * (sf - 2 * low_dr_opt)
    n_payload = 8
    if numerator > 0:
        n_payload += -(-numerator // denominator) * coding_rate
    # preamble lasts (preamble_len + 4.25) symbols: keep everything in quarter symbols
    return ((4 * preamble_len + 17) + 4 * n_payload) * t_sym_us // 4
