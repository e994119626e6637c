# Runs under MicroPython (bench/bench_firmware.py starts it): one steady-state wake of each battery
# app with the real codec, the real MAC (lorawan.Device) and the real radio adapter (Sx12xxRadio)
# over tingfw.radio.fake_modem (SX126x timing; the join is answered via lorawan.network), wired as
# tingfw.main wires an ESP32 battery board: a WatchdogClock whose idle waits and radio waits go to a
# recording light sleep. Prints one JSON line per app: CPU time of the cycle (host); every wait,
# by phase (app, rx delay, tx, rx window) and by how the MCU spent it (light sleep or awake); how
# long the radio transmitted and listened; the uplinks; heap allocated with the GC off (an upper
# bound of the cycle's peak heap); and the import time of the bundle.
import gc
import json
import sys
import time

# What a fill-level device imports after a deep-sleep wake (from .mpy when run on the bundle).
WAKE_IMPORTS = ("lorawan", "tingcodec", "tingfw.main", "lorawan.aes", "lorawan.stores", "tingfw.boards",
                "tingfw.config", "tingfw.apps.fill_level", "tingfw.drivers.a02yyuw", "tingfw.drivers.battery",
                "tingfw.drivers.switch", "tingfw.drivers.thermistor", "tingfw.drivers.tilt",
                "tingfw.radio.sx12xx")
BUNDLE_PACKAGES = ("lorawan", "tingcodec", "tingfw")


def time_wake_imports(attempts=5):
    """The least of a few fresh imports of the wake's modules (a shared host's load only adds time)."""
    best_us = None
    for _ in range(attempts):
        for name in list(sys.modules):
            if name.split(".")[0] in BUNDLE_PACKAGES:
                del sys.modules[name]
        gc.collect()
        t0 = time.ticks_us()
        for name in WAKE_IMPORTS:
            __import__(name)
        took_us = time.ticks_diff(time.ticks_us(), t0)
        best_us = took_us if best_us is None or took_us < best_us else best_us
    return best_us


IMPORT_US = time_wake_imports()
import lorawan  # noqa: E402
import tingcodec  # noqa: E402
from lorawan.aes import aes_factory  # noqa: E402
from tingfw import boards, config  # noqa: E402
from tingfw.apps.fill_level import FillLevelApp  # noqa: E402
from tingfw.drivers.switch import Switch  # noqa: E402
from tingfw.radio.sx12xx import Sx12xxRadio  # noqa: E402

FROM_MPY = lorawan.__file__.endswith(".mpy") if hasattr(lorawan, "__file__") else False

from lorawan import network  # noqa: E402  (host only: the loopback network side)
from tingfw.apps.lifebuoy import LifebuoyApp  # noqa: E402
from tingfw.clock import WatchdogClock  # noqa: E402
from tingfw.fakes import FakeClock, FakeDistanceSensor, FakePin, FakeStore, FakeValue  # noqa: E402
from tingfw.radio.fake_modem import FakeLoraModem, FakeRxPacket  # noqa: E402

APP_KEY = bytes(range(16))


PHASES = ("app", "rx delay", "tx", "rx window")


class Waits:
    """Every wait of the cycle as {phase: [light-slept ms, awake ms]}; the phase comes from the radio's state."""

    def __init__(self, clock):
        self.clock = clock
        self.modem = None
        self.in_radio = False
        self.by_phase = {}
        self.reset()

    def reset(self):
        for phase in PHASES:
            self.by_phase[phase] = [0, 0]

    def _phase(self):
        state = self.modem.state() if self.modem is not None else None
        if state == "tx":
            return "tx"
        if state == "rx":
            return "rx window"
        return "rx delay" if self.in_radio else "app"

    def light(self, ms):  # machine.lightsleep on the board
        self.by_phase[self._phase()][0] += ms
        self.clock.sleep_ms(ms)

    def awake(self, ms):  # time.sleep_ms on the board
        if ms > 0:
            self.by_phase[self._phase()][1] += ms
        self.clock.sleep_ms(ms)


class AwakeClock:
    """The board's clock as WatchdogClock sees it: its sleep_ms keeps the MCU awake."""

    def __init__(self, clock, waits):
        self._clock = clock
        self.sleep_ms = waits.awake

    def ticks_ms(self):
        return self._clock.ticks_ms()


