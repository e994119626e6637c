"""AES-CMAC (RFC 4493) on top of an AES-128-ECB encrypt primitive.

A `CmacKey` holds the ECB cipher of one key, the two subkeys and scratch blocks, so a MIC
over a frame allocates nothing: the result is written into the key's scratch block.
"""


def _double(block):
    """Shift a 16-byte block left by one bit; xor Rb = 0x87 if a bit fell off (RFC 4493 2.3)."""
    out = bytearray(16)
    carry = 0
    for i in range(15, -1, -1):
        shifted = (block[i] << 1) | carry
        out[i] = shifted & 0xFF
        carry = shifted >> 8
    if carry:
        out[15] ^= 0x87
    return out


class CmacKey:
    """One AES-128 key prepared for CMAC and for CTR-style payload encryption."""

    def __init__(self, aes, key):
        if len(key) != 16:
            raise ValueError("an AES-128 key is 16 bytes")
        self.cipher = aes(key)
        zero = bytearray(16)
        self.cipher.encrypt(zero, zero)
        self.k1 = _double(zero)
        self.k2 = _double(self.k1)
        self.mac = bytearray(16)  # chaining value and result of cmac()
        self.block = bytearray(16)  # B0 / Ai scratch for crypto.py


def cmac(key, data, start, end, prefix=None):
    """CMAC over prefix (one 16-byte block, optional) followed by data[start:end].

    Returns key.mac (16 bytes), valid until the next call with the same key.
    """
    mac = key.mac
    encrypt = key.cipher.encrypt
    for i in range(16):
        mac[i] = 0
    n = end - start
    if prefix is not None:
        for i in range(16):
            mac[i] = prefix[i]
        if n == 0:  # the prefix is the last, complete block
            for i in range(16):
                mac[i] ^= key.k1[i]
            encrypt(mac, mac)
            return mac
        encrypt(mac, mac)
    blocks = (n + 15) // 16 or 1
    pos = start
    for _ in range(blocks - 1):
        for i in range(16):
            mac[i] ^= data[pos + i]
        encrypt(mac, mac)
        pos += 16
    rest = end - pos
    if n > 0 and rest == 16:
        sub = key.k1
        for i in range(16):
            mac[i] ^= data[pos + i] ^ sub[i]
    else:
        sub = key.k2
        for i in range(16):
            if i < rest:
                byte = data[pos + i]
            elif i == rest:
                byte = 0x80
            else:
                byte = 0
            mac[i] ^= byte ^ sub[i]
    encrypt(mac, mac)
    return mac
