"""Waste-bin fill level (battery, Class A): measure, alarm at once, report on interval, deep sleep.

One wake = one cycle(): N distance samples -> median with outlier rejection (a fault flag,
never a bogus distance), temperature, tilt, battery; alarms that *start* this cycle go out
at once as a confirmed uplink (retried on following wakes until acknowledged); a status
uplink every report interval. cycle() returns how long to deep-sleep, in ms. All state that
must survive deep sleep is in self.state, saved to the store at the end of the cycle.
"""

from tingfw.apps.base import APPLIED, AppBase, clamp
from tingfw.measure import FAULT_BLIND_ZONE, FAULT_NONE, filter_distance

ALARM_BITS = ("fire_temperature", "fire_rise", "tilt", "fill_threshold")
FIRE_CLEAR_MARGIN_C = 5  # a fire alarm ends only well below its threshold
SAMPLE_GAP_MS = 60  # A02YYUW real-time mode answers every ~100 ms; JSN-SR04T needs >= 50 ms between pings


class FillLevelApp(AppBase):
    DEVICE = "fill_level"

    def __init__(self, settings, link, codec, clock, store, distance, temperature=None, tilt=None,
                 battery=None, sensor_power=None, log=None, settings_store=None):
        AppBase.__init__(self, settings, link, codec, clock, store, log, settings_store)
        self.distance = distance
        self.temperature = temperature
        self.tilt = tilt
        self.battery = battery
        self.sensor_power = sensor_power  # a Pin switching the sensor supply, or None
        self.last = None  # the last measurement, for tests and the simulation

    # -- measurement -----------------------------------------------------------------
    def measure(self):
        settings = self.settings
        if self.sensor_power is not None:
            self.sensor_power.value(1)
            self.clock.sleep_ms(150)  # sensor start-up
            if hasattr(self.distance, "powered_up"):
                self.distance.powered_up()
        temperature_c = self.temperature.read_c() if self.temperature is not None else None
        if temperature_c is not None and hasattr(self.distance, "temperature_c"):
            self.distance.temperature_c = temperature_c  # speed-of-sound correction (JSN-SR04T)
        samples = []
        gap_ms = getattr(self.distance, "sample_gap_ms", SAMPLE_GAP_MS)
        for index in range(settings["samples"]):
            if index and gap_ms:
                self.clock.sleep_ms(gap_ms)
            samples.append(self.distance.read_mm())
        if self.sensor_power is not None:
            self.sensor_power.value(0)
        distance_mm, fault, _kept = filter_distance(
            samples, settings["blind_zone_mm"], settings["max_range_mm"], settings["outlier_mm"],
            (settings["samples"] + 1) // 2)
        tilted = None
        if self.tilt is not None:
            tilted = self.tilt.tilted(settings["tilt_deg"]) if settings["tilt_deg"] else False
        battery_mv = self.battery.read_mv() if self.battery is not None else 0
        return distance_mm, fault, temperature_c, tilted, battery_mv

    # -- alarms ----------------------------------------------------------------------
    def _alarm_conditions(self, distance_mm, temperature_c, tilted, minutes):
        """Which alarms hold now, given the latched set (hysteresis so they do not chatter)."""
        settings = self.settings
        latched = self.state.get("alarms", 0)
        active = 0
        fire_c = settings["fire_temperature_c"]
        if fire_c and temperature_c is not None:
            limit = fire_c - FIRE_CLEAR_MARGIN_C if latched & 1 else fire_c
            if temperature_c >= limit:
                active |= 1
        rise = settings["fire_rise_c_per_min"]
        last_c = self.state.get("temperature_c")
        if rise and temperature_c is not None and last_c is not None and minutes > 0:
            if (temperature_c - last_c) / minutes >= rise:
                active |= 2
        if tilted:
            active |= 4
        fill_mm = settings["fill_distance_mm"]
        if fill_mm and distance_mm is not None:
            limit = fill_mm + settings["fill_hysteresis_mm"] if latched & 8 else fill_mm
            if distance_mm <= limit:
                active |= 8
        elif latched & 8 and distance_mm is None:
            active |= 8  # a faulty reading does not end a fill alarm
        return active

    # -- one wake --------------------------------------------------------------------
    def cycle(self, wake="timer", reset_cause="deep_sleep_wake"):
        self.downlinks_handled = 0
        state = self.state
        settings = self.settings
        interval_s = settings["measure_interval_s"]
        first = "elapsed_s" not in state
        if wake == "boot" or first:
            state["info_due"] = 1
        if state.get("info_due") and self.send_device_info(reset_cause if wake == "boot" else "unknown"):
            state["info_due"] = 0

        distance_mm, fault, temperature_c, tilted, battery_mv = self.measure()
        minutes = state.get("slept_s", interval_s) / 60
        active = self._alarm_conditions(distance_mm, temperature_c, tilted, minutes)
        started = active & ~state.get("alarms", 0)
        state["alarms"] = active
        state["temperature_c"] = temperature_c
        self.last = (distance_mm, fault, temperature_c, tilted, battery_mv, active)
        # Alarms that started now, plus any not yet acknowledged, go out at once, confirmed.
        pending = (state.get("alarm_pending", 0) | started) & active
        if pending:
            result = self.send("alarm", self._alarm_fields(pending, distance_mm, temperature_c), confirmed=True)
            if result is not None and result.acked:
                pending = 0
        state["alarm_pending"] = pending

        since_report_s = state.get("since_report_s", 0) + state.get("slept_s", 0)
        if first or since_report_s >= settings["report_interval_s"] or state.get("status_due"):
            # Not joined or not sent: stays due, so the next wake reports instead of waiting an interval.
            state["status_due"] = 1
            if self.send("status", self._status_fields(distance_mm, fault, temperature_c, tilted, battery_mv)):
                since_report_s = 0
                state["status_due"] = 0
        state["since_report_s"] = since_report_s
        # Settings may have changed by downlink during this cycle: sleep by the new interval.
        interval_s = self.settings["measure_interval_s"]
        state["slept_s"] = interval_s
        state["elapsed_s"] = state.get("elapsed_s", 0) + interval_s
        self.save_state()
        return interval_s * 1000

    def _status_fields(self, distance_mm, fault, temperature_c, tilted, battery_mv):
        return {
            "distance_mm": clamp(distance_mm, 0, 5100) if fault == FAULT_NONE else 0,
            "temperature_c": clamp(temperature_c, -40, 85) if temperature_c is not None else 0,
            "battery_mv": clamp(battery_mv, 0, 5100),
            "tilted": bool(tilted),
            "no_echo": fault != FAULT_NONE and fault != FAULT_BLIND_ZONE,
            "blind_zone": fault == FAULT_BLIND_ZONE,
        }

    def _alarm_fields(self, bits, distance_mm, temperature_c):
        fields = {}  # type: dict
        for index in range(len(ALARM_BITS)):
            fields[ALARM_BITS[index]] = bool(bits & (1 << index))
        fields["distance_mm"] = clamp(distance_mm, 0, 5100) if distance_mm is not None else 0
        fields["temperature_c"] = clamp(temperature_c, -40, 85) if temperature_c is not None else 0
        return fields

    # -- downlink commands -----------------------------------------------------------
    def apply_command(self, message, fields):
        if message == "set_report_interval":
            changes = {"report_interval_s": fields["report_interval_s"]}
        elif message == "set_alarm_thresholds":
            changes = {}
            for name in ("fire_temperature_c", "fire_rise_c_per_min", "fill_distance_mm", "tilt_deg"):
                changes[name] = fields[name]
        else:
            return "unsupported", fields
        result = self.apply_settings(changes)
        return result, (fields if result == APPLIED else None)

