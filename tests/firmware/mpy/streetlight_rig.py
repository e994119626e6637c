# The streetlight test rig shared by the mpy_streetlight*.py scripts: the real app on a fake link (Class C
# polls), a fake PWM dimmer, a fake BL0937 pulse counter that follows the lamp's power, a fake clock.
import tingcodec
from lorawan.aes import aes_factory
from tingfw import boards, config, multicast
from tingfw.apps.streetlight import StreetlightApp
from tingfw.drivers.bl0937 import EnergyMeter
from tingfw.drivers.dimmer import Dimmer
from tingfw.drivers.switch import Switch
from tingfw.fakes import FakeClock, FakeCounter, FakeLink, FakePin, FakePwm, FakeStore
from tingfw.localtime import days_from_civil

KEYS = {"dev_eui": "0011223344556677", "join_eui": "0000000000000000", "app_key": "00112233445566778899aabbccddeeff"}
JOULES_PER_PULSE = 1.7
LAMP_W = 60  # at 100 %


def unix_at(year, month, day, hour, minute):
    return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60


def gps_at(year, month, day, hour, minute):
    """GPS seconds (what DeviceTimeAns carries) of a UTC date and time."""
    return unix_at(year, month, day, hour, minute) - 315964800 + 18


class Rig:
    def __init__(self, **groups):
        raw = {"device": "streetlight", "board": "heltec_wifi_lora32_v3"}
        raw.update(KEYS)
        raw.update(groups)
        cfg = config.validate(raw, boards.board_names())
        self.settings = cfg["settings"]
        self.clock = FakeClock()
        self.link = FakeLink(clock=self.clock)
        self.store = FakeStore()
        self.link.multicast = multicast.from_config(cfg["multicast"], aes_factory(), FakeStore())
        self.random_ms = 0  # what the app's random source returns (the config_ack delay of group commands)
        self.pwm = FakePwm()
        self.dimmer = Dimmer(self.pwm, FakePin(), min_on_level=0)
        self.counter = FakeCounter(self.clock, JOULES_PER_PULSE)
        self.lamp_ok = True
        self.pir_pin = FakePin(0, clock=self.clock)
        self.app = StreetlightApp(self.settings, self.link, tingcodec, self.clock, self.store, self.dimmer,
                                  EnergyMeter(self.counter, self.clock, JOULES_PER_PULSE), Switch(self.pir_pin, 1),
                                  random_bits=lambda bits: self.random_ms)

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
