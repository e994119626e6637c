"""What the control plane needs to know per device type: class, reporting interval, defaults.

The message catalogue (tingcodec.catalogue) owns message layouts and field ranges; this module
adds the operational defaults that provisioning writes into ChirpStack and the firmware config.
"""

from __future__ import annotations

DEVICE_TYPES = ("fill_level", "lifebuoy", "streetlight")

# The periodic uplink of each type and its default period: the firmware config sets it, the device
# profile's uplink_interval mirrors it, and the watchdog expects an uplink at least this often.
INTERVAL_FIELD = {
    "fill_level": "report_interval_s",
    "lifebuoy": "heartbeat_interval_s",
    "streetlight": "report_interval_s",
}
DEFAULT_INTERVAL_S = {"fill_level": 3600, "lifebuoy": 86400, "streetlight": 900}

DEVICE_CLASS = {"fill_level": "A", "lifebuoy": "A", "streetlight": "C"}

def canonical_type(name: str) -> str:
    """`fill-level` -> `fill_level`; raises ValueError naming the known types."""
    canonical = name.strip().lower().replace("-", "_")
    if canonical not in DEVICE_TYPES:
        raise ValueError(f"unknown device type {name!r} (known: {', '.join(DEVICE_TYPES)})")
    return canonical
