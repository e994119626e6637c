"""Deprecated alias: the time-on-air formula lives in loraphy.airtime (below both the MAC and the radios)."""

from loraphy.airtime import time_on_air_ms, time_on_air_us  # noqa: F401
