# Config validation, boards, boot (config -> board -> drivers -> link -> app) and the watchdog,
# under the real MicroPython interpreter with fake hardware.
import json

import mpytest
from tingfw import boards, config
from tingfw import main as boot
from tingfw.clock import WatchdogClock
from tingfw.fakes import FakeClock, FakeHardware, FakeLink, FakeStore, FakeWatchdog

APP_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
GOOD = {"device": "fill_level", "dev_eui": "70B3D57ED0000001", "join_eui": "70b3d57ed0000000",
        "app_key": APP_KEY, "region": "EU868", "board": "heltec_wifi_lora32_v3",
        "intervals": {"measure_interval_s": 600, "report_interval_s": 3600},
        "thresholds": {"fill_distance_mm": 250}, "sensors": {"sensor": "jsnsr04t"}}


def with_changes(**changes):
    raw = dict(GOOD)
    raw.update(changes)
    return raw


def error_of(raw):
    exc = mpytest.raises(config.ConfigError, config.validate, raw, boards.board_names())
    assert APP_KEY not in exc.message and APP_KEY[:8] not in exc.message  # never a secret in the message
    return exc


def test_valid_config_gets_defaults_and_lowercase_keys():
    cfg = config.validate(GOOD, boards.board_names())
    assert cfg["dev_eui"] == "70b3d57ed0000001"
    settings = cfg["settings"]
    assert settings["measure_interval_s"] == 600 and settings["fill_distance_mm"] == 250
    assert settings["samples"] == 5 and settings["sensor"] == "jsnsr04t"  # default and given
    assert config.validate(with_changes(device="fill-level"), boards.board_names())["device"] == "fill_level"


def test_invalid_configs_have_clear_messages_and_blink_codes():
    cases = [
        (with_changes(device="bench"), config.BLINK_UNKNOWN_NAME, "device"),
        (with_changes(app_key=APP_KEY[:31] + "g"), config.BLINK_BAD_KEYS, "app_key"),
        (with_changes(dev_eui="1234"), config.BLINK_BAD_KEYS, "dev_eui"),
        (with_changes(board="arduino_uno"), config.BLINK_UNKNOWN_NAME, "board"),
        (with_changes(region="US915"), config.BLINK_UNKNOWN_NAME, "region"),
        (with_changes(intervals={"measure_interval_s": 5}), config.BLINK_BAD_VALUE, "measure_interval_s"),
        (with_changes(intervals={"measure_interval_s": "600"}), config.BLINK_BAD_VALUE, "integer"),
        (with_changes(thresholds={"measure_interval_s": 600}), config.BLINK_UNKNOWN_NAME, "intervals"),
        (with_changes(thresholds={"fil_distance_mm": 600}), config.BLINK_UNKNOWN_NAME, "fil_distance_mm"),
        (with_changes(sensors={"sensor": "laser"}), config.BLINK_BAD_VALUE, "sensor"),
        (with_changes(pins={"presence": 99}), config.BLINK_BAD_VALUE, "pins.presence"),
        (with_changes(pins={"speaker": 3}), config.BLINK_UNKNOWN_NAME, "speaker"),
        (with_changes(colour="red"), config.BLINK_UNKNOWN_NAME, "colour"),
        (with_changes(intervals={"report_interval_s": True}), config.BLINK_BAD_VALUE, "report_interval_s"),
    ]
    for raw, code, word in cases:
        exc = error_of(raw)
        assert exc.blink_code == code, (word, exc.blink_code, exc.message)
        assert word in exc.message, (word, exc.message)


def test_text_level_errors():
    assert mpytest.raises(config.ConfigError, config.load, None, boards.board_names()).blink_code == config.BLINK_NO_FILE
    assert mpytest.raises(config.ConfigError, config.load, "{oops", boards.board_names()).blink_code == config.BLINK_BAD_JSON
    assert mpytest.raises(config.ConfigError, config.load, "[1]", boards.board_names()).blink_code == config.BLINK_BAD_JSON


