"""Tingbro device firmware: drivers, boards, config and the three applications.

Installed on the device beside `tingcodec` and `lorawan` in /lib. Nothing here touches
hardware at import time; `tingfw.main` builds the real objects from the config.
"""

VERSION = "0.1.0"
# The same version as three small integers, for the device-info uplink.
VERSION_TUPLE = (0, 1, 0)
