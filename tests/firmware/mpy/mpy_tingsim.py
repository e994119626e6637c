# The host simulation's own parts under the real MicroPython: scenarios, the simulated hardware driving
# the real fill-level and lifebuoy boot (tingfw.main) with a fake link, and SimClock's two speeds.
import json
import time

import mpytest
import tingcodec
from tingfw import boards
from tingfw import main as boot
from tingfw.fakes import FakeClock, FakeLink, FakeStore
from tingsim import scenarios
from tingsim.clock import SimClock, SimulationEnd
from tingsim.hardware import SimHardware

APP_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
BOARD = "heltec_wifi_lora32_v3"


def config_for(device, **sections):
    cfg = {"device": device, "dev_eui": "70b3d57ed0000009", "join_eui": "70b3d57ed0000000", "app_key": APP_KEY,
           "board": BOARD}
    cfg.update(sections)
    return cfg


def run_wakes(cfg, scenario, wakes):
    """Boot + deep sleep `wakes` times on SimHardware with a fake link; -> (decoded uplinks, hardware, clock)."""
    clock = FakeClock()
    link = FakeLink(clock=clock)
    stores = (FakeStore(), FakeStore())
    text = json.dumps(cfg)
    pins = boards.pin_map(BOARD, {})
    validated = boot.load_config(text, SimHardware(clock, {"device": cfg["device"], "settings": {}}, pins,
                                                   boards.get(BOARD), {}, "/tmp/tingsim-unused"), clock, print)
    hardware = SimHardware(clock, validated, pins, boards.get(BOARD), scenario, "/tmp/tingsim-rtc-%d.bin" % wakes, 7)
    for _ in range(wakes):
        started = boot.start(text, hardware, clock, lambda line: None, lambda *args: link, stores)
        boot.run_once(started, hardware)
    uplinks = []
    for fport, payload, _confirmed in link.sent:
        decoded = tingcodec.decode(fport, payload, cfg["device"], direction="up")
        uplinks.append((decoded["message"], decoded["fields"]))
    return uplinks, hardware, clock


def test_scenarios_sway_comes_at_the_end_of_each_period_and_wakes_the_buoy():
    buoy = scenarios.settings_for("lifebuoy", {"removed": [[500, 700]], "sway_every_s": 100, "sway_s": 0.5})
    assert scenarios.buoy_present(buoy, 0) and scenarios.buoy_present(buoy, 99.4)
    assert not scenarios.buoy_present(buoy, 99.6) and scenarios.buoy_present(buoy, 100.1)
    assert not scenarios.buoy_present(buoy, 600)
    assert scenarios.next_presence_change_s(buoy, 0) == 99.5
    assert scenarios.next_presence_change_s(buoy, 99.6) == 100
    assert scenarios.next_presence_change_s(buoy, 450) == 499.5
    assert scenarios.next_presence_change_s(buoy, 499.9) == 500
    calm = scenarios.settings_for("lifebuoy", {"sway_every_s": 0, "removed": []})
    assert scenarios.next_presence_change_s(calm, 10) is None


def test_scenarios_bin_fills_is_emptied_and_a_fire_smoulders():
    bin_ = scenarios.settings_for("fill_level", {"fill_start": 0.5, "fill_days": 1.0, "empty_at": 0.9,
                                                 "fire_at_s": 1000, "temperature_swing_c": 0, "knocked_over_at_s": 50})
    assert scenarios.distance_mm(bin_, 0) == 600  # half of 1050..150
    full_s = 0.4 * 86400
    assert scenarios.distance_mm(bin_, full_s - 60) < 250
    assert scenarios.distance_mm(bin_, full_s + 60) > 1040  # emptied by the truck
    assert scenarios.temperature_c(bin_, 999) == 14.0
    assert abs(scenarios.temperature_c(bin_, 1000 + 600) - 34.0) < 0.01  # +2 C a minute
    assert scenarios.temperature_c(bin_, 10 ** 6) == 84.0  # capped
    assert not scenarios.tilted(bin_, 49) and scenarios.tilted(bin_, 50)
    mpytest.raises(ValueError, scenarios.settings_for, "fill_level", {"fil_days": 2})  # a typo is an error


