"""One simulated device: `micropython -m tingsim.run SPEC.json` (MICROPYPATH=codecs:firmware).

SPEC (written by tingbro.simulate.fleet): {"config": <the firmware config, keys included>,
"scenario": {...}, "gateway": ["127.0.0.1", 1700], "gateway_eui": "...", "sleep_scale": 600,
"state_dir": "...", "index": 0, "duration_s": null}. The firmware's own boot (`tingfw.main.start` /
`run_once`) runs unchanged; only the hardware, the radio (virtual, over GWMP) and the clock are
simulated. Battery devices "reboot" at every deep-sleep wake, as they do on the board: RAM is rebuilt
from RTC memory and flash. With duration_s the device stops once its simulated clock passes it
(in a sleep, never inside a receive window); the clock is kept, so a next run continues from there.
One line per event on stdout: `<name> t=<simulated s>s <what>`.
"""

import json
import os
import sys

import tingcodec
from lorawan import Device
from lorawan.aes import aes_factory
from lorawan.stores import FileStore, RtcStore
from tingfw import boards, main
from tingfw.radio.virtual import UdpTransport, VirtualGateway, VirtualRadio

from tingsim import scenarios
from tingsim.clock import SimClock, SimulationEnd
from tingsim.hardware import SimHardware
from tingsim.wrappers import HeldRadio, LoggingLink


def _mkdir(path):
    try:
        os.mkdir(path)
    except OSError:
        pass


def _read_int(path, default):
    try:
        with open(path) as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return default


def _write_int(path, value):
    with open(path + ".tmp", "w") as handle:
        handle.write(str(value))
    os.rename(path + ".tmp", path)


def dev_status_battery(device, scenario):
    """DevStatusAns battery: 0 on mains (a streetlight), else 1..254 from the scenario's cell voltage
    (3.0 V empty .. 3.6 V full: a lithium primary cell's usable range)."""
    if device == "streetlight":
        return 0
    level = 1 + (scenario.get("battery_mv", 3600) - 3000) * 253 // 600
    return max(1, min(254, level))


def run(spec):
    cfg = spec["config"]
    state_dir = spec["state_dir"]
    _mkdir(state_dir)
    clock_path = state_dir + "/sim_clock_ms"
    start_ms = _read_int(clock_path, None)
    duration_s = spec.get("duration_s")
    end_ms = None if duration_s is None else (start_ms or 0) + int(duration_s * 1000)
    clock = SimClock(spec.get("sleep_scale", 1), start_ms or 0, end_ms)
    name = cfg.get("name") or cfg["dev_eui"]

    def log(message):
        print("%s t=%ds %s" % (name, clock.ticks_ms() // 1000, message))

    text = json.dumps(cfg)
    board_name = cfg.get("board") or "heltec_wifi_lora32_v3"
    if board_name not in boards.board_names():
        log("unknown board %s" % board_name)
        return 1
    board = boards.get(board_name)
    pins = boards.pin_map(board_name, cfg.get("pins") or {})
    validated = main.load_config(text, SimHardware(clock, {"device": cfg["device"], "settings": {}}, pins, board,
                                                   {}, state_dir + "/rtc.bin"), clock, log)
    if validated is None:
        return 1
    try:
        scenario = scenarios.settings_for(cfg["device"], spec.get("scenario"), spec.get("index", 0))
    except ValueError as exc:
        log(str(exc))
        return 1
    seed = int(cfg["dev_eui"][-8:], 16)
    hardware = SimHardware(clock, validated, pins, board, scenario, state_dir + "/rtc.bin", seed, log)
    if start_ms is not None:
        hardware.cause = "software"  # a restarted process: the board was reset, RTC memory kept
    host, port = spec["gateway"]
    gateway = VirtualGateway(UdpTransport(host, port), spec["gateway_eui"], clock)
    device_class = "C" if cfg["device"] == "streetlight" else "A"
    battery_level = dev_status_battery(cfg["device"], scenario)

    def link_factory(cfg_, board_, hardware_, link_clock, rtc_store):
        radio = HeldRadio(VirtualRadio(gateway, link_clock), clock)
        device = Device(radio, link_clock, FileStore(state_dir + "/lorawan"), aes_factory(),
                        bytes.fromhex(cfg["dev_eui"]), bytes.fromhex(cfg["join_eui"]), bytes.fromhex(cfg["app_key"]),
                        device_class=device_class, rtc_store=rtc_store, battery=lambda: battery_level)
        return LoggingLink(device, tingcodec, cfg["device"], log)

    flash = FileStore(state_dir + "/state")
    stores = (RtcStore(hardware.rtc_memory()) if board.get("rtc_memory") else flash, flash)
    try:
        while True:
            started = main.start(text, hardware, clock, log, link_factory, stores)
            if started is None:
                return 1
            link = started[2]
            main.run_once(started, hardware)  # a streetlight never returns; a battery device after its deep sleep
            _write_int(clock_path, clock.ticks_ms())
            log("wake %s fcnt_up=%s" % ("pin" if hardware.pin_wake else "timer", getattr(link, "fcnt_up", "?")))
    except SimulationEnd:
        _write_int(clock_path, clock.ticks_ms())
        gateway.wait_ms(200)  # the last PUSH_ACKs
        log("end of simulation")
        return 0


if __name__ == "__main__":
    with open(sys.argv[1]) as spec_file:
        sys.exit(run(json.load(spec_file)))
