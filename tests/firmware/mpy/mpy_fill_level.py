# Fill-level app behaviour under the real MicroPython interpreter: fake link, clock, sensors, store.
# Every wake builds a new app from the store, as a deep-sleep wake (RAM lost) does on the device.
import mpytest
import tingcodec
from tingfw import boards, config
from tingfw.apps.fill_level import FillLevelApp
from tingfw.fakes import FakeClock, FakeDistanceSensor, FakeLink, FakeStore, FakeValue

KEYS = {"dev_eui": "0011223344556677", "join_eui": "0000000000000000", "app_key": "00112233445566778899aabbccddeeff"}


def settings(**groups):
    raw = {"device": "fill_level", "board": "heltec_wifi_lora32_v3"}
    raw.update(KEYS)
    raw.update(groups)
    return config.validate(raw, boards.board_names())["settings"]


class Rig:
    def __init__(self, readings=(1000,), temperature=21.5, tilted=False, battery_mv=3600, **groups):
        self.settings = settings(**groups)
        self.clock = FakeClock()
        self.link = FakeLink(clock=self.clock)
        self.store = FakeStore()
        self.distance = FakeDistanceSensor(list(readings))
        self.temperature = FakeValue(temperature)
        self.tilt = FakeValue(tilted)
        self.battery = FakeValue(battery_mv)

    def wake(self, wake="timer"):
        app = FillLevelApp(self.settings, self.link, tingcodec, self.clock, self.store, self.distance,
                           self.temperature, self.tilt, self.battery)
        sleep_ms = app.cycle(wake, "power_on")
        self.clock.advance(sleep_ms)
        return app, sleep_ms

    def messages(self, start=0):
        out = []
        for fport, payload, confirmed in self.link.sent[start:]:
            decoded = tingcodec.decode(fport, payload, "fill_level", direction="up")
            out.append((decoded["message"], decoded["fields"], confirmed))
        return out


def test_boot_sends_device_info_then_status_and_sleeps_the_measure_interval():
    rig = Rig(readings=[1000, 1010, 990, 1005, 995])
    _app, sleep_ms = rig.wake("boot")
    sent = rig.messages()
    assert [m[0] for m in sent] == ["device_info", "status"], sent
    assert sent[0][1]["reset_cause"] == "power_on" and sent[0][1]["device_type"] == "fill_level"
    status = sent[1][1]
    assert status["distance_mm"] == 1000 and not status["no_echo"] and not status["blind_zone"]
    assert status["temperature_c"] == 21.5 and status["battery_mv"] == 3600 and not status["tilted"]
    assert sleep_ms == 900 * 1000


def test_median_rejects_outliers():
    rig = Rig(readings=[1200, 1220, 4000, 1210, 35])  # a wall echo and a near spike
    app, _ = rig.wake("boot")
    assert app.last[0] == 1210, app.last
    assert rig.messages()[-1][1]["distance_mm"] == 1220  # 20 mm wire steps: 1210 rounds half away


def test_no_echo_is_a_fault_flag_not_a_distance():
    rig = Rig(readings=[None])
    rig.wake("boot")
    status = rig.messages()[-1][1]
    assert status["no_echo"] and not status["blind_zone"] and status["distance_mm"] == 0
    assert rig.distance.reads == 5  # it tried all samples, and did not hang


def test_blind_zone_is_a_fault_flag():
    rig = Rig(readings=[12, 15, 10, 20, 14])
    rig.wake("boot")
    status = rig.messages()[-1][1]
    assert status["blind_zone"] and not status["no_echo"] and status["distance_mm"] == 0


def test_status_only_every_report_interval_and_state_survives_deep_sleep():
    rig = Rig(intervals={"measure_interval_s": 900, "report_interval_s": 3600})
    rig.wake("boot")
    count = len(rig.link.sent)
    for _ in range(3):
        rig.wake()
    assert len(rig.link.sent) == count, rig.messages(count)  # 3 x 15 min: no status yet
    rig.wake()  # the fourth 15-minute wake completes the hour
    assert [m[0] for m in rig.messages(count)] == ["status"]


def test_fire_temperature_alarm_at_once_and_only_once():
    rig = Rig()
    rig.wake("boot")
    start = len(rig.link.sent)
    rig.temperature.value = 75
    rig.wake()
    alarm = rig.messages(start)
    assert alarm[0][0] == "alarm" and alarm[0][2] is True, alarm  # confirmed
    assert alarm[0][1]["fire_temperature"] and not alarm[0][1]["tilt"] and alarm[0][1]["temperature_c"] == 75
    start = len(rig.link.sent)
    rig.temperature.value = 67  # still above threshold - margin: the alarm holds, nothing new
    rig.wake()
    assert [m for m in rig.messages(start) if m[0] == "alarm"] == []
    rig.temperature.value = 30
    rig.wake()
    rig.temperature.value = 72
    start = len(rig.link.sent)
    rig.wake()
    assert rig.messages(start)[0][1]["fire_temperature"]


