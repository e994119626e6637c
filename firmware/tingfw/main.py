"""Boot: read the config -> board -> drivers -> link -> app, then run it (deep sleep or Class C loop).

The config is validated completely before any pin, radio or store is touched: an invalid
config is reported (one log line without secrets, then the LED blink code) and nothing else
happens. `start()` is separate from `run()` so the host tests can drive it with fakes.
"""

from tingfw import boards, config
from tingfw.clock import WatchdogClock

CONFIG_PATH = "/config.json"
STATE_DIR = "/state"
LORAWAN_DIR = "/lorawan"


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def load_config(text, hardware, clock, log):
    """-> the validated config, or None after reporting why (log line + blink code)."""
    try:
        return config.load(text, boards.board_names())
    except config.ConfigError as exc:
        log(exc.message)
        led_pin = _default_led(text)
        if led_pin is not None:
            config.blink_code(hardware.pin_out(led_pin), clock, exc.blink_code)
        return None


def _default_led(text):
    # Which LED to blink when the config is bad: the board's, if at least the board name is readable.
    try:
        import json

        return boards.pin_map(json.loads(text)["board"]).get("led")
    except Exception:
        return None


def build_sensors(cfg, board, pins, hardware, clock):
    """The drivers this device type needs, as a dict of keyword arguments for its app."""
    settings = cfg["settings"]
    device = cfg["device"]
    battery_cfg = board.get("battery", {})
    out = {}  # type: dict
    from tingfw.drivers.battery import BatteryDivider
    from tingfw.drivers.switch import Switch

    if device != "streetlight":
        if "enable" in battery_cfg:
            hardware.pin_out(battery_cfg["enable"], battery_cfg.get("enable_active", 1))
        out["battery"] = BatteryDivider(hardware.adc(pins["battery_adc"]), 3300, battery_cfg.get("r_top_kohm", 100),
                                        battery_cfg.get("r_bottom_kohm", 100))
        if settings["temperature_sensor"] == "ntc":
            from tingfw.drivers.thermistor import NtcThermistor

            out["temperature"] = NtcThermistor(hardware.adc(pins["ntc_adc"]))
    if device == "fill_level":
        if settings["sensor"] == "a02yyuw":
            from tingfw.drivers.a02yyuw import A02YYUW

            out["distance"] = A02YYUW(hardware.uart(1, 9600, pins["sensor_uart_tx"], pins["sensor_uart_rx"]), clock)
        else:
            from tingfw.drivers.jsnsr04t import JSNSR04T

            out["distance"] = JSNSR04T(hardware.pin_out(pins["sensor_trigger"]), hardware.pin_in(pins["sensor_echo"]),
                                       hardware.pulse_in(), hardware.sleep_us(), settings["max_range_mm"])
        if settings["tilt_sensor"] == "switch":
            from tingfw.drivers.tilt import SwitchTilt

            out["tilt"] = SwitchTilt(Switch(hardware.pin_in(pins["tilt_switch"]), 1))
        elif settings["tilt_sensor"] == "lis3dh":
            from tingfw.drivers.tilt import LIS3DH, AccelTilt

            out["tilt"] = AccelTilt(LIS3DH(hardware.i2c(pins["accel_sda"], pins["accel_scl"])).read_xyz_mg)
        if pins.get("sensor_power") is not None:
            from tingfw.drivers.switch import Output

            out["sensor_power"] = Output(hardware.pin_out(pins["sensor_power"], 1 - board.get("sensor_power_active", 1)),
                                         board.get("sensor_power_active", 1))
    elif device == "lifebuoy":
        out["presence"] = Switch(hardware.pin_in(pins["presence"]), settings["presence_active_level"])
        if settings["tamper_sensor"] == "switch":
            out["tamper"] = Switch(hardware.pin_in(pins["tamper"]), settings["tamper_active_level"])
    else:
        from tingfw.drivers.bl0937 import EnergyMeter
        from tingfw.drivers.dimmer import Dimmer

        relay = hardware.pin_out(pins["relay"]) if pins.get("relay") is not None else None
        out["dimmer"] = Dimmer(hardware.pwm(pins["dim_pwm"]), relay, settings["min_on_level_pct"])
        out["meter"] = EnergyMeter(hardware.counter(pins["cf_pulse"]), clock, settings["joules_per_pulse"])
        if pins.get("pir") is not None:
            out["pir"] = Switch(hardware.pin_in(pins["pir"]), settings["pir_active_level"])
    return out


