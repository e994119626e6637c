"""Scripted worlds for simulated devices: pure functions of simulated seconds, one per device type.

A scenario is a dict (defaults below, overridable per device in the simulation's device file under
`scenario`) read by `SimHardware` every time the firmware samples a sensor.
"""

DAY_S = 86400

DEFAULTS = {
    # a bin that fills over `fill_days` and is emptied by the truck when it reaches `empty_at`
    "fill_level": {"fill_start": 0.3, "fill_days": 3.0, "empty_at": 0.95, "empty_mm": 1050, "full_mm": 150,
                   "temperature_c": 14.0, "battery_mv": 3600, "fire_at_s": None},
    # a lifebuoy taken off its post during each [from_s, to_s) and put back after
    "lifebuoy": {"removed": [], "battery_mv": 3550},
    # a streetlight with pedestrians passing and a lamp that may fail (no power although switched on)
    "streetlight": {"rated_w": 60.0, "pedestrian_every_s": 600, "pedestrian_s": 20, "fail_at_s": None},
}


def settings_for(device, overrides, index=0):
    """The scenario of one device: defaults, a spread by fleet index (not all bins alike), then overrides."""
    scenario = dict(DEFAULTS[device])
    if device == "fill_level":
        scenario["fill_start"] = (0.15 + 0.37 * index) % 0.9
        scenario["fill_days"] = 1.5 + (index % 4) * 0.5
    elif device == "lifebuoy" and index == 0:
        scenario["removed"] = [[1800, 5400]]  # taken and brought back
    elif device == "lifebuoy" and index == 1:
        scenario["removed"] = [[20000, 10 ** 9]]  # taken and not returned
    elif device == "streetlight" and index == 4:
        scenario["fail_at_s"] = 1200  # fails early enough to be seen in a two-minute demo
    for key in overrides or {}:
        scenario[key] = overrides[key]
    return scenario


def fill_ratio(scenario, t_s):
    """Fill grows linearly from fill_start; each time it reaches empty_at the bin is emptied (to 0)."""
    rate = 1.0 / (scenario["fill_days"] * DAY_S)
    start = scenario["fill_start"]
    limit = scenario["empty_at"]
    first_s = (limit - start) / rate
    if t_s < first_s:
        return start + rate * t_s
    cycle_s = limit / rate
    return rate * ((t_s - first_s) % cycle_s)


def distance_mm(scenario, t_s):
    empty_mm = scenario["empty_mm"]
    return int(empty_mm - fill_ratio(scenario, t_s) * (empty_mm - scenario["full_mm"]))


def temperature_c(scenario, t_s):
    fire_at = scenario.get("fire_at_s")
    if fire_at is not None and t_s >= fire_at:
        return 80.0
    return scenario.get("temperature_c", 14.0)


def buoy_present(scenario, t_s):
    for window in scenario["removed"]:
        if window[0] <= t_s < window[1]:
            return False
    return True


def next_presence_change_s(scenario, t_s):
    """When the buoy is next taken or put back after t_s (None: never): the wake interrupt's moment."""
    later = [edge for window in scenario["removed"] for edge in window if edge > t_s]
    return min(later) if later else None


def pedestrian(scenario, t_s):
    every = scenario["pedestrian_every_s"]
    return every > 0 and (t_s % every) < scenario["pedestrian_s"]


def lamp_power_w(scenario, t_s, duty_u16, relay_on):
    fail_at = scenario.get("fail_at_s")
    if not relay_on or (fail_at is not None and t_s >= fail_at):
        return 0.0
    return scenario["rated_w"] * duty_u16 / 65535
