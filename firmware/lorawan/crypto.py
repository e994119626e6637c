"""LoRaWAN 1.0.x security: FRMPayload encryption, data and join MICs, join-accept decryption,
session keys. Keys arrive as `cmac.CmacKey` objects; buffers are modified in place.
"""

from lorawan.cmac import cmac

UPLINK = 0
DOWNLINK = 1


def _write_block(block, first, direction, dev_addr, fcnt, last):
    """B0 (first 0x49) or Ai (first 0x01): first | 0x00*4 | Dir | DevAddr | FCnt32 | 0x00 | last."""
    block[0] = first
    block[1] = block[2] = block[3] = block[4] = 0
    block[5] = direction
    for i in range(4):
        block[6 + i] = (dev_addr >> (8 * i)) & 0xFF
        block[10 + i] = (fcnt >> (8 * i)) & 0xFF
    block[14] = 0
    block[15] = last


def crypt_payload(key, direction, dev_addr, fcnt, buf, start, end):
    """XOR buf[start:end] with the AES keystream of blocks A1..An (encrypts and decrypts)."""
    block = key.block
    stream = key.mac  # reused scratch: cmac() resets it before use
    encrypt = key.cipher.encrypt
    counter = 1
    pos = start
    while pos < end:
        _write_block(block, 0x01, direction, dev_addr, fcnt, counter)
        encrypt(block, stream)
        stop = end - pos
        if stop > 16:
            stop = 16
        for i in range(stop):
            buf[pos + i] ^= stream[i]
        pos += 16
        counter += 1


def data_mic(key, direction, dev_addr, fcnt, buf, start, end):
    """The 4-byte MIC (in key.mac[0:4]) of the message buf[start:end] (MHDR .. FRMPayload)."""
    block = key.block
    _write_block(block, 0x49, direction, dev_addr, fcnt, end - start)
    return cmac(key, buf, start, end, block)


def mic_matches(mac, buf, at):
    """True when mac[0:4] equals buf[at:at+4], without slicing."""
    return mac[0] == buf[at] and mac[1] == buf[at + 1] and mac[2] == buf[at + 2] and mac[3] == buf[at + 3]


def join_mic(key, buf, end):
    """MIC of a join-request or a plaintext join-accept: CMAC(AppKey, buf[0:end])[0:4]."""
    return cmac(key, buf, 0, end)


def decrypt_join_accept(key, wire):
    """Recover MHDR | plaintext fields | MIC from a join-accept on the wire.

    The network encrypted with AES *decrypt*, so the device undoes it with AES *encrypt*.
    """
    length = len(wire)
    if length not in (17, 33):
        return None
    plain = bytearray(wire)
    body = memoryview(plain)[1:]
    key.cipher.encrypt(body, body)
    return plain


def derive_session_keys(aes, app_key, join_nonce, net_id, dev_nonce):
    """LoRaWAN 1.0.x: (NwkSKey, AppSKey) = AES(AppKey, 0x01|0x02 | JoinNonce | NetID | DevNonce | pad)."""
    cipher = aes(app_key)
    keys = []
    for first in (0x01, 0x02):
        block = bytearray(16)
        block[0] = first
        for i in range(3):
            block[1 + i] = (join_nonce >> (8 * i)) & 0xFF
            block[4 + i] = (net_id >> (8 * i)) & 0xFF
        block[7] = dev_nonce & 0xFF
        block[8] = dev_nonce >> 8
        cipher.encrypt(block, block)
        keys.append(bytes(block))
    return keys[0], keys[1]