class NoWatchdog:
    def feed(self):
        pass


class PhasedRadio:
    """Marks the waits inside the adapter's calls as radio waits (delays before a window)."""

    def __init__(self, radio, waits):
        self.radio = radio
        self.waits = waits
        self.sent = []

    def transmit(self, payload, freq_hz, sf, bw_khz, power_dbm):
        self.sent.append((len(payload), sf))
        self.waits.in_radio = True
        try:
            return self.radio.transmit(payload, freq_hz, sf, bw_khz, power_dbm)
        finally:
            self.waits.in_radio = False

    def receive(self, freq_hz, sf, bw_khz, open_at_ms, window_ms):
        self.waits.in_radio = True
        try:
            return self.radio.receive(freq_hz, sf, bw_khz, open_at_ms, window_ms)
        finally:
            self.waits.in_radio = False

    def listen(self, freq_hz, sf, bw_khz):
        self.radio.listen(freq_hz, sf, bw_khz)

    def poll(self):
        return self.radio.poll()

    def sleep(self):
        self.radio.sleep()


def make_board(base_clock):
    """(the watchdog clock the app and MAC get, the radio, the wait recorder), as tingfw.main builds them."""
    waits = Waits(base_clock)
    fed = WatchdogClock(AwakeClock(base_clock, waits), NoWatchdog(), 1000, idle=waits.light, light_sleep=waits.light)
    modem = FakeLoraModem(base_clock)
    modem.record_calls = False
    aes = aes_factory()

    def answer_join(payload):  # the network side: a join-request gets a join-accept in RX1
        if payload[0] == 0x00:
            network.accept_join_request(network.cmac_key(aes, APP_KEY), payload)
            modem.rx_script.append(FakeRxPacket(network.build_join_accept(aes, APP_KEY, 1, 0x13, 0x26011234)))

    modem.on_send = answer_join
    waits.modem = modem
    radio = Sx12xxRadio(modem, fed, hw_ticks_ms=modem.hw_ticks_ms, ticks_diff=lambda a, b: a - b,
                        light_sleep=fed.light_sleep_ms)
    return fed, PhasedRadio(radio, waits), waits


def settings(device, **groups):
    raw = {"device": device, "board": "heltec_wifi_lora32_v3", "dev_eui": "0011223344556677",
           "join_eui": "0000000000000000", "app_key": "000102030405060708090a0b0c0d0e0f"}
    raw.update(groups)
    return config.validate(raw, boards.board_names())["settings"]


def make_link(clock, radio, dr):
    link = lorawan.Device(radio, clock, FakeStore(), aes_factory(), bytes(8), bytes(8), APP_KEY, adr=False)
    assert link.join()
    link.session.dr = dr  # the data rate the energy figure is for (ADR off: it stays)
    return link


def measure(name, make_app, wake, dr):
    base = FakeClock()
    clock, radio, waits = make_board(base)
    link = make_link(clock, radio, dr)
    store = FakeStore()
    make_app(link, clock, store).cycle("boot", "power_on")  # boot: device_info, first report
    base.advance(3600 * 1000 * 24)  # far past any duty-cycle wait: the next wake is a plain one
    app = make_app(link, clock, store)
    sent_before = len(radio.sent)
    modem = waits.modem
    air_before = len(modem.air)
    waits.reset()
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    start_us = time.ticks_us()
    app.cycle(wake, "deep_sleep_wake")
    cpu_us = time.ticks_diff(time.ticks_us(), start_us)
    heap = gc.mem_alloc() - before
    gc.enable()
    radio_on_ms = {"tx": 0, "rx": 0}
    for kind, start_ms, end_ms in modem.air[air_before:]:
        radio_on_ms[kind] += end_ms - start_ms
    print(json.dumps({"app": name, "cpu_us": cpu_us, "waits": waits.by_phase, "radio_on_ms": radio_on_ms,
                      "heap_bytes": heap, "uplinks": radio.sent[sent_before:], "import_us": IMPORT_US,
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


measure("fill_level", fill_level, "timer", 2)  # hourly status at DR2 (SF10)
measure("lifebuoy", lifebuoy, "timer", 0)  # daily heartbeat at DR0 (SF12)
sys.exit(0)
