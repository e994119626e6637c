# Example field values per message: a typical reading and the extremes of every range.
# Used to generate codecs/vectors.json, the README table and the size benchmark; the
# device does not need this module.

from . import catalogue, cbor
from .crc import crc16
from .encoder import encode

_COMMON = {
    "device_info": {"firmware_major": 1, "firmware_minor": 4, "firmware_patch": 2, "reset_cause": "power_on"},
}

TYPICAL = {
    "fill_level": {
        "status": {"distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600, "tilted": False,
                   "no_echo": False, "blind_zone": False},
        "alarm": {"fire_temperature": True, "fire_rise": True, "tilt": False, "fill_threshold": False,
                  "distance_mm": 240, "temperature_c": 71},
        "set_report_interval": {"report_interval_s": 3600},
        "set_alarm_thresholds": {"fire_temperature_c": 70, "fire_rise_c_per_min": 5, "fill_distance_mm": 200,
                                 "tilt_deg": 45},
    },
    "lifebuoy": {
        "presence": {"present": False, "tamper": False, "event_seq": 17},
        "heartbeat": {"present": True, "tamper": False, "battery_mv": 3040, "temperature_c": 8.5,
                      "presence_changes": 2},
        "set_heartbeat_interval": {"heartbeat_interval_s": 21600},
        "set_debounce": {"debounce_ms": 3000},
    },
    "streetlight": {
        "status": {"level_pct": 60, "lamp_on": True, "lamp_failure": False, "driver_failure": False,
                   "power_w": 42, "presence_detections": 12},
        "lamp_failure": {"lamp_failure": True, "driver_failure": False, "supply_failure": False,
                         "level_pct": 100, "power_w": 3},
        "meter": {"energy_wh": 123456, "operating_hours": 2950},
        "set_level": {"level_pct": 40, "duration_s": 1800, "fade_ms": 2000},
        "set_default_level": {"default_level_pct": 80, "failsafe_level_pct": 100, "failsafe_after_s": 86400},
        "set_schedule": {"points": [
            {"level_pct": 100, "time_min": 0, "anchor": "sunset", "days_mask": 127},
            {"level_pct": 50, "time_min": 1380, "anchor": "clock", "days_mask": 31},
            {"level_pct": 30, "time_min": 60, "anchor": "clock", "days_mask": 127},
            {"level_pct": 0, "time_min": 15, "anchor": "sunrise", "days_mask": 127},
        ]},
        "set_presence_dimming": {"low_level_pct": 20, "high_level_pct": 100, "hold_s": 120},
        "set_report_interval": {"report_interval_s": 900},
    },
}


def typical(device, message):
    """A realistic set of fields for the message."""
    if message == "config_ack":  # acknowledges the device's first downlink, applied unchanged
        command = [m for m in catalogue.MESSAGES[device] if m["direction"] == "down"][0]
        fport, payload = encode(device, command["name"], TYPICAL[device][command["name"]])
        return {"command_fport": fport, "result": "applied", "applied_crc16": crc16(payload)}
    if message in _COMMON:
        fields = dict(_COMMON[message])
        if message == "device_info":
            fields["device_type"] = device
        return fields
    return dict(TYPICAL[device][message])


def extreme(msg, which):
    """Fields with every value at its minimum (which="min") or maximum ("max"), optional ones included."""
    fields = {}
    for field in msg["fields"]:
        kind = field["kind"]
        if kind == "int":
            fields[field["name"]] = field[which]
        elif kind == "flags":
            for bit in field["bits"]:
                fields[bit] = which == "max"
        elif kind == "enum":
            fields[field["name"]] = field["values"][0 if which == "min" else -1]
        else:  # list: the most items, every sub-field at the extreme
            count = field["max_items"] if which == "max" else max(field["min_items"], 1)
            item = {}
            for sub in field["item"]:
                if "values" in sub:
                    item[sub["name"]] = sub["values"][0 if which == "min" else -1]
                else:
                    item[sub["name"]] = sub[which]
            fields[field["name"]] = [dict(item) for _ in range(count)]
    return fields


def largest(msg):
    """Fields giving the longest payload: like extreme "max", but each int at whichever end
    of its range takes more CBOR bytes (a negative minimum can be the longer one)."""
    fields = extreme(msg, "max")
    for field in msg["fields"]:
        if field["kind"] == "int":
            low = field["min"] * field["scale"] // field["step"]
            high = field["max"] * field["scale"] // field["step"]
            if len(cbor.dumps(low)) > len(cbor.dumps(high)):
                fields[field["name"]] = field["min"]
    return fields


def required_only(msg, fields):
    """The same fields without the optional ones (what an older encoder would send)."""
    optional = [f["name"] for f in msg["fields"] if f["optional"]]
    return {k: v for k, v in fields.items() if k not in optional}


def all_messages():
    """(device, message dict) for every message of every device type, in catalogue order."""
    for device in catalogue.DEVICE_TYPES:
        for msg in catalogue.MESSAGES[device]:
            yield device, msg
