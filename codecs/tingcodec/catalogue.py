# The message catalogue: every message of every device type, as plain data.
#
# This module is the single definition the Python codec, the MicroPython firmware and
# the generated JavaScript codecs all read. It holds data only (tuples and dicts) so it
# costs little RAM on the device. The shape is documented in codecs/README.md
# ("Catalogue data shape"); keep it stable, the JS generator depends on it.
#
# Wire rule: a message is a CBOR array with one item per field, in catalogue order.
# Field kinds:
#   "int"   one integer; decoded = wire * step / scale  (unit in the field name)
#   "flags" one integer bitfield; bit i is the boolean named bits[i]; unknown bits ignored
#   "enum"  one integer; decoded = values[wire]
#   "list"  a nested CBOR array of integers, each packing the sub-fields of "item"
#           LSB first, each sub-field stored as (value - min) in "width" bits
# Optional fields come last; an encoder may leave out trailing optional fields and a
# decoder reports only the fields present. Decoders ignore array items beyond the
# fields they know (append-only evolution, see codecs/README.md).

DEVICE_TYPES = ("fill_level", "lifebuoy", "streetlight")

# Values of the "device_type" field of device_info; index = wire value.
DEVICE_TYPE_CODES = ("unknown", "fill_level", "lifebuoy", "streetlight")

RESET_CAUSES = ("power_on", "brownout", "watchdog", "software", "external_pin", "deep_sleep_wake",
                "hard_fault", "unknown")

ACK_RESULTS = ("applied", "unknown_command", "malformed", "out_of_range", "unsupported", "busy")


def _int(name, unit, lo, hi, scale=1, step=1, optional=False, default=None, doc=""):
    field = {"name": name, "kind": "int", "unit": unit, "scale": scale, "step": step,
             "min": lo, "max": hi, "optional": optional, "doc": doc}
    if default is not None:
        field["default"] = default
    return field


def _flags(name, bits, doc=""):
    return {"name": name, "kind": "flags", "bits": bits, "optional": False, "doc": doc}


def _enum(name, values, doc=""):
    return {"name": name, "kind": "enum", "values": values, "optional": False, "doc": doc}


def _sub(name, unit, width, lo, hi, values=None, doc=""):
    # A sub-field of a "list" item; "values" makes it an enum (stored as its index).
    sub = {"name": name, "unit": unit, "width": width, "min": lo, "max": hi, "doc": doc}
    if values is not None:
        sub["values"] = values
    return sub


def _msg(name, direction, fport, fields, doc=""):
    return {"name": name, "direction": direction, "fport": fport, "fields": fields, "doc": doc}


# Shared field definitions (same wire form wherever they appear).
TEMPERATURE_C = _int("temperature_c", "°C", -40, 125, scale=2,
                     doc="0.5 °C steps; up to 125 °C so a fire is still reported")
BATTERY_MV = _int("battery_mv", "mV", 0, 5100, step=20, doc="20 mV steps")

# fPorts: 1..9 common uplinks, 10..19 device uplinks, 20..39 device downlinks.
COMMON_MESSAGES = (
    _msg("device_info", "up", 1, (
        _int("firmware_major", "", 0, 255),
        _int("firmware_minor", "", 0, 255),
        _int("firmware_patch", "", 0, 255),
        _enum("reset_cause", RESET_CAUSES),
        _enum("device_type", DEVICE_TYPE_CODES),
    ), doc="sent once after every join/boot"),
    _msg("config_ack", "up", 2, (
        _int("command_fport", "", 1, 223, doc="fPort of the downlink being acknowledged"),
        _enum("result", ACK_RESULTS),
        _int("applied_crc16", "", 0, 65535,
             doc="CRC-16/CCITT-FALSE of the command re-encoded from the values the device applied; "
                 "equals crc16(sent payload) when applied unchanged"),
    ), doc="answers every configuration downlink"),
)

FILL_LEVEL_MESSAGES = (
    _msg("status", "up", 10, (
        _int("distance_mm", "mm", 0, 5100, step=20, doc="sensor to surface, 20 mm steps; fill ratio is "
                                                         "computed by the bridge from bin geometry"),
        TEMPERATURE_C,
        BATTERY_MV,
        _flags("state", ("tilted", "no_echo", "blind_zone"), doc="tilted = knocked over; no_echo/blind_zone = "
                                                                 "sensor fault, distance not valid"),
    ), doc="periodic status"),
    _msg("alarm", "up", 11, (
        _flags("alarms", ("fire_temperature", "fire_rise", "tilt", "fill_threshold")),
        _int("distance_mm", "mm", 0, 5100, step=20),
        TEMPERATURE_C,
    ), doc="sent at once when an alarm condition starts"),
    _msg("set_report_interval", "down", 20, (
        _int("report_interval_s", "s", 60, 86400),
    )),
    _msg("set_alarm_thresholds", "down", 21, (
        _int("fire_temperature_c", "°C", 0, 125, scale=2, doc="0 disables"),
        _int("fire_rise_c_per_min", "°C/min", 0, 20, scale=2, doc="0 disables"),
        _int("fill_distance_mm", "mm", 0, 5100, step=20, doc="alarm when distance <= this; 0 disables"),
        _int("tilt_deg", "°", 0, 90, doc="alarm when tilted beyond this; 0 disables"),
    )),
)