def test_streetlight_schedule_validation():
    raw = with_changes(device="streetlight", sensors={}, thresholds={}, intervals={})
    raw["schedule"] = [{"level_pct": 80, "time_min": 1080, "anchor": "clock", "days_mask": 127},
                       {"level_pct": 0, "time_min": -30, "anchor": "sunrise", "days_mask": 127}]
    cfg = config.validate(raw, boards.board_names())
    assert [p["anchor"] for p in cfg["settings"]["schedule"]] == [0, 2]
    raw["schedule"] = [{"level_pct": 80, "time_min": 1080, "anchor": "sunset", "days_mask": 127}]
    assert "offset" in error_of(raw).message
    raw["schedule"] = [{"level_pct": 101, "time_min": 0, "days_mask": 1}]
    assert "level_pct" in error_of(raw).message
    raw["schedule"] = [{"level_pct": 1, "time_min": 0, "days_mask": 1}] * 9
    assert "at most 8" in error_of(raw).message


def test_merge_settings_is_all_or_nothing():
    settings = config.validate(GOOD, boards.board_names())["settings"]
    before = dict(settings)
    mpytest.raises(config.ConfigError, config.merge_settings, "fill_level", settings,
                   {"report_interval_s": 7200, "tilt_deg": 500})
    assert settings == before
    merged = config.merge_settings("fill_level", settings, {"report_interval_s": 7200})
    assert merged["report_interval_s"] == 7200 and settings["report_interval_s"] == 3600


def test_blink_code_pattern():
    clock = FakeClock()
    writes = []

    class Led:
        def value(self, level):
            writes.append((clock.now_ms, level))

    config.blink_code(Led(), clock, 4, repeats=2)
    assert [level for _t, level in writes].count(1) == 8  # 4 flashes, twice


def test_every_board_is_complete():
    for name in boards.BOARDS:
        board = boards.get(name)
        pins = boards.pin_map(name)
        for role in config.PIN_ROLES:
            assert role in pins, (name, role)
        assert board["radio"]["chip"] in ("sx1262", "sx1276", "at_wio_e5"), name
        assert board["mcu"] in ("esp32", "esp32s3", "esp32c3", "rp2040"), name
        for role in ("presence", "tamper", "tilt_switch"):
            assert pins[role] in board["wake_pins"], (name, role)
    assert boards.get("pico_waveshare_sx1262")["wdt_max_ms"] <= 8388  # RP2040's limit
    assert boards.pin_map("heltec_v3", {"presence": 2})["presence"] == 2
    assert boards.pin_map("heltec_v3")["presence"] == 7  # the override made a copy


def test_invalid_config_touches_nothing_but_the_led():
    clock = FakeClock()
    hardware = FakeHardware(clock)
    lines = []
    raw = with_changes(app_key="not-a-key")
    assert boot.start(json.dumps(raw), hardware, clock, lines.append, link_factory=lambda *a: FakeLink()) is None
    assert hardware.made == [("out", 35)], hardware.made  # the Heltec LED, nothing else: no radio, no watchdog
    assert hardware.pins[35].writes.count(1) == 3 * config.BLINK_BAD_KEYS
    assert lines == ["config: app_key must be 32 hex digits"]


def test_missing_config_file_logs_and_sleeps():
    clock = FakeClock()
    hardware = FakeHardware(clock)
    lines = []
    assert boot.start(boot.read_text("/nonexistent/config.json"), hardware, clock, lines.append) is None
    assert lines == ["config: file missing or unreadable"] and hardware.made == []


def _start(raw, hardware, clock, link):
    stores = (FakeStore(), FakeStore())

    def link_factory(cfg, board, hardware, fed_clock, rtc_store):
        link.clock = fed_clock  # like lorawan.Device: the link waits on the watchdog-feeding clock
        return link

    return boot.start(json.dumps(raw), hardware, clock, lambda line: None, link_factory=link_factory, stores=stores)


def test_boot_builds_fill_level_and_deep_sleeps():
    clock = FakeClock()
    hardware = FakeHardware(clock)
    link = FakeLink(clock=clock)
    started = _start(dict(GOOD, sensors={"sensor": "a02yyuw"}), hardware, clock, link)
    assert started is not None
    cfg, app, _link, _clock = started
    assert ("uart", 1) in hardware.made and ("wdt", 30000) in hardware.made
    hardware.uarts[1].repeat = bytes.fromhex("FF07A1A7")  # 1953 mm
    boot.run_once(started, hardware)
    assert hardware.slept == [(600 * 1000, None, None)], hardware.slept
    assert app.last[0] == 1953
    assert len(link.sent) == 2  # device_info and the first status


