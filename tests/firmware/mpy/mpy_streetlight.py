# Streetlight app behaviour under the real MicroPython interpreter: Class C polls on a fake link,
# a fake PWM dimmer, a fake BL0937 pulse counter that follows the lamp's power, a fake clock.
import mpytest
import tingcodec
from tingfw import boards, config
from tingfw.apps.streetlight import StreetlightApp
from tingfw.drivers.bl0937 import EnergyMeter
from tingfw.drivers.dimmer import Dimmer
from tingfw.drivers.switch import Switch
from tingfw.fakes import FakeClock, FakeCounter, FakeLink, FakePin, FakePwm, FakeStore
from tingfw.localtime import days_from_civil

KEYS = {"dev_eui": "0011223344556677", "join_eui": "0000000000000000", "app_key": "00112233445566778899aabbccddeeff"}
JOULES_PER_PULSE = 1.7
LAMP_W = 60  # at 100 %


def gps_at(year, month, day, hour, minute):
    unix_s = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60
    return unix_s - 315964800 + 18


class Rig:
    def __init__(self, **groups):
        raw = {"device": "streetlight", "board": "heltec_wifi_lora32_v3"}
        raw.update(KEYS)
        raw.update(groups)
        self.settings = config.validate(raw, boards.board_names())["settings"]
        self.clock = FakeClock()
        self.link = FakeLink(clock=self.clock)
        self.store = FakeStore()
        self.pwm = FakePwm()
        self.dimmer = Dimmer(self.pwm, FakePin(), min_on_level=0)
        self.counter = FakeCounter(self.clock, JOULES_PER_PULSE)
        self.lamp_ok = True
        self.pir_pin = FakePin(0, clock=self.clock)
        self.app = StreetlightApp(self.settings, self.link, tingcodec, self.clock, self.store, self.dimmer,
                                  EnergyMeter(self.counter, self.clock, JOULES_PER_PULSE), Switch(self.pir_pin, 1))

    def run_s(self, seconds):
        end_ms = self.app.uptime_ms + seconds * 1000
        while self.app.uptime_ms < end_ms:
            # The lamp draws power in proportion to its level (a failed lamp draws nothing).
            self.counter.count()
            self.counter.power_w = LAMP_W * (self.dimmer.level or 0) / 100 if self.lamp_ok else 0
            self.app.step()

    def level(self):
        return self.dimmer.level

    def messages(self, start=0):
        out = []
        for fport, payload, confirmed in self.link.sent[start:]:
            decoded = tingcodec.decode(fport, payload, "streetlight", direction="up")
            out.append((decoded["message"], decoded["fields"], confirmed))
        return out

    def command(self, message, fields):
        self.link.class_c.append([tingcodec.encode("streetlight", message, fields)])


def test_boot_without_time_burns_the_default_level_and_reports():
    rig = Rig(thresholds={"default_level_pct": 80})
    rig.app.start("power_on")
    rig.run_s(2)
    assert rig.level() == 80
    names = [m[0] for m in rig.messages()]
    assert names[:3] == ["device_info", "status", "meter"], names


def test_set_level_with_fade_and_duration_then_back():
    rig = Rig(thresholds={"default_level_pct": 100})
    rig.app.start()
    rig.run_s(2)
    rig.command("set_level", {"level_pct": 40, "duration_s": 60, "fade_ms": 4000})
    rig.run_s(2)
    assert 40 < rig.level() < 100, rig.level()  # mid-fade
    rig.run_s(4)
    assert rig.level() == 40
    acks = [m[1] for m in rig.messages() if m[0] == "config_ack"]
    assert acks and acks[0]["command_fport"] == 20 and acks[0]["result"] == "applied"
    rig.run_s(60)
    assert rig.level() == 100  # duration over: back to the default


def test_set_level_without_duration_holds_until_next_command():
    rig = Rig()
    rig.app.start()
    rig.command("set_level", {"level_pct": 0})
    rig.run_s(3600)
    assert rig.level() == 0
    rig.command("set_level", {"level_pct": 55})
    rig.run_s(2)
    assert rig.level() == 55


def test_weekly_schedule_on_network_time():
    schedule = [{"level_pct": 80, "time_min": 18 * 60, "anchor": "clock", "days_mask": 127},
                {"level_pct": 30, "time_min": 23 * 60, "anchor": "clock", "days_mask": 0x1F},  # Mon-Fri
                {"level_pct": 0, "time_min": 6 * 60, "anchor": "clock", "days_mask": 127}]
    rig = Rig(schedule=schedule)
    rig.link.gps_time_s = gps_at(2026, 11, 23, 22, 50)  # a Monday, 22:50 UTC
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 80
    rig.run_s(11 * 60)  # 23:01
    assert rig.level() == 30
    rig.run_s(7 * 3600)  # 06:01 Tuesday
    assert rig.level() == 0


def test_schedule_weekend_and_sunset_anchor():
    schedule = [{"level_pct": 100, "time_min": 0, "anchor": "sunset", "days_mask": 127},
                {"level_pct": 0, "time_min": 0, "anchor": "sunrise", "days_mask": 127}]
    rig = Rig(schedule=schedule, location={"latitude_deg": 55.68, "longitude_deg": 12.57})
    rig.link.gps_time_s = gps_at(2026, 12, 20, 12, 0)  # a Sunday noon UTC; Copenhagen sunset ~14:38 UTC
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 0
    rig.run_s(3 * 3600)  # 15:00 UTC
    assert rig.level() == 100


def test_no_valid_time_uses_default_even_with_schedule():
    schedule = [{"level_pct": 0, "time_min": 0, "anchor": "clock", "days_mask": 127}]
    rig = Rig(schedule=schedule, thresholds={"default_level_pct": 90})
    rig.app.start()
    rig.run_s(5)
    assert rig.level() == 90


def test_presence_dimming_with_hold_time():
    rig = Rig(thresholds={"default_level_pct": 100, "low_level_pct": 20, "high_level_pct": 100, "hold_s": 30})
    rig.app.start()
    rig.run_s(5)
    assert rig.level() == 20  # nobody around: dimmed
    rig.pir_pin.level = 1
    rig.run_s(2)
    rig.pir_pin.level = 0
    rig.run_s(1)
    assert rig.level() == 100
    rig.run_s(25)
    assert rig.level() == 100  # within the hold time
    rig.run_s(10)
    assert rig.level() == 20
    assert rig.app.detections == 1


def test_failsafe_level_after_no_network_contact():
    rig = Rig(thresholds={"default_level_pct": 30, "failsafe_level_pct": 100, "failsafe_after_s": 600})
    rig.link.acks = [False] * 100  # nothing is ever acknowledged
    rig.app.start()
    rig.run_s(60)
    assert rig.level() == 30
    rig.run_s(600)
    assert rig.level() == 100
    rig.command("set_report_interval", {"report_interval_s": 900})  # a downlink is network contact
    rig.run_s(2)
    assert rig.level() == 30


def test_not_joined_burns_failsafe_level():
    rig = Rig(thresholds={"default_level_pct": 30, "failsafe_level_pct": 100})
    rig.link.joined = False
    rig.link.join_ok = False
    rig.app.start()
    rig.run_s(3)
    assert rig.level() == 100


def test_lamp_failure_detected_reported_and_cleared():
    rig = Rig(thresholds={"lamp_fail_w": 5, "fail_confirm_s": 30})
    rig.app.start()
    rig.run_s(20)
    start = len(rig.link.sent)
    rig.lamp_ok = False
    rig.run_s(20)
    assert not rig.messages(start)  # not yet confirmed
    rig.run_s(30)
    failures = [m for m in rig.messages(start) if m[0] == "lamp_failure"]
    assert len(failures) == 1 and failures[0][2], failures
    assert failures[0][1]["lamp_failure"] and failures[0][1]["level_pct"] == 100 and failures[0][1]["power_w"] == 0
    rig.run_s(900)
    status = [m[1] for m in rig.messages(start) if m[0] == "status"]
    assert status and status[-1]["lamp_failure"]
    rig.lamp_ok = True
    rig.run_s(10)
    assert rig.app.faults == 0


def test_energy_metering_and_operating_hours():
    rig = Rig(intervals={"report_interval_s": 3600, "meter_every": 1})
    rig.app.start()
    rig.run_s(2 * 3600 + 5)
    meters = [m[1] for m in rig.messages() if m[0] == "meter"]
    assert len(meters) == 3, meters
    assert 115 <= meters[-1]["energy_wh"] <= 121, meters  # 60 W for 2 h
    assert meters[-1]["operating_hours"] == 2
    status = [m[1] for m in rig.messages() if m[0] == "status"]
    assert 58 <= status[-1]["power_w"] <= 62 and status[-1]["lamp_on"]


def test_schedule_downlink_applied_persisted_and_acked():
    rig = Rig()
    points = [{"level_pct": 50, "time_min": 1200, "anchor": "clock", "days_mask": 127},
              {"level_pct": 10, "time_min": -30, "anchor": "sunrise", "days_mask": 96}]
    fport, payload = tingcodec.encode("streetlight", "set_schedule", {"points": points})
    rig.link.class_c.append([(fport, payload)])
    rig.app.start()
    rig.run_s(2)
    acks = [m[1] for m in rig.messages() if m[0] == "config_ack"]
    assert acks == [{"command_fport": fport, "result": "applied", "applied_crc16": tingcodec.crc16(payload)}], acks
    assert [p["anchor"] for p in rig.app.settings["schedule"]] == [0, 2]
    assert rig.store.read("settings") is not None


mpytest.main(globals())