def build_link(cfg, board, hardware, clock, rtc_store):
    """The app-facing LoRaWAN link: the own MAC over an SX126x/SX127x, or an AT modem running its own."""
    radio_cfg = board["radio"]
    device_class = "C" if cfg["device"] == "streetlight" else "A"
    if radio_cfg["chip"] == "at_wio_e5":
        from tingfw.radio.at_modem import WioE5

        link = WioE5(hardware.uart(radio_cfg["uart"], radio_cfg["baud"], radio_cfg["tx"], radio_cfg["rx"]), clock)
        link.configure(cfg["dev_eui"], cfg["join_eui"], cfg["app_key"], cfg["region"], device_class)
        return link
    import lorawan
    from lorawan.aes import aes_factory
    from lorawan.stores import FileStore

    from tingfw.radio.sx12xx import Sx12xxRadio

    light_sleep = getattr(clock, "light_sleep_ms", None)  # the MCU sleeps while the radio works
    spi = hardware.spi(radio_cfg["spi"], radio_cfg["sck"], radio_cfg["mosi"], radio_cfg["miso"])
    cs = hardware.pin_out(radio_cfg["cs"], 1)
    reset = hardware.pin_out(radio_cfg["reset"], 1)
    if radio_cfg["chip"] == "sx1262":
        from lora import SX1262  # micropython-lib lora-sx126x + lora-sync (installed by package.json)

        sx1262 = SX1262(spi, cs, hardware.pin_in(radio_cfg["busy"]), hardware.pin_in(radio_cfg["dio1"]),
                        dio3_tcxo_millivolts=radio_cfg.get("tcxo_mv"), reset=reset)
        radio = Sx12xxRadio(sx1262, clock, light_sleep=light_sleep)
    else:
        from lora import SX1276  # micropython-lib lora-sx127x + lora-sync

        sx1276 = SX1276(spi, cs, dio0=hardware.pin_in(radio_cfg["dio0"]), dio1=hardware.pin_in(radio_cfg["dio1"]),
                        reset=reset)
        radio = Sx12xxRadio(sx1276, clock, tx_ant="PA_BOOST", light_sleep=light_sleep)
    return lorawan.Device(radio, clock, FileStore(LORAWAN_DIR), aes_factory(), bytes.fromhex(cfg["dev_eui"]),
                          bytes.fromhex(cfg["join_eui"]), bytes.fromhex(cfg["app_key"]),
                          device_class=device_class, rtc_store=rtc_store)


def build_app(cfg, link, clock, store, sensors, log, settings_store=None):
    import tingcodec

    device = cfg["device"]
    if device == "fill_level":
        from tingfw.apps.fill_level import FillLevelApp

        app_class = FillLevelApp  # type: type
    elif device == "lifebuoy":
        from tingfw.apps.lifebuoy import LifebuoyApp

        app_class = LifebuoyApp
    else:
        from tingfw.apps.streetlight import StreetlightApp

        app_class = StreetlightApp
    return app_class(cfg["settings"], link, tingcodec, clock, store, log=log, settings_store=settings_store, **sensors)


