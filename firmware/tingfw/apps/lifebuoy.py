"""Lifebuoy post (battery, Class A): presence by reed/Hall switch, wake on change, heartbeat.

A wake (pin change or timer) debounces the switch for debounce_ms, so a buoy rocking in the
wind does not count as removed. A debounced change sends a confirmed `presence` uplink and
keeps re-sending it on the following wakes (retry interval doubling up to the heartbeat) until
the network acknowledges it. A heartbeat tells a destroyed sensor apart from "present".
"""

from tingfw.apps.base import APPLIED, AppBase, clamp
from tingfw.drivers.switch import debounce


class LifebuoyApp(AppBase):
    DEVICE = "lifebuoy"

    def __init__(self, settings, link, codec, clock, store, presence, tamper=None, battery=None,
                 temperature=None, log=None, settings_store=None):
        AppBase.__init__(self, settings, link, codec, clock, store, log, settings_store)
        self.presence = presence  # a Switch: active() == magnet (buoy) present
        self.tamper = tamper
        self.battery = battery
        self.temperature = temperature

    def cycle(self, wake="timer", reset_cause="deep_sleep_wake"):
        self.downlinks_handled = 0
        state = self.state
        settings = self.settings
        first = "present" not in state
        if wake == "boot" or first:
            state["info_due"] = 1
        if state.get("info_due") and self.send_device_info(reset_cause if wake == "boot" else "unknown"):
            state["info_due"] = 0
        # Time since the last wake: the sleep we asked for, or less when a pin woke us early.
        elapsed_s = state.get("slept_s", 0) if wake != "pin" else state.get("woke_after_s", 0)
        state["since_heartbeat_s"] = state.get("since_heartbeat_s", 0) + elapsed_s

        present = debounce(self.presence, self.clock, settings["debounce_ms"])
        tamper = bool(self.tamper.active()) if self.tamper is not None else False
        if first:
            state["present"] = present
            state["tamper"] = tamper
            state["seq"] = 0
            state["changes"] = 0
        elif present != state["present"] or tamper != state["tamper"]:
            state["present"] = present
            state["tamper"] = tamper
            state["seq"] = (state.get("seq", 0) + 1) & 0xFF
            state["changes"] = state.get("changes", 0) + 1
            state["pending"] = 1
            state["retry_s"] = settings["retry_interval_s"]
            self.log("presence changed: %s" % ("present" if present else "REMOVED"))

        if state.get("pending"):
            result = self.send("presence", {"present": state["present"], "tamper": state["tamper"],
                                            "event_seq": state["seq"]}, confirmed=True)
            if result is not None and result.acked:
                state["pending"] = 0
            else:
                # Sleep the current retry interval, and double it for the time after (back-off).
                retry_s = state.get("retry_s", settings["retry_interval_s"])
                state["retry_sleep_s"] = retry_s
                state["retry_s"] = min(retry_s * 2, settings["heartbeat_interval_s"])

        if first or state.get("heartbeat_due") or state["since_heartbeat_s"] >= self.settings["heartbeat_interval_s"]:
            state["heartbeat_due"] = 1  # stays due until sent (not joined, radio busy)
            if self.send("heartbeat", self._heartbeat_fields()):
                state["since_heartbeat_s"] = 0
                state["changes"] = 0
                state["heartbeat_due"] = 0

        sleep_s = self.settings["heartbeat_interval_s"] - state["since_heartbeat_s"]
        if state.get("heartbeat_due"):
            sleep_s = min(sleep_s, self.settings["retry_interval_s"])
        if state.get("pending"):
            sleep_s = min(sleep_s, state.get("retry_sleep_s", settings["retry_interval_s"]))
        sleep_s = max(sleep_s, 1)
        state["slept_s"] = sleep_s
        self.save_state()
        return sleep_s * 1000

    def woke_early(self, slept_s):
        """The runner tells us how long we actually slept before a pin woke us (RTC time)."""
        self.state["woke_after_s"] = slept_s

    def wake_level(self):
        """Pin level that must wake us: the opposite of the current presence level."""
        active_level = self.presence.active_level
        return 1 - active_level if self.state.get("present") else active_level

    def _heartbeat_fields(self):
        temperature_c = self.temperature.read_c() if self.temperature is not None else None
        return {
            "present": bool(self.state["present"]),
            "tamper": bool(self.state["tamper"]),
            "battery_mv": clamp(self.battery.read_mv(), 0, 5100) if self.battery is not None else 0,
            "temperature_c": clamp(temperature_c, -40, 85) if temperature_c is not None else 0,
            "presence_changes": clamp(self.state.get("changes", 0), 0, 65535),
        }

    def apply_command(self, message, fields):
        if message == "set_heartbeat_interval":
            result = self.apply_settings({"heartbeat_interval_s": fields["heartbeat_interval_s"]})
        elif message == "set_debounce":
            result = self.apply_settings({"debounce_ms": fields["debounce_ms"]})
        else:
            return "unsupported", fields
        return result, (fields if result == APPLIED else None)
