"""Scripted worlds for simulated devices: pure functions of simulated seconds, one per device type.

A scenario is a dict (defaults below, overridable per device in the device list under `scenario`)
read by `SimHardware` every time the firmware samples a sensor. Measurement noise and echo
outliers belong to the sensor, not the world: `hardware.py` adds them.
"""

import math

DAY_S = 86400

DEFAULTS = {
    # A bin that fills over `fill_days` and is emptied by the truck when it reaches `empty_at`; the
    # ultrasonic sensor adds +-noise_mm and, one sample in echo_outlier_every, an echo off the bin wall.
    # The air inside follows the day (temperature_c +- temperature_swing_c); a fire smoulders from
    # fire_at_s (+2 C a minute); the bin is knocked over (tilt switch) from knocked_over_at_s.
    "fill_level": {"fill_start": 0.3, "fill_days": 3.0, "empty_at": 0.95, "empty_mm": 1050, "full_mm": 150,
                   "noise_mm": 8, "echo_outlier_every": 20, "echo_outlier_mm": 300,
                   "temperature_c": 14.0, "temperature_swing_c": 6.0, "battery_mv": 3600,
                   "fire_at_s": None, "knocked_over_at_s": None},
    # A lifebuoy taken off its post during each [from_s, to_s) of `removed` and put back after; every
    # sway_every_s the wind swings it off the magnet for sway_s (debouncing must ignore that).
    "lifebuoy": {"removed": [], "sway_every_s": 3600, "sway_s": 0.4, "battery_mv": 3550},
    # A streetlight with pedestrians passing (PIR high for pedestrian_s) and a lamp that may fail
    # (no power although switched on) from fail_at_s.
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
        if key not in scenario:
            raise ValueError("scenario: unknown key %s for %s" % (key, device))
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
    """Warmest mid-afternoon, coldest before dawn; a fire adds 2 C a minute, up to +70 C."""
    swing = scenario.get("temperature_swing_c", 0)
    base = scenario.get("temperature_c", 14.0) + swing * math.sin(2 * math.pi * ((t_s % DAY_S) - 6 * 3600) / DAY_S)
    fire_at = scenario.get("fire_at_s")
    if fire_at is not None and t_s >= fire_at:
        base += min(70.0, (t_s - fire_at) / 30)
    return base


def tilted(scenario, t_s):
    knocked_at = scenario.get("knocked_over_at_s")
    return knocked_at is not None and t_s >= knocked_at


def buoy_present(scenario, t_s):
    for window in scenario["removed"]:
        if window[0] <= t_s < window[1]:
            return False
    every = scenario.get("sway_every_s")
    # the swing comes at the end of each period, so a buoy is never mid-swing at boot
    return not (every and t_s % every >= every - scenario.get("sway_s", 0))


def next_presence_change_s(scenario, t_s):
    """When the reed switch next changes after t_s (None: never): the wake interrupt's moment."""
    later = [edge for window in scenario["removed"] for edge in window if edge > t_s]
    every = scenario.get("sway_every_s")
    if every:
        period_start = t_s - t_s % every
        for edge in (period_start + every - scenario.get("sway_s", 0), period_start + every):
            if edge > t_s:
                later.append(edge)
    return min(later) if later else None


def pedestrian(scenario, t_s):
    every = scenario["pedestrian_every_s"]
    return every > 0 and (t_s % every) < scenario["pedestrian_s"]


def lamp_power_w(scenario, t_s, duty_u16, relay_on):
    fail_at = scenario.get("fail_at_s")
    if not relay_on or (fail_at is not None and t_s >= fail_at):
        return 0.0
    return scenario["rated_w"] * duty_u16 / 65535
