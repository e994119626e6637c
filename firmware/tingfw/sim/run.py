"""One simulated device: the real app + lorawan.Device + tingcodec over the virtual radio.

    micropython -m tingfw.sim.run --server 127.0.0.1:1700 --device dev.json --state-dir DIR \\
        [--time-scale 10] [--duration 86400]

dev.json holds one line of the `tingbro simulate` device file: dev_eui, join_eui, app_key, device,
config (the device's config file without the keys; board defaults to heltec_wifi_lora32_v3) and
optionally scenario (keyword arguments for the device's scenario in tingfw.sim.scenario).

Time: awake time runs at --time-scale (receive windows too, so the network server must keep up);
deep sleep jumps the clock forward, as a sleeping device does not care how long a night is. A
streetlight never sleeps (Class C), so its simulated time is wall time x time scale. One line per
event on stdout, prefixed with the simulated time in seconds.
"""

import json
import sys

DEFAULT_BOARD = "heltec_wifi_lora32_v3"
SLEEP_STEP_MS = 5000  # how finely a sleeping lifebuoy notices its pin (the wake-on-change)


class JumpClock:
    """SystemClock plus jumps: ticks_ms never wraps and never goes back (the MAC's clock contract)."""

    def __init__(self, inner):
        self.inner = inner
        self.jumped_ms = 0

    def ticks_ms(self):
        return self.inner.ticks_ms() + self.jumped_ms

    def sleep_ms(self, ms):
        self.inner.sleep_ms(ms)

    def jump(self, ms):
        self.jumped_ms += ms


class LoggingLink:
    """The app-facing link, printing each uplink decoded by the catalogue and what came back."""

    def __init__(self, device, clock, codec, device_type, out):
        self._device = device
        self._clock = clock
        self._codec = codec
        self._type = device_type
        self._out = out

    @property
    def joined(self):
        return self._device.joined

    def join(self):
        joined = self._device.join(attempts=3)
        self._out(self._clock, "joined" if joined else "join failed")
        return joined

    def send(self, fport, payload, confirmed=False):
        decoded = self._codec.decode(fport, payload, self._type, direction="up")
        result = self._device.send(fport, payload, confirmed)
        self._out(self._clock, "up %s %s%s acked=%s downlinks=%d" % (
            decoded["message"], json.dumps(decoded["fields"]), " confirmed" if confirmed else "", result.acked,
            len(result.downlinks)))
        return result

    def poll(self, timeout_ms):
        downlinks = self._device.poll(timeout_ms)
        for fport, data in downlinks:
            self._out(self._clock, "class C downlink fport %d (%d B)" % (fport, len(data)))
        return downlinks

    def network_time(self):
        return self._device.network_time()

    def request_device_time(self):
        self._device.request_device_time()

    def time_until_send_ms(self):
        return self._device.time_until_send_ms()


def emit(clock, text):
    print("%9.1fs %s" % (clock.ticks_ms() / 1000, text))


def build(line, server, state_dir, time_scale):
    import tingcodec
    from lorawan import Device
    from lorawan.aes import aes_factory
    from lorawan.stores import FileStore

    from tingfw import boards, config
    from tingfw.radio.clock import SystemClock
    from tingfw.radio.virtual import UdpTransport, VirtualGateway, VirtualRadio

    raw = dict(line.get("config") or {})
    raw.setdefault("board", DEFAULT_BOARD)
    for key in ("device", "dev_eui", "join_eui", "app_key"):
        raw[key] = line.get(key)
    cfg = config.validate(raw, boards.board_names())
    clock = JumpClock(SystemClock(time_scale=time_scale))
    host, _, port = server.rpartition(":")
    # One virtual gateway per device process, its EUI derived from the DevEUI so gateways never collide.
    gateway_eui = bytes.fromhex("00800000" + cfg["dev_eui"][8:])
    gateway = VirtualGateway(UdpTransport(host, int(port)), gateway_eui, clock)
    store = FileStore(state_dir)
    device = Device(VirtualRadio(gateway, clock), clock, store, aes_factory(), bytes.fromhex(cfg["dev_eui"]),
                    bytes.fromhex(cfg["join_eui"]), bytes.fromhex(cfg["app_key"]),
                    device_class="C" if cfg["device"] == "streetlight" else "A")
    link = LoggingLink(device, clock, tingcodec, cfg["device"], emit)
    return cfg, clock, store, link, gateway


