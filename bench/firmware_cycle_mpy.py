# Runs under MicroPython (bench/bench_firmware.py starts it): one steady-state wake of each battery
# app with the real codec and the real MAC (lorawan.Device) over a loopback radio that answers the
# join via lorawan.network; fake sensors and a recording fake clock. Prints one JSON line per app:
# CPU time of the cycle (host), every wait the cycle asked for, the uplinks, heap allocated with the
# GC off (an upper bound of the cycle's peak heap), and the import time of the bundle.
import gc
import json
import sys
import time

# What a fill-level device imports after a deep-sleep wake (from .mpy when run on the bundle).
t0 = time.ticks_us()
import lorawan  # noqa: E402
import tingcodec  # noqa: E402
import tingfw.main  # noqa: E402, F401
from lorawan.aes import aes_factory  # noqa: E402
from lorawan.stores import FileStore  # noqa: E402, F401
from tingfw import boards, config  # noqa: E402
from tingfw.apps.fill_level import FillLevelApp  # noqa: E402
from tingfw.drivers.a02yyuw import A02YYUW  # noqa: E402, F401
from tingfw.drivers.battery import BatteryDivider  # noqa: E402, F401
from tingfw.drivers.switch import Switch  # noqa: E402
from tingfw.drivers.thermistor import NtcThermistor  # noqa: E402, F401
from tingfw.drivers.tilt import SwitchTilt  # noqa: E402, F401
from tingfw.radio.sx12xx import Sx12xxRadio  # noqa: E402, F401

IMPORT_US = time.ticks_diff(time.ticks_us(), t0)
FROM_MPY = lorawan.__file__.endswith(".mpy") if hasattr(lorawan, "__file__") else False

from lorawan import network  # noqa: E402  (host only: the loopback network side)
from tingfw.apps.lifebuoy import LifebuoyApp  # noqa: E402
from tingfw.fakes import FakeClock, FakeDistanceSensor, FakePin, FakeStore, FakeValue  # noqa: E402

APP_KEY = bytes(range(16))


class RecordingClock(FakeClock):
    def __init__(self):
        FakeClock.__init__(self)
        self.waits = []

    def sleep_ms(self, ms):
        if ms > 0:
            self.waits.append(ms)
        FakeClock.sleep_ms(self, ms)


class LoopbackRadio:
    """Answers a join-request with a join-accept in RX1; otherwise nothing is received."""

    def __init__(self, clock):
        self.clock = clock
        self.aes = aes_factory()
        self.pending = None
        self.sent = []

    def transmit(self, payload, freq_hz, sf, bw_khz, power_dbm):
        self.sent.append((len(payload), sf))
        if payload[0] == 0x00:  # join-request
            network.accept_join_request(network.cmac_key(self.aes, APP_KEY), payload)
            self.pending = network.build_join_accept(self.aes, APP_KEY, 1, 0x13, 0x26011234)
        return self.clock.ticks_ms()

    def receive(self, freq_hz, sf, bw_khz, open_at_ms, window_ms):
        wait = open_at_ms - self.clock.ticks_ms()
        if wait > 0:
            self.clock.sleep_ms(wait)
        data, self.pending = self.pending, None
        if data is None:
            self.clock.advance(window_ms)  # the receiver stays on for the window (not a sleep)
        return data

    def listen(self, freq_hz, sf, bw_khz):
        pass

    def poll(self):
        return None

    def sleep(self):
        pass


def settings(device, **groups):
    raw = {"device": device, "board": "heltec_wifi_lora32_v3", "dev_eui": "0011223344556677",
           "join_eui": "0000000000000000", "app_key": "000102030405060708090a0b0c0d0e0f"}
    raw.update(groups)
    return config.validate(raw, boards.board_names())["settings"]


def make_link(clock):
    link = lorawan.Device(LoopbackRadio(clock), clock, FakeStore(), aes_factory(), bytes(8), bytes(8), APP_KEY,
                          adr=False)
    assert link.join()
    return link


def measure(name, make_app, wake):
    clock = RecordingClock()
    link = make_link(clock)
    store = FakeStore()
    make_app(link, clock, store).cycle("boot", "power_on")  # boot: device_info, first report
    clock.advance(3600 * 1000 * 24)  # far past any duty-cycle wait: the next wake is a plain one
    app = make_app(link, clock, store)
    sent_before = len(link.radio.sent)
    clock.waits = []
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    start_us = time.ticks_us()
    app.cycle(wake, "deep_sleep_wake")
    cpu_us = time.ticks_diff(time.ticks_us(), start_us)
    heap = gc.mem_alloc() - before
    gc.enable()
    print(json.dumps({"app": name, "cpu_us": cpu_us, "waits_ms": clock.waits, "heap_bytes": heap,
                      "uplinks": link.radio.sent[sent_before:], "import_us": IMPORT_US,
                      "imports_from_mpy": FROM_MPY}))


def fill_level(link, clock, store):
    cfg = settings("fill_level", intervals={"measure_interval_s": 3600, "report_interval_s": 3600},
                   sensors={"samples": 5})
    distance = FakeDistanceSensor([1200, 1210, 1190, 1205, 1195])
    distance.sample_gap_ms = 0  # A02YYUW streams: the real driver waits for frames, timed below
    return FillLevelApp(cfg, link, tingcodec, clock, store, distance, FakeValue(18.5), FakeValue(False),
                        FakeValue(3600), FakePin(0))


def lifebuoy(link, clock, store):
    cfg = settings("lifebuoy", intervals={"heartbeat_interval_s": 86400})
    return LifebuoyApp(cfg, link, tingcodec, clock, store, Switch(FakePin(0, clock), 0), None, FakeValue(3550))


measure("fill_level", fill_level, "timer")
measure("lifebuoy", lifebuoy, "timer")
sys.exit(0)
