"""One JSON config file per device: validated completely before anything is used.

validate(raw) returns a new dict or raises ConfigError with a blink code and a message
that names the bad key but never echoes a key's value (AppKeys must not reach a log).
A setting changed by downlink is validated the same way (merge_settings) and swapped in
whole, so a config is never half-applied.
"""

from tingfw.settings_schema import SCHEDULE_ANCHORS, SCHEDULE_POINT, SCHEMAS

# LED blink codes (count of blinks, repeated): documented in firmware/README.md.
BLINK_NO_FILE = 2
BLINK_BAD_JSON = 3
BLINK_BAD_KEYS = 4
BLINK_UNKNOWN_NAME = 5
BLINK_BAD_VALUE = 6

REGIONS = ("EU868",)
GROUPS = ("intervals", "thresholds", "sensors", "location", "schedule")
PIN_ROLES = (
    "sensor_uart_tx", "sensor_uart_rx", "sensor_trigger", "sensor_echo", "sensor_power",
    "ntc_adc", "tilt_switch", "accel_sda", "accel_scl", "presence", "tamper", "pir",
    "dim_pwm", "relay", "cf_pulse", "battery_adc", "led",
)
KEY_HEX_LENGTHS = (("dev_eui", 16), ("join_eui", 16), ("app_key", 32))
# The multicast section: what `tingbro provision` writes for a streetlight in a group (ChirpStack's
# multicast-group fields) plus the lowest frame counter to accept.
MULTICAST_HEX_LENGTHS = (("mc_addr", 8), ("mc_nwk_s_key", 32), ("mc_app_s_key", 32))
MULTICAST_KEYS = ("group", "mc_addr", "mc_nwk_s_key", "mc_app_s_key", "f_cnt_min", "frequency_hz", "dr")
# One radio listening continuously on RX2 (EU868 defaults): a group must transmit there to be heard.
MULTICAST_FREQUENCY_HZ = 869525000
MULTICAST_DR = 0


class ConfigError(ValueError):
    def __init__(self, blink_code, message):
        super().__init__(message)
        self.blink_code = blink_code
        self.message = message


def _is_hex(text, length):
    if not isinstance(text, str) or len(text) != length:
        return False
    for char in text:
        if char not in "0123456789abcdefABCDEF":
            return False
    return True


def _check_number(name, value, kind, lo, hi):
    # bool is an int subclass in Python: reject it explicitly.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and not isinstance(value, int)):
        raise ConfigError(BLINK_BAD_VALUE, "config: %s must be %s" % (name, "an integer" if kind == "int" else "a number"))
    if value < lo or value > hi:
        raise ConfigError(BLINK_BAD_VALUE, "config: %s=%s out of range %s..%s" % (name, value, lo, hi))


def check_schedule(points):
    if not isinstance(points, (list, tuple)) or len(points) > 8:
        raise ConfigError(BLINK_BAD_VALUE, "config: schedule must be a list of at most 8 points")
    out = []
    for index, point in enumerate(points):
        if not isinstance(point, dict):
            raise ConfigError(BLINK_BAD_VALUE, "config: schedule[%d] must be an object" % index)
        anchor = point.get("anchor", "clock")
        if anchor in SCHEDULE_ANCHORS:
            anchor = SCHEDULE_ANCHORS.index(anchor)
        clean = {}  # type: dict
        for name, lo, hi in SCHEDULE_POINT:
            value = anchor if name == "anchor" else point.get(name)
            _check_number("schedule[%d].%s" % (index, name), value, "int", lo, hi)
            clean[name] = value
        if clean["anchor"] != 0 and not -720 <= clean["time_min"] <= 720:
            raise ConfigError(BLINK_BAD_VALUE, "config: schedule[%d].time_min offset out of range -720..720" % index)
        for name in point:
            if name not in clean:
                raise ConfigError(BLINK_UNKNOWN_NAME, "config: schedule[%d] has unknown key %s" % (index, name))
        out.append(clean)
    return out


def check_multicast(device, section):
    """The multicast section -> {group, mc_addr (int), mc_nwk_s_key, mc_app_s_key (hex), f_cnt_min}."""
    if device != "streetlight":
        raise ConfigError(BLINK_UNKNOWN_NAME, "config: multicast is for the Class C streetlight only")
    if not isinstance(section, dict):
        raise ConfigError(BLINK_BAD_VALUE, "config: multicast must be an object")
    for name in section:
        if name not in MULTICAST_KEYS:
            raise ConfigError(BLINK_UNKNOWN_NAME, "config: unknown key multicast.%s" % name)
    for name, length in MULTICAST_HEX_LENGTHS:
        if not _is_hex(section.get(name), length):  # never echo the value: keys are secrets
            raise ConfigError(BLINK_BAD_KEYS, "config: multicast.%s must be %d hex digits" % (name, length))
    group = section.get("group", "")
    if not isinstance(group, str) or len(group) > 64:
        raise ConfigError(BLINK_BAD_VALUE, "config: multicast.group must be a name of at most 64 characters")
    f_cnt_min = section.get("f_cnt_min", 0)
    _check_number("multicast.f_cnt_min", f_cnt_min, "int", 0, 0xFFFFFFFF)
    for name, required in (("frequency_hz", MULTICAST_FREQUENCY_HZ), ("dr", MULTICAST_DR)):
        if section.get(name, required) != required:
            raise ConfigError(BLINK_BAD_VALUE, "config: multicast.%s must be %d (where a Class C device listens)"
                              % (name, required))
    return {"group": group, "mc_addr": int(section["mc_addr"], 16), "mc_nwk_s_key": section["mc_nwk_s_key"].lower(),
            "mc_app_s_key": section["mc_app_s_key"].lower(), "f_cnt_min": f_cnt_min}


