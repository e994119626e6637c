# CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).
# config_ack carries it over the command as applied, so the control plane can match an
# acknowledgement to the exact downlink it sent.


def crc16(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc
