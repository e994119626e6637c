# Streetlight app behaviour under the real MicroPython interpreter (the rig: streetlight_rig.py).
# Schedule and local-time tests: mpy_streetlight_schedule.py.
import mpytest
import tingcodec
from streetlight_rig import Rig


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