LIFEBUOY_MESSAGES = (
    _msg("presence", "up", 10, (
        _flags("state", ("present", "tamper")),
        _int("event_seq", "", 0, 255, doc="increments per presence change, wraps; dedupes repeated events"),
    ), doc="sent on every debounced presence change (repeated for reliability)"),
    _msg("heartbeat", "up", 11, (
        _flags("state", ("present", "tamper")),
        BATTERY_MV,
        TEMPERATURE_C,
        _int("presence_changes", "", 0, 65535, doc="since the previous heartbeat, saturating"),
    )),
    _msg("set_heartbeat_interval", "down", 20, (
        _int("heartbeat_interval_s", "s", 300, 604800),
    )),
    _msg("set_debounce", "down", 21, (
        _int("debounce_ms", "ms", 0, 60000),
    )),
)

SCHEDULE_POINT = (
    _sub("level_pct", "%", 7, 0, 100),
    _sub("time_min", "min", 12, -720, 1439,
         doc="minutes after the anchor (negative: before); clock: after local midnight (the device's time_zone, "
             "Europe/Copenhagen by default) of each day in days_mask"),
    _sub("anchor", "", 2, 0, 2, values=("clock", "sunset", "sunrise")),
    _sub("days_mask", "", 7, 1, 127, doc="local days: bit 0 = Monday .. bit 6 = Sunday"),
)

STREETLIGHT_MESSAGES = (
    _msg("status", "up", 10, (
        _int("level_pct", "%", 0, 100, doc="actual light level"),
        _flags("state", ("lamp_on", "lamp_failure", "driver_failure")),
        _int("power_w", "W", 0, 1000, doc="active power"),
        _int("presence_detections", "", 0, 65535, doc="since the previous status, saturating"),
    ), doc="periodic status; energy and hours are in 'meter' to keep both within 11 B"),
    _msg("lamp_failure", "up", 11, (
        _flags("faults", ("lamp_failure", "driver_failure", "supply_failure")),
        _int("level_pct", "%", 0, 100, doc="level commanded when the fault was seen"),
        _int("power_w", "W", 0, 1000),
    ), doc="sent at once when a fault starts"),
    _msg("meter", "up", 12, (
        _int("energy_wh", "Wh", 0, 4294967295, doc="cumulative; 32 bits last ~1960 years at 250 W"),
        _int("operating_hours", "h", 0, 4294967295, doc="cumulative lamp-on hours"),
    ), doc="cumulative counters, sent with every Nth status"),
    _msg("set_level", "down", 20, (
        _int("level_pct", "%", 0, 100),
        _int("duration_s", "s", 0, 86400, optional=True, default=0,
             doc="then return to schedule/default; 0 = until the next command"),
        _int("fade_ms", "ms", 0, 60000, optional=True, default=0),
    )),
    _msg("set_default_level", "down", 21, (
        _int("default_level_pct", "%", 0, 100, doc="level when no command or schedule applies"),
        _int("failsafe_level_pct", "%", 0, 100,
             doc="level after failsafe_after_s without any downlink, and while a schedule is set but "
                 "the device has no valid network time"),
        _int("failsafe_after_s", "s", 0, 604800, doc="0 disables the fail-safe"),
    )),
    _msg("set_schedule", "down", 22, (
        {"name": "points", "kind": "list", "item": SCHEDULE_POINT, "min_items": 0, "max_items": 8,
         "optional": False, "doc": "weekly switch points in the device's local time; empty list clears the schedule"},
    )),
    _msg("set_presence_dimming", "down", 23, (
        _int("low_level_pct", "%", 0, 100),
        _int("high_level_pct", "%", 0, 100),
        _int("hold_s", "s", 0, 3600, doc="stay high this long after the last detection; 0 disables"),
    )),
    _msg("set_report_interval", "down", 24, (
        _int("report_interval_s", "s", 60, 86400),
    )),
)

# device type -> its messages, common ones first.
MESSAGES = {
    "fill_level": COMMON_MESSAGES + FILL_LEVEL_MESSAGES,
    "lifebuoy": COMMON_MESSAGES + LIFEBUOY_MESSAGES,
    "streetlight": COMMON_MESSAGES + STREETLIGHT_MESSAGES,
}

# LoRaWAN device class per type (for documentation and the bridge).
DEVICE_CLASSES = {"fill_level": "A", "lifebuoy": "A", "streetlight": "C"}
