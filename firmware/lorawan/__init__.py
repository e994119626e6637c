"""lorawan: a LoRaWAN 1.0.4 MAC in pure MicroPython/CPython. See README.md."""

from lorawan.device import Device, SendResult  # noqa: F401
from lorawan.errors import FrameError, MicError, NotJoined, PayloadTooLarge, ReplayError  # noqa: F401
