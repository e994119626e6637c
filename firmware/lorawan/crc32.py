"""CRC-32 (IEEE) for persisted records: binascii.crc32 where the port has it, else a small loop."""


def crc32_loop(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


try:
    from binascii import crc32 as _native

    def crc32(data):
        return _native(data) & 0xFFFFFFFF

except ImportError:  # some ports build binascii without crc32
    crc32 = crc32_loop
