"""What each device type may set in its config file, as data: (name, group, kind, min, max, default).

Names that a downlink can change are the catalogue's field names (report_interval_s,
fire_temperature_c, debounce_ms, ...), so a downlink maps onto settings one to one.
kind: "int", "num" (int or float), a tuple of allowed strings, or "schedule".
"""

from tingfw.localtime import ZONE_NAMES

COMMON = (
    ("report_interval_s", "intervals", "int", 60, 86400, 3600),
)

FILL_LEVEL = COMMON + (
    ("measure_interval_s", "intervals", "int", 60, 86400, 900),
    ("sensor", "sensors", ("a02yyuw", "jsnsr04t"), None, None, "a02yyuw"),
    ("tilt_sensor", "sensors", ("switch", "lis3dh", "none"), None, None, "switch"),
    ("temperature_sensor", "sensors", ("ntc", "none"), None, None, "ntc"),
    ("samples", "sensors", "int", 1, 15, 5),
    ("blind_zone_mm", "sensors", "int", 0, 1000, 30),
    ("max_range_mm", "sensors", "int", 100, 10000, 4500),
    ("outlier_mm", "sensors", "int", 5, 1000, 60),
    ("fire_temperature_c", "thresholds", "num", 0, 85, 70),
    ("fire_rise_c_per_min", "thresholds", "num", 0, 20, 2),
    ("fill_distance_mm", "thresholds", "int", 0, 5100, 300),
    ("fill_hysteresis_mm", "thresholds", "int", 0, 1000, 100),
    ("tilt_deg", "thresholds", "int", 0, 90, 45),
)

LIFEBUOY = (
    ("heartbeat_interval_s", "intervals", "int", 300, 604800, 86400),
    ("retry_interval_s", "intervals", "int", 10, 3600, 60),
    ("debounce_ms", "thresholds", "int", 0, 60000, 2000),
    ("presence_active_level", "sensors", "int", 0, 1, 0),
    ("tamper_active_level", "sensors", "int", 0, 1, 1),
    ("tamper_sensor", "sensors", ("switch", "none"), None, None, "switch"),
    ("temperature_sensor", "sensors", ("ntc", "none"), None, None, "none"),
)

STREETLIGHT = (
    ("report_interval_s", "intervals", "int", 60, 86400, 900),
    ("meter_every", "intervals", "int", 1, 100, 4),
    ("time_sync_interval_s", "intervals", "int", 600, 604800, 86400),
    # A group (multicast) command is answered by config_ack after a random 0..this delay, so a street of
    # lamps does not answer at once and jam the channel; 0 = group commands are not answered.
    ("group_ack_spread_s", "intervals", "int", 0, 86400, 900),
    ("default_level_pct", "thresholds", "int", 0, 100, 100),
    ("failsafe_level_pct", "thresholds", "int", 0, 100, 100),
    ("failsafe_after_s", "thresholds", "int", 0, 604800, 259200),
    ("low_level_pct", "thresholds", "int", 0, 100, 30),
    ("high_level_pct", "thresholds", "int", 0, 100, 100),
    ("hold_s", "thresholds", "int", 0, 3600, 0),
    ("lamp_fail_w", "thresholds", "int", 0, 1000, 5),
    ("fail_confirm_s", "thresholds", "int", 5, 3600, 60),
    ("min_on_level_pct", "thresholds", "int", 0, 100, 10),
    ("joules_per_pulse", "sensors", "num", 0.0001, 1000, 1.7),
    ("pir_active_level", "sensors", "int", 0, 1, 1),
    ("latitude_deg", "location", "num", -90, 90, 56.0),
    ("longitude_deg", "location", "num", -180, 180, 10.0),
    # The zone the weekly schedule's days and clock times are in.
    ("time_zone", "location", ZONE_NAMES, None, None, "Europe/Copenhagen"),
    ("schedule", "schedule", "schedule", 0, 8, ()),
)

SCHEMAS = {"fill_level": FILL_LEVEL, "lifebuoy": LIFEBUOY, "streetlight": STREETLIGHT}

# Schedule point sub-fields and their ranges (catalogue set_schedule item).
SCHEDULE_POINT = (
    ("level_pct", 0, 100),
    ("time_min", -720, 1439),
    ("anchor", 0, 2),
    ("days_mask", 1, 127),
)
SCHEDULE_ANCHORS = ("clock", "sunset", "sunrise")
