"""Streetlight controller (mains, Class C): commands, weekly schedule, presence, metering, faults.

The light level is decided each step, highest priority first:
1. a set_level command (with fade, for duration_s, or until the next command when 0);
2. no network contact (no downlink or ack) for failsafe_after_s, or not joined -> failsafe level;
3. a schedule: with a valid network time, the schedule's level (weekdays and clock points in local
   time of the configured time_zone, Europe/Copenhagen by default; sunset/sunrise points from the
   configured location); without one (never synced, or a week since the last DeviceTimeAns) the
   failsafe level: a schedule we cannot follow is a fault;
4. otherwise the default level (an empty schedule, or no point at or before now).
Presence dimming then applies to levels 2-4: while the lamp is on it burns at low_level_pct
and rises to high_level_pct for hold_s after each detection.
"""

from tingfw.apps.base import APPLIED, MALFORMED, AppBase, clamp
from tingfw.localtime import gps_to_unix, sun_times_min, utc_offset_s, wall_to_unix, weekday

TIME_VALID_MS = 7 * 86400 * 1000  # a crystal drifts; after a week without sync we stop trusting it
TIME_RETRY_MS = 600 * 1000
METER_PERIOD_MS = 5000
STATE_SAVE_MS = 600 * 1000
SETTLE_MS = 3000  # a driver needs a moment after a level change before its power means anything
POLL_IDLE_MS = 1000
POLL_FADING_MS = 100
PRESENCE_FADE_MS = 1000
MAX_GROUP_ACKS = 4  # pending config_acks of group commands; more are applied but not answered


