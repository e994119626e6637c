"""lorawan: a LoRaWAN 1.0.4 MAC in pure MicroPython/CPython. See README.md."""
