# Lifebuoy app behaviour under the real MicroPython interpreter: reed switch on a fake pin,
# fake link with scripted acks, a new app per wake (deep sleep loses RAM).
import mpytest
import tingcodec
from tingfw import boards, config
from tingfw.apps.lifebuoy import LifebuoyApp
from tingfw.drivers.switch import Switch
from tingfw.fakes import FakeClock, FakeLink, FakePin, FakeStore, FakeValue

KEYS = {"dev_eui": "0011223344556677", "join_eui": "0000000000000000", "app_key": "00112233445566778899aabbccddeeff"}
PRESENT = 0  # reed switch closes to ground when the buoy's magnet is there (active low)
REMOVED = 1


class Rig:
    def __init__(self, **groups):
        raw = {"device": "lifebuoy", "board": "pico_waveshare_sx1262"}
        raw.update(KEYS)
        raw.update(groups)
        self.settings = config.validate(raw, boards.board_names())["settings"]
        self.clock = FakeClock()
        self.link = FakeLink(clock=self.clock)
        self.store = FakeStore()
        self.pin = FakePin(PRESENT, clock=self.clock)
        self.tamper_pin = FakePin(0, clock=self.clock)
        self.battery = FakeValue(3550)

    def wake(self, wake="timer", woke_after_s=None):
        app = LifebuoyApp(self.settings, self.link, tingcodec, self.clock, self.store, Switch(self.pin, 0),
                          Switch(self.tamper_pin, 1), self.battery)
        if woke_after_s is not None:
            app.woke_early(woke_after_s)
        sleep_ms = app.cycle(wake, "power_on")
        self.clock.advance(sleep_ms)
        return app, sleep_ms

    def set_pin(self, level):
        self.pin.level = level
        self.pin.script = []

    def messages(self, start=0):
        out = []
        for fport, payload, confirmed in self.link.sent[start:]:
            decoded = tingcodec.decode(fport, payload, "lifebuoy", direction="up")
            out.append((decoded["message"], decoded["fields"], confirmed))
        return out


def test_boot_sends_info_and_heartbeat_then_sleeps_until_next_heartbeat():
    rig = Rig()
    app, sleep_ms = rig.wake("boot")
    sent = rig.messages()
    assert [m[0] for m in sent] == ["device_info", "heartbeat"], sent
    heartbeat = sent[1][1]
    assert heartbeat["present"] and not heartbeat["tamper"] and heartbeat["battery_mv"] == 3560  # 20 mV steps, half away from zero
    assert sleep_ms == 86400 * 1000
    assert app.wake_level() == REMOVED  # armed to wake when the magnet goes away


def test_removal_sends_confirmed_event_at_once():
    rig = Rig()
    rig.wake("boot")
    start = len(rig.link.sent)
    rig.set_pin(REMOVED)
    app, sleep_ms = rig.wake("pin", woke_after_s=3600)
    sent = rig.messages(start)
    assert sent == [("presence", {"present": False, "tamper": False, "event_seq": 1}, True)], sent
    assert sleep_ms == (86400 - 3600) * 1000  # acked: back to the heartbeat schedule
    assert app.wake_level() == PRESENT  # now wake when the buoy is put back


def test_wind_sway_is_debounced_away():
    rig = Rig()
    rig.wake("boot")
    start = len(rig.link.sent)
    now = rig.clock.now_ms
    rig.pin.level = REMOVED  # the pin woke us: the buoy swung off the magnet ...
    rig.pin.script = [(now + 400, PRESENT)]  # ... and was back 0.4 s later
    rig.wake("pin", woke_after_s=100)
    assert rig.messages(start) == []


def test_unacked_removal_retried_on_next_wakes_until_acked():
    rig = Rig(intervals={"retry_interval_s": 60})
    rig.wake("boot")
    rig.link.acks = [False, False, False, True]
    start = len(rig.link.sent)
    rig.set_pin(REMOVED)
    sleeps = []
    for index in range(5):
        _, sleep_ms = rig.wake("pin" if index == 0 else "timer", woke_after_s=10)
        sleeps.append(sleep_ms // 1000)
    events = [m for m in rig.messages(start) if m[0] == "presence"]
    assert len(events) == 4, events
    assert all(m[2] and m[1]["event_seq"] == 1 and not m[1]["present"] for m in events)  # same event each time
    assert sleeps[:3] == [60, 120, 240], sleeps  # back-off while unacknowledged
    assert sleeps[3] > 80000  # acknowledged: heartbeat schedule again


def test_heartbeat_counts_changes_and_return():
    rig = Rig()
    rig.wake("boot")
    rig.set_pin(REMOVED)
    rig.wake("pin", woke_after_s=100)
    rig.set_pin(PRESENT)
    rig.wake("pin", woke_after_s=100)
    start = len(rig.link.sent)
    rig.wake("timer")  # the heartbeat is due now
    sent = rig.messages(start)
    assert sent[0][0] == "heartbeat" and sent[0][1]["presence_changes"] == 2 and sent[0][1]["present"], sent
    rig.wake("timer")
    assert rig.messages()[-1][1]["presence_changes"] == 0


def test_tamper_is_reported():
    rig = Rig()
    rig.wake("boot")
    start = len(rig.link.sent)
    rig.tamper_pin.level = 1
    rig.wake("pin", woke_after_s=5)
    sent = rig.messages(start)
    assert sent[0][0] == "presence" and sent[0][1]["tamper"] and sent[0][1]["present"], sent


def test_set_debounce_and_heartbeat_interval_by_downlink():
    rig = Rig()
    rig.link.downlinks = [[tingcodec.encode("lifebuoy", "set_debounce", {"debounce_ms": 5000}),
                           tingcodec.encode("lifebuoy", "set_heartbeat_interval", {"heartbeat_interval_s": 43200})]]
    app, sleep_ms = rig.wake("boot")
    acks = [m[1]["result"] for m in rig.messages() if m[0] == "config_ack"]
    assert acks == ["applied", "applied"], acks
    assert app.settings["debounce_ms"] == 5000 and sleep_ms == 43200 * 1000


def test_heartbeat_retried_when_not_joined():
    rig = Rig(intervals={"retry_interval_s": 60})
    rig.link.joined = False
    rig.link.join_ok = False
    _, sleep_ms = rig.wake("boot")
    assert sleep_ms == 60 * 1000 and rig.link.sent == []
    rig.link.join_ok = True
    rig.wake("timer")
    assert [m[0] for m in rig.messages()] == ["device_info", "heartbeat"]


mpytest.main(globals())
