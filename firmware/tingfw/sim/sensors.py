"""Sensor objects with the drivers' interfaces, reading a scenario at the simulated clock's time."""


class _Timed:
    def __init__(self, scenario, clock):
        self.scenario = scenario
        self.clock = clock

    def t_s(self):
        return self.clock.ticks_ms() / 1000


class Distance(_Timed):
    temperature_c = 20
    sample_gap_ms = 0

    def read_mm(self):
        return self.scenario.distance_mm(self.t_s())


class Temperature(_Timed):
    def read_c(self):
        return self.scenario.temperature_c(self.t_s())


class Tilt(_Timed):
    def tilted(self, max_angle_deg=None):
        return self.scenario.tilted(self.t_s())


class Battery:
    def __init__(self, mv=3600):
        self.mv = mv

    def read_mv(self):
        return self.mv


class Presence(_Timed):
    """A reed switch (active low) as tingfw.drivers.switch.Switch sees it."""

    active_level = 0
    pin = None

    def active(self):
        return self.scenario.present(self.t_s())


class Motion(_Timed):
    def active(self):
        return self.scenario.motion(self.t_s())


class LampCounter(_Timed):
    """CF pulses of a BL0937 whose power follows the dimmer level and the scenario's lamp."""

    def __init__(self, scenario, clock, dimmer, joules_per_pulse):
        _Timed.__init__(self, scenario, clock)
        self.dimmer = dimmer
        self.joules_per_pulse = joules_per_pulse
        self.pulses = 0.0
        self.last_s = self.t_s()

    def count(self):
        now_s = self.t_s()
        level = self.dimmer.level or 0
        self.pulses += self.scenario.power_w(now_s, level) * (now_s - self.last_s) / self.joules_per_pulse
        self.last_s = now_s
        return int(self.pulses) & 0xFFFFFFFF