class StreetlightApp(AppBase):
    DEVICE = "streetlight"

    def __init__(self, settings, link, codec, clock, store, dimmer, meter, pir=None, log=None, settings_store=None,
                 random_bits=None):
        AppBase.__init__(self, settings, link, codec, clock, store, log, settings_store)
        if random_bits is None:
            import random

            random_bits = random.getrandbits
        self._bits = random_bits
        self.group = getattr(link, "multicast", None)  # the multicast session, if the link has one
        self.group_acks = []  # [(due uptime ms, fport, result, crc)]: config_acks of group commands, spread out
        self.dimmer = dimmer
        self.meter = meter
        self.pir = pir
        self.uptime_ms = 0
        self._last_tick = clock.ticks_ms()
        meter.energy_wh = self.state.get("energy_wh", meter.energy_wh)
        self.lamp_on_ms = self.state.get("lamp_on_ms", 0)
        self.override = None  # (level_pct, until uptime ms or None)
        self.output = None  # level now on the dimmer (float while fading)
        self.fade = None  # (from level, to level, start ms, duration ms)
        self.target = None
        self.changed_ms = 0
        self.last_contact_ms = 0
        self.unix_base = None  # (unix seconds, uptime ms) from the last network time
        self._schedule_cache = None  # (unix minute, settings, level)
        self.last_time_try_ms = None
        self.time_requested = False
        self.last_presence_ms = None
        self.pir_was_active = False
        self.detections = 0
        self.last_meter_ms = 0
        self.last_report_ms = None
        self.reports = 0
        self.faults = 0  # bit 0 lamp_failure, bit 1 driver_failure
        self.fault_pending = 0
        self.fault_since_ms = None
        self.last_save_ms = 0

    # -- time ------------------------------------------------------------------------
    def _tick(self):
        now = self.clock.ticks_ms()
        self.uptime_ms += now - self._last_tick
        self._last_tick = now
        return self.uptime_ms

    def unix_now(self):
        if self.unix_base is None or self.uptime_ms - self.unix_base[1] > TIME_VALID_MS:
            return None
        return self.unix_base[0] + (self.uptime_ms - self.unix_base[1]) // 1000

    def _sync_time(self, now_ms):
        """Read the MAC's network time; ask for a fresh DeviceTimeReq (it rides on the next uplink)."""
        synced = self.unix_base is not None and now_ms - self.unix_base[1] < self.settings["time_sync_interval_s"] * 1000
        if synced or (self.last_time_try_ms is not None and now_ms - self.last_time_try_ms < TIME_RETRY_MS):
            return
        self.last_time_try_ms = now_ms
        gps_s = self.link.network_time()
        if gps_s is not None and (self.unix_base is None or self.time_requested):
            self.unix_base = (gps_to_unix(gps_s), now_ms)
            self.time_requested = False
            self.log("network time set")
            return
        request = getattr(self.link, "request_device_time", None)
        if request is not None and self.link.joined:
            request()
            self.time_requested = True

    # -- level decision --------------------------------------------------------------
    def schedule_level(self, unix_s):
        """Level of the latest schedule point at or before unix_s (looking back a week), or None.

        Days and clock points are local wall-clock time in the configured zone (wall_to_unix settles
        the skipped and the repeated hour); sunset/sunrise points are instants, whatever the zone.
        """
        points = self.settings["schedule"]
        if not points:
            return None
        zone = self.settings["time_zone"]
        today = (unix_s + utc_offset_s(unix_s, zone)) // 86400  # the local date
        best = None  # (instant s, local minute): ties (two points in the skipped hour) go to the later one
        best_level = None
        for back in range(-1, 8):  # from tomorrow: a sunrise point up to 12 h early may already be due
            day = today - back
            day_bit = 1 << weekday(day)
            sun = None
            for point in points:
                if not point["days_mask"] & day_bit:
                    continue
                minute = day * 1440 + point["time_min"]
                if point["anchor"]:
                    if sun is None:
                        sun = sun_times_min(day, self.settings["latitude_deg"], self.settings["longitude_deg"])
                    at_s = (minute + (sun[1] if point["anchor"] == 1 else sun[0])) * 60
                else:
                    at_s = wall_to_unix(minute * 60, zone)
                if at_s <= unix_s and (best is None or (at_s, minute) > best):
                    best = (at_s, minute)
                    best_level = point["level_pct"]
            # Anything on an earlier local day is before day + 12 h UTC (sun point + 720 min at most;
            # clock points of our zones end before the day starts in UTC): nothing left to find.
            if best is not None and best[0] >= day * 86400 + 43200:
                break
        return best_level

    def _scheduled_level(self, unix_s):
        """schedule_level, computed once per minute (points and DST changes fall on whole minutes)."""
        minute = unix_s // 60
        cached = self._schedule_cache
        if cached is None or cached[0] != minute or cached[1] is not self.settings:
            cached = (minute, self.settings, self.schedule_level(unix_s))
            self._schedule_cache = cached
        return cached[2]

    def target_level(self, now_ms):
        settings = self.settings
        if self.override is not None:
            level, until_ms = self.override
            if until_ms is None or now_ms < until_ms:
                return level, False
            self.override = None
        failsafe_ms = settings["failsafe_after_s"] * 1000
        if not self.link.joined or (failsafe_ms and now_ms - self.last_contact_ms >= failsafe_ms):
            level = settings["failsafe_level_pct"]
        else:
            level = None
            if settings["schedule"]:
                unix_s = self.unix_now()
                # A schedule without a trustworthy clock cannot be followed: burn the fail-safe level.
                level = settings["failsafe_level_pct"] if unix_s is None else self._scheduled_level(unix_s)
            if level is None:
                level = settings["default_level_pct"]
        if settings["hold_s"] and level > 0:
            held = self.last_presence_ms is not None and now_ms - self.last_presence_ms < settings["hold_s"] * 1000
            level = settings["high_level_pct"] if held else min(level, settings["low_level_pct"])
        return level, True

    def _apply_output(self, now_ms):
        target, presence_driven = self.target_level(now_ms)
        if target != self.target:
            start = self.output if self.output is not None else target
            duration_ms = PRESENCE_FADE_MS if presence_driven and self.output is not None else 0
            if self.fade is not None and self.fade[1] == target:
                duration_ms = self.fade[3]
            self.fade = (start, target, now_ms, duration_ms) if duration_ms else None
            self.target = target
            self.changed_ms = now_ms
            if self.fade is None:
                self.output = target
        if self.fade is not None:
            start, end, started_ms, duration_ms = self.fade
            progress = (now_ms - started_ms) / duration_ms
            if progress >= 1:
                self.output = end
                self.fade = None
            else:
                self.output = start + (end - start) * progress
        self.dimmer.set_level(int(target if self.output is None else self.output + 0.5))

    # -- inputs ----------------------------------------------------------------------
    def _presence(self, now_ms):
        if self.pir is None:
            return
        active = self.pir.active()
        if active and not self.pir_was_active:
            self.detections += 1
        if active:
            self.last_presence_ms = now_ms
        self.pir_was_active = active

    def _meter(self, now_ms):
        if now_ms - self.last_meter_ms < METER_PERIOD_MS:
            return
        elapsed_ms = now_ms - self.last_meter_ms
        self.last_meter_ms = now_ms
        power_w = self.meter.update()
        level = self.dimmer.level or 0
        if level > 0:
            self.lamp_on_ms += elapsed_ms
        settled = self.fade is None and now_ms - self.changed_ms >= SETTLE_MS
        threshold_w = self.settings["lamp_fail_w"]
        fault = 0
        if settled and level > 0 and power_w < threshold_w:
            fault = 1  # commanded on, drawing (almost) nothing: lamp or driver gone
        elif settled and level == 0 and power_w > threshold_w:
            fault = 2  # commanded off, still drawing: relay stuck or driver ignoring dim
        if fault and fault != self.faults:
            if self.fault_since_ms is None:
                self.fault_since_ms = now_ms
            if now_ms - self.fault_since_ms >= self.settings["fail_confirm_s"] * 1000:
                self.faults = fault
                self.fault_pending = fault
                self.fault_since_ms = None
                self.log("lamp fault %d at level %d, %d W" % (fault, level, power_w))
        elif not fault:
            self.fault_since_ms = None
            if self.faults:
                self.log("lamp fault cleared")
            self.faults = 0
            self.fault_pending = 0

    # -- uplinks ---------------------------------------------------------------------
    def _uplinks(self, now_ms):
        if self.group_acks:
            self._send_group_acks(now_ms)
        if self.fault_pending:
            result = self.send("lamp_failure", {
                "lamp_failure": bool(self.fault_pending & 1), "driver_failure": bool(self.fault_pending & 2),
                "supply_failure": False, "level_pct": self.dimmer.level or 0,
                "power_w": clamp(self.meter.power_w, 0, 1000)}, confirmed=True)
            if result is not None and result.acked:
                self.fault_pending = 0
                self.last_contact_ms = now_ms
        interval_ms = self.settings["report_interval_s"] * 1000
        if self.last_report_ms is not None and now_ms - self.last_report_ms < interval_ms:
            return
        self.last_report_ms = now_ms
        level = self.dimmer.level or 0
        self.send("status", {"level_pct": level, "lamp_on": level > 0, "lamp_failure": bool(self.faults & 1),
                             "driver_failure": bool(self.faults & 2),
                             "power_w": clamp(self.meter.power_w, 0, 1000),
                             "presence_detections": clamp(self.detections, 0, 65535)})
        self.detections = 0
        if self.reports % self.settings["meter_every"] == 0:
            # Confirmed: an ack proves network contact for the fail-safe, and cumulative counters matter.
            result = self.send("meter", {"energy_wh": self.meter.energy_wh,
                                         "operating_hours": self.lamp_on_ms // 3600000}, confirmed=True)
            if result is not None and result.acked:
                self.last_contact_ms = now_ms
        self.reports += 1

    # -- main loop -------------------------------------------------------------------
    def start(self, reset_cause="power_on"):
        now_ms = self._tick()
        self.last_contact_ms = now_ms
        self.ensure_joined()
        self._sync_time(now_ms)  # queues DeviceTimeReq: it rides on the device_info uplink
        self.send_device_info(reset_cause)
        self.last_time_try_ms = None  # read the answer on the first step
        self._sync_time(now_ms)
        self._apply_output(now_ms)

    def step(self):
        """One pass: listen (Class C) up to a second, then decide, drive, meter and report."""
        self.downlinks_handled = 0
        wait_ms = POLL_FADING_MS if self.fade is not None else POLL_IDLE_MS
        if self.link.joined:
            downlinks = self.link.poll(wait_ms)
            if downlinks:
                self.handle_downlinks(downlinks)
            if self.group is not None:
                frames = self.group.take()
                if frames:
                    self.handle_group_commands(frames)
        else:
            self.clock.sleep_ms(wait_ms)
            self.ensure_joined()
        now_ms = self._tick()
        self._sync_time(now_ms)
        self._presence(now_ms)
        self._apply_output(now_ms)
        self._meter(now_ms)
        self._uplinks(now_ms)
        if now_ms - self.last_save_ms >= STATE_SAVE_MS:
            self.save_counters(now_ms)

    def save_counters(self, now_ms):
        self.last_save_ms = now_ms
        self.state["energy_wh"] = self.meter.energy_wh
        self.state["lamp_on_ms"] = self.lamp_on_ms
        self.save_state()

    def run(self, duration_ms):
        end_ms = self.uptime_ms + duration_ms
        while self.uptime_ms < end_ms:
            self.step()

    # -- downlink commands -----------------------------------------------------------
    def handle_downlink(self, fport, payload):
        self.last_contact_ms = self.uptime_ms
        AppBase.handle_downlink(self, fport, payload)

    def handle_group_commands(self, frames):
        """Multicast commands: applied like unicast ones, but never answered at once. Every lamp of a
        street hears the same frame; answering together would collide on air (and cost each lamp its
        duty cycle at once), so each schedules its config_ack a random 0..group_ack_spread_s later."""
        now_ms = self._tick()
        spread_ms = self.settings["group_ack_spread_s"] * 1000
        for fport, payload in frames:
            self.last_contact_ms = now_ms  # a frame with a valid MIC: the network is there
            self.log("group command on fport %d" % fport)
            result, crc = self.run_command(fport, payload)
            if spread_ms and len(self.group_acks) < MAX_GROUP_ACKS:
                self.group_acks.append((now_ms + self._bits(30) % spread_ms, fport, result, crc))

    def _send_group_acks(self, now_ms):
        for item in self.group_acks:
            if now_ms >= item[0]:
                self.group_acks.remove(item)
                self._ack(item[1], item[2], item[3])
                return  # at most one per step: the next waits for its own turn

    def apply_command(self, message, fields):
        if message == "set_level":
            duration_s = fields.get("duration_s", 0)
            fade_ms = fields.get("fade_ms", 0)
            now_ms = self._tick()
            self.override = (fields["level_pct"], now_ms + duration_s * 1000 if duration_s else None)
            if fade_ms and self.output is not None:
                self.fade = (self.output, fields["level_pct"], now_ms, fade_ms)
            self.target = None if not fade_ms else fields["level_pct"]
            if self.target is not None:
                self.changed_ms = now_ms
            return APPLIED, fields
        if message == "set_default_level":
            changes = fields
        elif message == "set_schedule":
            changes = {"schedule": fields.get("points")}
            if changes["schedule"] is None:
                return MALFORMED, None
        elif message == "set_presence_dimming":
            changes = fields
        elif message == "set_report_interval":
            changes = {"report_interval_s": fields["report_interval_s"]}
        else:
            return "unsupported", fields
        result = self.apply_settings(changes)
        return result, (fields if result == APPLIED else None)