def start(config_text, hardware, clock, log, link_factory=None, stores=None):
    """Validate, then build everything. -> (cfg, app, link, clock) or None when the config is invalid."""
    cfg = load_config(config_text, hardware, clock, log)
    if cfg is None:
        return None
    board = boards.get(cfg["board"])
    pins = boards.pin_map(cfg["board"], cfg["pins"])
    wdt = hardware.watchdog(board["wdt_max_ms"])
    # Light sleep through long waits and radio operations on battery devices with the own MAC (an AT
    # modem's UART must stay awake). Never one sleep longer than a quarter of the watchdog.
    battery_spi = cfg["device"] != "streetlight" and board["radio"]["chip"] != "at_wio_e5"
    clock = WatchdogClock(clock, wdt, min(1000, board["wdt_max_ms"] // 4),
                          hardware.idle_sleep() if battery_spi else None,
                          light_sleep=hardware.radio_light_sleep() if battery_spi else None)
    if stores is None:
        from lorawan.stores import FileStore, RtcStore

        flash = FileStore(STATE_DIR)
        # Battery apps keep their per-wake state in RTC memory (no flash wear every wake); the
        # streetlight's energy and hour counters must survive a power cut, so they go to flash.
        in_rtc = board.get("rtc_memory") and cfg["device"] != "streetlight"
        stores = (RtcStore(hardware.rtc_memory()) if in_rtc else flash, flash)
    state_store, settings_store = stores
    rtc_store = None
    if board.get("rtc_memory"):
        from lorawan.stores import RtcStore

        rtc_store = state_store if cfg["device"] != "streetlight" else RtcStore(hardware.rtc_memory())
    link = (link_factory or build_link)(cfg, board, hardware, clock, rtc_store)
    if cfg["multicast"] is not None:
        attach_multicast(cfg["multicast"], link, settings_store, log)
    sensors = build_sensors(cfg, board, pins, hardware, clock)
    app = build_app(cfg, link, clock, state_store, sensors, log, settings_store)
    log("tingbro %s on %s (%s)" % (cfg["device"], cfg["board"], cfg.get("name") or cfg["dev_eui"]))
    return cfg, app, link, clock


def attach_multicast(section, link, flash, log):
    """Give the own MAC (lorawan.Device) the config's multicast session; its counter lives in flash."""
    if not hasattr(link, "multicast"):
        log("multicast: this link (an AT modem with its own MAC) has no group session; group commands "
            "will not reach this device")
        return
    from lorawan.aes import aes_factory

    from tingfw import multicast

    link.multicast = multicast.from_config(section, aes_factory(), flash)
    log("multicast: group %s" % (section["group"] or "(unnamed)"))


def run_once(started, hardware):
    """One wake of a battery device (then deep sleep), or the Class C loop of a streetlight.

    On ESP32 the deep sleep never returns (the next wake is a reset); on the RP2040 it is a light sleep
    in place that returns (tingfw.hardware), and main() runs the next wake."""
    cfg, app, link, clock = started
    reset_cause = hardware.reset_cause()
    if cfg["device"] == "streetlight":
        app.start(reset_cause)
        while True:
            app.step()
    wake = "pin" if hardware.woke_by_pin() else ("boot" if reset_cause != "deep_sleep_wake" else "timer")
    slept_ms = getattr(hardware, "slept_ms", None)  # known after an in-place sleep (RP2040), not after a reset
    if wake == "pin" and slept_ms is not None and hasattr(app, "woke_early"):
        app.woke_early(slept_ms // 1000)
    sleep_ms = app.cycle(wake, reset_cause)
    # The duty-cycle ledger lives in RAM: never wake to send before the band is open again.
    wait = getattr(link, "time_until_send_ms", None)
    if wait is not None and link.joined:
        sleep_ms = max(sleep_ms, wait())
    wake_pin = None
    wake_level = None
    if cfg["device"] == "lifebuoy":
        wake_pin = app.presence.pin
        wake_level = app.wake_level()
    hardware.deep_sleep(sleep_ms, wake_pin, wake_level)


def main():
    from tingfw.hardware import MachineHardware
    from tingfw.radio.clock import SystemClock

    hardware = None
    clock = SystemClock()
    while True:  # one pass per wake where the sleep returns (RP2040); ESP32 wakes by a reset instead
        text = read_text(CONFIG_PATH)
        board_name = None
        try:
            import json

            board_name = json.loads(text)["board"]
        except Exception:
            pass
        if hardware is None:
            mcu = boards.get(board_name)["mcu"] if board_name in boards.board_names() else "esp32"
            hardware = MachineHardware(mcu)
        started = start(text, hardware, clock, print)
        if started is None:
            hardware.deep_sleep(3600 * 1000)  # try again in an hour: maybe a technician fixed the file
            continue
        run_once(started, hardware)
