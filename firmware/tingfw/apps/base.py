"""What every app shares: join, send by catalogue name, downlink commands, config-ack, state.

Downlink config changes are validated as a whole (config.merge_settings) and swapped in at
once, then persisted as an overlay record; every config downlink is answered with the
catalogue's config_ack (the result, and a CRC-16 of the command re-encoded from what was applied).
"""

import json

from tingfw import config

# config_ack results (catalogue ACK_RESULTS)
APPLIED = "applied"
UNKNOWN_COMMAND = "unknown_command"
MALFORMED = "malformed"
OUT_OF_RANGE = "out_of_range"
UNSUPPORTED = "unsupported"

RESET_CAUSE_CODES = ("power_on", "brownout", "watchdog", "software", "external_pin", "deep_sleep_wake",
                     "hard_fault", "unknown")
# Downlinks answered in one go; a network sending commands back-to-back cannot keep us awake.
MAX_DOWNLINKS_PER_WAKE = 4


def clamp(value, lo, hi):
    return lo if value < lo else hi if value > hi else value


class AppBase:
    DEVICE = ""
    STATE_RECORD = "app_state"
    SETTINGS_RECORD = "settings"

    def __init__(self, settings, link, codec, clock, store, log=None, settings_store=None):
        self.link = link
        self.codec = codec
        self.clock = clock
        self.store = store  # state across deep sleep (RTC memory where the board has it)
        self.settings_store = settings_store or store  # downlinked settings: flash, they must survive power loss
        self.log = log or _no_log
        self.overlay = self._load_record(self.settings_store, self.SETTINGS_RECORD, {})
        self.settings = settings
        if self.overlay:
            try:
                self.settings = config.merge_settings(self.DEVICE, settings, self.overlay)
            except config.ConfigError as exc:
                # An overlay that no longer validates (firmware update narrowed a range): drop it whole.
                self.log("settings overlay dropped: %s" % exc.message)
                self.overlay = {}
        self.state = self._load_record(self.store, self.STATE_RECORD, {})
        self.downlinks_handled = 0

    # -- persistence -----------------------------------------------------------------
    def _load_record(self, store, name, default):
        data = store.read(name)
        if not data:
            return default
        try:
            value = json.loads(data)
        except ValueError:
            self.log("record %s unreadable, starting fresh" % name)
            return default
        return value if isinstance(value, dict) else default

    def save_state(self):
        self.store.write(self.STATE_RECORD, json.dumps(self.state).encode())

    # -- link ------------------------------------------------------------------------
    def ensure_joined(self):
        if self.link.joined:
            return True
        self.log("joining")
        try:
            return bool(self.link.join())
        except Exception as exc:  # radio or modem trouble must not stop the device: retry next time
            self.log("join failed: %s" % exc)
            return False

    def send(self, message, fields, confirmed=False):
        """Encode by catalogue name and send; returns the link's result or None when it could not send."""
        if not self.ensure_joined():
            return None
        fport, payload = self.codec.encode(self.DEVICE, message, fields)
        try:
            result = self.link.send(fport, payload, confirmed)
        except Exception as exc:  # radio/modem error, payload too large at this DR: try again next time
            self.log("send %s failed: %s" % (message, exc))
            return None
        self.log("sent %s fport=%d %d B%s" % (message, fport, len(payload), " (confirmed)" if confirmed else ""))
        if result.downlinks:
            self.handle_downlinks(result.downlinks)
        return result

    def send_device_info(self, reset_cause):
        from tingfw import VERSION_TUPLE

        if reset_cause not in RESET_CAUSE_CODES:
            reset_cause = "unknown"
        return self.send("device_info", {
            "firmware_major": VERSION_TUPLE[0], "firmware_minor": VERSION_TUPLE[1],
            "firmware_patch": VERSION_TUPLE[2], "reset_cause": reset_cause, "device_type": self.DEVICE})

    # -- downlinks -------------------------------------------------------------------
    def handle_downlinks(self, downlinks):
        for fport, payload in downlinks:
            if self.downlinks_handled >= MAX_DOWNLINKS_PER_WAKE:
                self.log("downlink on fport %d ignored: too many this wake" % fport)
                continue
            self.downlinks_handled += 1
            self.handle_downlink(fport, payload)

    def handle_downlink(self, fport, payload):
        result, crc = self.run_command(fport, payload)
        self._ack(fport, result, crc)

    def run_command(self, fport, payload):
        """Decode and apply one command -> (config_ack result, CRC-16 of the command as applied or 0)."""
        codec = self.codec
        try:
            decoded = codec.decode(fport, payload, self.DEVICE, direction="down")
        except codec.CodecError as exc:
            self.log("downlink fport %d rejected: %s" % (fport, exc))
            return (UNKNOWN_COMMAND if not self._is_command_port(fport) else MALFORMED), 0
        message = decoded["message"]
        fields = decoded["fields"]
        result, applied = self.apply_command(message, fields)
        crc = 0
        if result == APPLIED:
            crc = codec.crc16(codec.encode(self.DEVICE, message, applied)[1])
        self.log("command %s: %s" % (message, result))
        return result, crc

    def _is_command_port(self, fport):
        from tingcodec import catalogue

        for message in catalogue.MESSAGES[self.DEVICE]:
            if message["direction"] == "down" and message["fport"] == fport:
                return True
        return False

    def _ack(self, fport, result, crc):
        if not 1 <= fport <= 223:
            return  # port 0 is MAC commands, >223 reserved: nothing to acknowledge
        self.send("config_ack", {"command_fport": fport, "result": result, "applied_crc16": crc})

    def apply_settings(self, changes):
        """Validate the changes against the whole config, then swap in and persist. -> config_ack result."""
        try:
            merged = config.merge_settings(self.DEVICE, self.settings, changes)
        except config.ConfigError as exc:
            self.log("settings rejected: %s" % exc.message)
            return OUT_OF_RANGE
        overlay = dict(self.overlay)
        overlay.update(changes)
        # Persist first: if the write fails we keep running on the old settings, consistently.
        self.settings_store.write(self.SETTINGS_RECORD, json.dumps(overlay).encode())
        self.overlay = overlay
        self.settings = merged
        return APPLIED

    def apply_command(self, message, fields):
        """Subclasses: -> (config_ack result, the fields as applied)."""
        return UNSUPPORTED, fields


def _no_log(_line):
    pass