def test_fire_rise_alarm():
    rig = Rig(temperature=20)
    rig.wake("boot")
    rig.temperature.value = 55  # +35 C in 15 min = 2.3 C/min > 2
    start = len(rig.link.sent)
    rig.wake()
    sent = rig.messages(start)
    assert sent[0][0] == "alarm" and sent[0][1]["fire_rise"] and not sent[0][1]["fire_temperature"], sent


def test_tilt_and_fill_threshold_alarms_with_hysteresis():
    rig = Rig(readings=[1500])
    rig.wake("boot")
    start = len(rig.link.sent)
    rig.tilt.value = True
    rig.distance.readings = [250]
    rig.wake()
    alarm = rig.messages(start)[0]
    assert alarm[0] == "alarm" and alarm[1]["tilt"] and alarm[1]["fill_threshold"], alarm
    rig.tilt.value = False
    rig.distance.readings = [350]  # above 300 but within the 100 mm hysteresis: still full
    start = len(rig.link.sent)
    rig.wake()
    assert not [m for m in rig.messages(start) if m[0] == "alarm"]
    rig.distance.readings = [600]  # emptied
    rig.wake()
    rig.distance.readings = [280]  # filling again
    start = len(rig.link.sent)
    rig.wake()
    alarm = rig.messages(start)[0]
    assert alarm[1]["fill_threshold"] and not alarm[1]["tilt"]


def test_unacknowledged_alarm_is_retried_on_next_wakes_until_acked():
    rig = Rig()
    rig.wake("boot")
    rig.temperature.value = 80
    rig.link.acks = [False, False, True]
    start = len(rig.link.sent)
    for _ in range(4):
        rig.wake()
    alarms = [m for m in rig.messages(start) if m[0] == "alarm"]
    assert len(alarms) == 3 and all(m[2] for m in alarms), alarms


def test_downlink_report_interval_applied_acked_and_persisted():
    rig = Rig()
    fport, payload = tingcodec.encode("fill_level", "set_report_interval", {"report_interval_s": 7200})
    rig.link.downlinks = [[(fport, payload)]]
    app, _ = rig.wake("boot")
    ack = [m for m in rig.messages() if m[0] == "config_ack"]
    assert ack == [("config_ack", {"command_fport": fport, "result": "applied",
                                   "applied_crc16": tingcodec.crc16(payload)}, False)], ack
    assert app.settings["report_interval_s"] == 7200
    # A new wake (RAM lost) still has it, and the file config object was never mutated.
    again, _ = rig.wake()
    assert again.settings["report_interval_s"] == 7200
    assert rig.settings["report_interval_s"] == 3600


def test_downlink_thresholds_applied_as_a_whole():
    rig = Rig()
    fields = {"fire_temperature_c": 60, "fire_rise_c_per_min": 1.5, "fill_distance_mm": 400, "tilt_deg": 30}
    rig.link.downlinks = [[tingcodec.encode("fill_level", "set_alarm_thresholds", fields)]]
    app, _ = rig.wake("boot")
    for name in fields:
        assert app.settings[name] == fields[name], name


def test_malformed_and_unknown_downlinks_are_nacked_and_change_nothing():
    rig = Rig()
    rig.link.downlinks = [[(20, b"\xff\x00"), (99, b"\x80"), (1, b"\x80")]]
    app, _ = rig.wake("boot")
    acks = [m[1] for m in rig.messages() if m[0] == "config_ack"]
    assert [(a["command_fport"], a["result"]) for a in acks] == [
        (20, "malformed"), (99, "unknown_command"), (1, "unknown_command")], acks
    assert app.settings == rig.settings
    assert rig.store.read("settings") is None


def test_join_failure_keeps_measuring_and_retries_next_wake():
    rig = Rig()
    rig.link.joined = False
    rig.link.join_ok = False
    _app, sleep_ms = rig.wake("boot")
    assert rig.link.sent == [] and rig.link.joins >= 1 and sleep_ms == 900 * 1000
    rig.link.join_ok = True
    rig.wake()
    names = [m[0] for m in rig.messages()]
    assert names == ["device_info", "status"], names  # the boot message and the first status still go out


def test_corrupt_state_record_starts_fresh():
    rig = Rig()
    rig.store.write("app_state", b"{not json")
    _app, sleep_ms = rig.wake()
    assert sleep_ms == 900 * 1000
    assert "status" in [m[0] for m in rig.messages()]


mpytest.main(globals())