def test_simulated_bin_median_drops_echo_outliers_then_fire_and_tilt_alarms():
    cfg = config_for("fill_level", intervals={"measure_interval_s": 300, "report_interval_s": 300})
    scenario = scenarios.settings_for("fill_level", {"fill_start": 0.1, "fill_days": 20, "echo_outlier_every": 8,
                                                     "fire_at_s": 3000, "knocked_over_at_s": 6000})
    uplinks, hardware, clock = run_wakes(cfg, scenario, 24)
    assert hardware.ultrasonic.outliers >= 10  # the sensor did send echoes off the wall ...
    statuses = [fields for message, fields in uplinks if message == "status"]
    assert len(statuses) >= 20
    for fields in statuses:  # ... and the median threw every one away (true distance ~960 mm, noise +-8)
        assert 920 <= fields["distance_mm"] <= 1000, fields
    alarms = [fields for message, fields in uplinks if message == "alarm"]
    assert alarms and (alarms[0]["fire_temperature"] or alarms[0]["fire_rise"]), uplinks
    assert [a for a in alarms if a["tilt"]], alarms
    assert clock.ticks_ms() >= 24 * 300 * 1000


def test_simulated_buoy_ignores_the_sway_and_reports_removal():
    cfg = config_for("lifebuoy", thresholds={"debounce_ms": 1000})
    scenario = scenarios.settings_for("lifebuoy", {"removed": [[5000, 10 ** 9]], "sway_every_s": 1000})
    uplinks, hardware, _clock = run_wakes(cfg, scenario, 8)
    presence = [fields for message, fields in uplinks if message == "presence"]
    assert [p["present"] for p in presence] == [False], uplinks  # four sways before 5000 s: no event
    assert hardware.pin_wakes >= 5  # each sway and the removal woke it (the reed switch interrupt)


def test_deep_sleep_ends_at_the_reed_switch_and_only_an_rp2040_knows_how_long_it_slept():
    for board_name, knows in (("pico_sx1262", True), (BOARD, False)):
        clock = FakeClock()
        pins = boards.pin_map(board_name, {})
        cfg = {"device": "lifebuoy", "settings": {"presence_active_level": 0, "tamper_active_level": 1}}
        scenario = scenarios.settings_for("lifebuoy", {"removed": [[100, 200]], "sway_every_s": 0})
        hardware = SimHardware(clock, cfg, pins, boards.get(board_name), scenario, "/tmp/tingsim-unused")
        pin = hardware.pin_in(pins["presence"])
        hardware.deep_sleep(3600 * 1000, pin, 1)  # wake when the magnet is gone (level 1: active low)
        assert hardware.pin_wake and 100000 <= clock.ticks_ms() <= 100002, clock.ticks_ms()
        assert hardware.slept_ms == (clock.ticks_ms() if knows else None), (board_name, hardware.slept_ms)


def test_simclock_keeps_receive_windows_real_and_ends_in_a_sleep():
    clock = SimClock(1000)
    wall = time.ticks_ms()
    before = clock.ticks_ms()
    clock.sleep_ms(2000)
    assert clock.ticks_ms() - before >= 2000 and time.ticks_diff(time.ticks_ms(), wall) < 200
    clock.hold_realtime_until(clock.ticks_ms() + 150)
    wall = time.ticks_ms()
    clock.sleep_ms(1000)  # 150 ms of it inside the held window: real; the rest fast
    assert 140 <= time.ticks_diff(time.ticks_ms(), wall) < 400
    clock.end_ms = clock.ticks_ms()
    clock.sleep_ms(5)  # a radio step still runs
    mpytest.raises(SimulationEnd, clock.sleep_ms, 100)


mpytest.main(globals())