def _check_setting(entry, value):
    name, _group, kind, lo, hi, _default = entry
    if kind == "schedule":
        return check_schedule(value)
    if isinstance(kind, tuple):
        if value not in kind:
            raise ConfigError(BLINK_BAD_VALUE, "config: %s must be one of %s" % (name, ", ".join(kind)))
        return value
    _check_number(name, value, kind, lo, hi)
    return value


def validate_settings(device, groups):
    """groups: {"intervals": {...}, "thresholds": {...}, ...} -> flat settings with defaults."""
    schema = SCHEMAS[device]
    settings = {}
    for entry in schema:
        settings[entry[0]] = entry[5]
    for group in groups:
        if group not in GROUPS:
            raise ConfigError(BLINK_UNKNOWN_NAME, "config: unknown section %s" % group)
        section = groups[group]
        if group == "schedule":
            settings["schedule"] = _check_setting(_entry(schema, "schedule", group), section)
            continue
        if not isinstance(section, dict):
            raise ConfigError(BLINK_BAD_VALUE, "config: %s must be an object" % group)
        for name in section:
            settings[name] = _check_setting(_entry(schema, name, group), section[name])
    return settings


def _entry(schema, name, group):
    for entry in schema:
        if entry[0] == name:
            if entry[1] != group:
                raise ConfigError(BLINK_UNKNOWN_NAME, "config: %s belongs in %s, not %s" % (name, entry[1], group))
            return entry
    raise ConfigError(BLINK_UNKNOWN_NAME, "config: unknown setting %s.%s" % (group, name))


def merge_settings(device, settings, changes):
    """A copy of settings with changes applied, each change validated; settings is untouched."""
    schema = SCHEMAS[device]
    merged = dict(settings)
    for name in changes:
        entry = None
        for candidate in schema:
            if candidate[0] == name:
                entry = candidate
        if entry is None:
            raise ConfigError(BLINK_UNKNOWN_NAME, "config: unknown setting %s" % name)
        merged[name] = _check_setting(entry, changes[name])
    return merged


def validate(raw, board_names):
    """The whole device config -> a new, complete dict. Raises ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError(BLINK_BAD_JSON, "config: top level must be a JSON object")
    device = raw.get("device")
    if device == "fill-level":
        device = "fill_level"
    if device not in SCHEMAS:
        raise ConfigError(BLINK_UNKNOWN_NAME, "config: device must be one of fill_level, lifebuoy, streetlight")
    for name, length in KEY_HEX_LENGTHS:
        if not _is_hex(raw.get(name), length):
            # Never echo the value: it may be (part of) a secret key.
            raise ConfigError(BLINK_BAD_KEYS, "config: %s must be %d hex digits" % (name, length))
    region = raw.get("region", "EU868")
    if region not in REGIONS:
        raise ConfigError(BLINK_UNKNOWN_NAME, "config: region must be one of %s" % ", ".join(REGIONS))
    board = raw.get("board")
    if board not in board_names:
        raise ConfigError(BLINK_UNKNOWN_NAME, "config: board must be one of %s" % ", ".join(sorted(board_names)))
    pins = raw.get("pins", {})
    if not isinstance(pins, dict):
        raise ConfigError(BLINK_BAD_VALUE, "config: pins must be an object")
    for role in pins:
        if role not in PIN_ROLES:
            raise ConfigError(BLINK_UNKNOWN_NAME, "config: unknown pin role %s" % role)
        if pins[role] is not None:
            _check_number("pins." + role, pins[role], "int", 0, 48)
    groups = {}
    for name in raw:
        if name in GROUPS:
            groups[name] = raw[name]
        elif name not in ("device", "dev_eui", "join_eui", "app_key", "region", "board", "pins", "name",
                          "multicast"):
            raise ConfigError(BLINK_UNKNOWN_NAME, "config: unknown key %s" % name)
    return {
        "device": device,
        "name": raw.get("name", ""),
        "dev_eui": raw["dev_eui"].lower(),
        "join_eui": raw["join_eui"].lower(),
        "app_key": raw["app_key"].lower(),
        "region": region,
        "board": board,
        "pins": dict(pins),
        "settings": validate_settings(device, groups),
        "multicast": check_multicast(device, raw["multicast"]) if raw.get("multicast") is not None else None,
    }


def load(text, board_names):
    """Parse and validate config text (the file's contents). Raises ConfigError."""
    import json

    if text is None:
        raise ConfigError(BLINK_NO_FILE, "config: file missing or unreadable")
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError(BLINK_BAD_JSON, "config: not valid JSON") from None
    return validate(raw, board_names)


def blink_code(led, clock, code, repeats=3):
    """Blink `code` short flashes, pause, repeat: the technician counts them (see README)."""
    for _ in range(repeats):
        for _ in range(code):
            led.value(1)
            clock.sleep_ms(200)
            led.value(0)
            clock.sleep_ms(300)
        clock.sleep_ms(1500)