def run(line, server, state_dir, time_scale, duration_s):
    import tingcodec

    from tingfw.sim import scenario as worlds
    from tingfw.sim import sensors

    cfg, clock, store, link, gateway = build(line, server, state_dir, time_scale)
    seed = int(cfg["dev_eui"][-8:], 16)
    options = line.get("scenario") or {}
    end_ms = int(duration_s * 1000)
    settings = cfg["settings"]
    emit(clock, "start %s %s" % (cfg["device"], line.get("name") or cfg["dev_eui"]))
    if cfg["device"] == "streetlight":
        from tingfw.apps.streetlight import StreetlightApp
        from tingfw.drivers.bl0937 import EnergyMeter
        from tingfw.drivers.dimmer import Dimmer
        from tingfw.fakes import FakePin, FakePwm

        world = worlds.StreetWithLamp(seed, **options)
        dimmer = Dimmer(FakePwm(), FakePin(), settings["min_on_level_pct"])
        counter = sensors.LampCounter(world, clock, dimmer, settings["joules_per_pulse"])
        app = StreetlightApp(settings, link, tingcodec, clock, store, dimmer,
                             EnergyMeter(counter, clock, settings["joules_per_pulse"]), sensors.Motion(world, clock),
                             log=lambda text: emit(clock, text))
        app.start("power_on")
        level = None
        while clock.ticks_ms() < end_ms:
            app.step()
            if dimmer.level != level:
                level = dimmer.level
                emit(clock, "light level %d %%" % level)
        gateway.wait_ms(200)
        return 0

    if cfg["device"] == "fill_level":
        from tingfw.apps.fill_level import FillLevelApp

        world = worlds.BinFilling(seed, **options)

        def make_app():
            return FillLevelApp(settings, link, tingcodec, clock, store, sensors.Distance(world, clock),
                                sensors.Temperature(world, clock), sensors.Tilt(world, clock), sensors.Battery(),
                                log=lambda text: emit(clock, text))
    else:
        from tingfw.apps.lifebuoy import LifebuoyApp

        world = worlds.BuoyPost(seed, **options)

        def make_app():
            return LifebuoyApp(settings, link, tingcodec, clock, store, sensors.Presence(world, clock),
                               None, sensors.Battery(3550), log=lambda text: emit(clock, text))

    wake = "boot"
    slept_s = None
    while clock.ticks_ms() < end_ms:
        app = make_app()  # a new app per wake: deep sleep loses RAM, state comes from the store
        if slept_s is not None:
            app.woke_early(slept_s)
        sleep_ms = max(app.cycle(wake, "power_on"), link.time_until_send_ms() if link.joined else 0)
        wake, slept_s = deep_sleep(clock, sleep_ms, end_ms, app if cfg["device"] == "lifebuoy" else None)
    gateway.wait_ms(200)
    return 0


def deep_sleep(clock, sleep_ms, end_ms, buoy_app):
    """Jump the clock; a lifebuoy wakes early when its presence input changes. -> (wake, slept s or None)."""
    start_ms = clock.ticks_ms()
    wake_ms = min(start_ms + sleep_ms, end_ms)
    while clock.ticks_ms() < wake_ms:
        clock.jump(min(SLEEP_STEP_MS, wake_ms - clock.ticks_ms()))
        if buoy_app is not None and buoy_app.presence.active() != bool(buoy_app.state.get("present")):
            return "pin", (clock.ticks_ms() - start_ms) // 1000
    return "timer", None


def main(argv):
    options = {"--time-scale": "10", "--duration": "86400"}
    index = 0
    while index + 1 < len(argv) and argv[index] in ("--server", "--device", "--state-dir", "--time-scale",
                                                    "--duration"):
        options[argv[index]] = argv[index + 1]
        index += 2
    if index != len(argv) or not all(name in options for name in ("--server", "--device", "--state-dir")):
        sys.stderr.write("usage: tingfw.sim.run --server HOST:PORT --device FILE --state-dir DIR "
                         "[--time-scale X] [--duration S]\n")
        return 2
    with open(options["--device"]) as handle:
        line = json.loads(handle.read())
    try:
        return run(line, options["--server"], options["--state-dir"], float(options["--time-scale"]),
                   float(options["--duration"]))
    except ValueError as exc:  # config errors name the field, never a key's value
        sys.stderr.write("simulate: %s\n" % exc)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
