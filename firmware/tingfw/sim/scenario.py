"""Scripted worlds for simulated devices: pure functions of simulated seconds since the start.

Deterministic (a small linear congruential generator seeded from the DevEUI), so a run can be
repeated exactly. Each scenario can be tuned from the device line's optional "scenario" object.
"""

import math


class Noise:
    def __init__(self, seed):
        self.state = seed & 0x7FFFFFFF or 1

    def next(self, span):
        """An integer in -span..span."""
        self.state = (1103515245 * self.state + 12345) & 0x7FFFFFFF
        return (self.state % (2 * span + 1)) - span if span else 0


class BinFilling:
    """A bin filling at fill_mm_per_day and emptied every empty_every_days; an echo outlier now and then."""

    def __init__(self, seed, height_mm=1500, fill_mm_per_day=300, empty_every_days=4.0, fire_at_s=None,
                 knocked_over_at_s=None):
        self.noise = Noise(seed)
        self.height_mm = height_mm
        self.fill_mm_per_day = fill_mm_per_day
        self.empty_every_s = empty_every_days * 86400
        self.fire_at_s = fire_at_s
        self.knocked_over_at_s = knocked_over_at_s

    def distance_mm(self, t_s):
        since_emptied_s = t_s % self.empty_every_s if self.empty_every_s else t_s
        level_mm = min(self.height_mm - 20, since_emptied_s * self.fill_mm_per_day // 86400)
        if self.noise.next(20) == 20:
            return 300  # an echo off the bin wall: the median must throw it away
        return max(0, int(self.height_mm - level_mm + self.noise.next(8)))

    def temperature_c(self, t_s):
        base = 10 + 6 * math.sin(2 * math.pi * (t_s % 86400) / 86400)
        if self.fire_at_s is not None and t_s >= self.fire_at_s:
            base += min(70, (t_s - self.fire_at_s) / 30)  # a smouldering fire: +2 C per minute
        return round(base * 2) / 2

    def tilted(self, t_s):
        return self.knocked_over_at_s is not None and t_s >= self.knocked_over_at_s


class BuoyPost:
    """The buoy is removed at removed_at_s and put back at returned_at_s; wind sways it briefly every hour."""

    def __init__(self, seed, removed_at_s=600, returned_at_s=3000, sway_every_s=3600):
        self.removed_at_s = removed_at_s
        self.returned_at_s = returned_at_s
        self.sway_every_s = sway_every_s

    def present(self, t_s):
        if self.removed_at_s is not None and self.removed_at_s <= t_s and (
                self.returned_at_s is None or t_s < self.returned_at_s):
            return False
        # A 0.4 s swing off the magnet at the start of every sway period: debouncing must ignore it.
        return not (self.sway_every_s and t_s % self.sway_every_s < 0.4)


class StreetWithLamp:
    """Pedestrians pass every pedestrian_every_s (PIR high for 4 s); the lamp fails at lamp_fails_at_s."""

    def __init__(self, seed, pedestrian_every_s=300, lamp_fails_at_s=None, lamp_w=60):
        self.pedestrian_every_s = pedestrian_every_s
        self.lamp_fails_at_s = lamp_fails_at_s
        self.lamp_w = lamp_w

    def motion(self, t_s):
        return bool(self.pedestrian_every_s) and t_s % self.pedestrian_every_s < 4

    def power_w(self, t_s, level_pct):
        if self.lamp_fails_at_s is not None and t_s >= self.lamp_fails_at_s:
            return 0
        return self.lamp_w * level_pct / 100