def test_boot_builds_lifebuoy_with_wake_on_presence_pin():
    clock = FakeClock()
    hardware = FakeHardware(clock)
    raw = dict(GOOD, device="lifebuoy", board="pico_waveshare_sx1262", sensors={}, thresholds={"debounce_ms": 500})
    raw.pop("intervals")
    started = _start(raw, hardware, clock, FakeLink(clock=clock))
    boot.run_once(started, hardware)
    sleep_ms, wake_pin, wake_level = hardware.slept[0]
    assert sleep_ms == 86400 * 1000 and wake_pin is hardware.pins[9] and wake_level == 1
    assert hardware.wdt.timeout_ms == 8300


def test_boot_builds_streetlight_on_a_wio_e5_board():
    clock = FakeClock()
    hardware = FakeHardware(clock)
    raw = dict(GOOD, device="streetlight", board="xiao_esp32c3_wio_e5", sensors={"pir_active_level": 1},
               thresholds={"default_level_pct": 70})
    raw.pop("intervals")
    link = FakeLink(clock=clock)
    _cfg, app, _link, fed_clock = _start(raw, hardware, clock, link)
    assert ("pwm", 10) in hardware.made and ("counter", 4) in hardware.made and ("in", 3) in hardware.made
    app.start("power_on")
    for _ in range(3):
        app.step()
    assert app.dimmer.level == 70
    assert hardware.wdt.longest_gap_ms <= 1000  # Class C polls go through the watchdog clock
    assert fed_clock.feeds > 0


def test_watchdog_fed_through_a_silent_sf12_join_on_rp2040():
    import lorawan
    from lorawan.aes import aes_factory
    from tingfw.radio.fake_modem import FakeLoraModem
    from tingfw.radio.sx12xx import Sx12xxRadio

    clock = FakeClock()
    hardware = FakeHardware(clock)
    wdt = FakeWatchdog(8300, clock)
    fed_clock = WatchdogClock(clock, wdt, 8300 // 4, light_sleep=hardware.radio_light_sleep())
    modem = FakeLoraModem(clock)  # nothing ever answers
    radio = Sx12xxRadio(modem, fed_clock, hw_ticks_ms=clock.ticks_ms, ticks_diff=lambda a, b: a - b,
                        light_sleep=fed_clock.light_sleep_ms)
    device = lorawan.Device(radio, fed_clock, FakeStore(), aes_factory(), bytes(8), bytes(8), bytes(16))
    assert device.join(attempts=6) is False  # DR5 .. DR0 (SF12): 5 s / 6 s join-accept waits each
    assert clock.now_ms > 6 * 6000
    assert wdt.longest_gap_ms <= 8300 // 4 + 100, wdt.longest_gap_ms
    # the MCU light-slept through the RX delays, the time on air and the windows, never past a slice
    assert max(hardware.light_sleeps) <= 8300 // 4, hardware.light_sleeps
    assert sum(hardware.light_sleeps) > 0.9 * 6 * 6000, sum(hardware.light_sleeps)
    starving = WatchdogClock(clock, FakeWatchdog(8300, clock), slice_ms=10000)
    mpytest.raises(AssertionError, starving.sleep_ms, 20000)  # the check itself can fail


def test_light_sleep_is_wired_for_battery_devices_with_the_own_mac_only():
    def fed_clock_of(raw):
        clock = FakeClock()
        return _start(raw, FakeHardware(clock), clock, FakeLink(clock=clock))[3]

    assert fed_clock_of(dict(GOOD)).light_sleep_ms is not None
    lifebuoy = dict(GOOD, device="lifebuoy", board="pico_waveshare_sx1262", sensors={}, thresholds={})
    lifebuoy.pop("intervals")
    assert fed_clock_of(lifebuoy).light_sleep_ms is not None
    assert fed_clock_of(dict(GOOD, board="xiao_esp32c3_wio_e5")).light_sleep_ms is None  # AT modem: UART awake
    streetlight = dict(GOOD, device="streetlight", sensors={}, thresholds={})
    streetlight.pop("intervals")
    assert fed_clock_of(streetlight).light_sleep_ms is None  # mains powered, Class C


mpytest.main(globals())
