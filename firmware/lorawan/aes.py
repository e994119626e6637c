"""AES-128-ECB, chosen from what the interpreter offers.

The MAC never imports this module: the app (or a test) calls `aes_factory()` once and passes
the result in. A factory maps a 16-byte key to an object with `encrypt(data, out=None)` and
`decrypt(data, out=None)` over whole 16-byte blocks, the shape of MicroPython's
`cryptolib.aes(key, 1)`. The device only needs `encrypt`; `decrypt` serves the network side.
"""


def aes_factory():
    try:
        import cryptolib  # MicroPython (esp32 with network, rp2, unix)
    except ImportError:
        return _cpython_factory()

    def new_cipher(key):
        return cryptolib.aes(bytes(key), 1)  # mode 1 = ECB

    return new_cipher


def _cpython_factory():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    class EcbCipher:
        """cryptolib-compatible wrapper around the `cryptography` package."""

        def __init__(self, key):
            self._cipher = Cipher(algorithms.AES(bytes(key)), modes.ECB())
            self._encryptor = None
            self._decryptor = None

        def encrypt(self, data, out=None):
            if self._encryptor is None:
                self._encryptor = self._cipher.encryptor()
            return _into(self._encryptor.update(bytes(data)), out)

        def decrypt(self, data, out=None):
            if self._decryptor is None:
                self._decryptor = self._cipher.decryptor()
            return _into(self._decryptor.update(bytes(data)), out)

    return EcbCipher


def _into(result, out):
    if out is None:
        return result
    out[: len(result)] = result
    return None
