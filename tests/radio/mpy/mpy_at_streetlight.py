# The streetlight's weekly schedule on network time from an AT module: the app asks for the time
# (request_device_time), it rides on the app's next uplink as the module's DeviceTimeReq, and the
# schedule follows the module's answer. Wio-E5 and RUI3 emulators from at_emulators.py.
import mpytest
import tingcodec
from at_emulators import GPS_2026_11_23, rui3, wio
from tingfw import boards, config
from tingfw.apps.streetlight import StreetlightApp
from tingfw.drivers.bl0937 import EnergyMeter
from tingfw.drivers.dimmer import Dimmer
from tingfw.fakes import FakeCounter, FakePin, FakePwm, FakeStore

KEYS = {"dev_eui": "0011223344556677", "join_eui": "0000000000000000", "app_key": "00112233445566778899aabbccddeeff"}
# the emulators answer 2026-11-23 11:56:58 UTC, a Monday, 12:56:58 in Copenhagen (the schedule's default
# zone, UTC+1 in winter): the local 12:00 point is in force, 13:00 follows
SCHEDULE = [{"level_pct": 70, "time_min": 12 * 60, "anchor": "clock", "days_mask": 127},
            {"level_pct": 20, "time_min": 13 * 60, "anchor": "clock", "days_mask": 127}]


def run(make_link, minutes):
    clock, modem, uart, link = make_link()
    raw = {"device": "streetlight", "board": "heltec_wifi_lora32_v3", "schedule": SCHEDULE,
           "thresholds": {"default_level_pct": 100}}
    raw.update(KEYS)
    settings = config.validate(raw, boards.board_names())["settings"]
    dimmer = Dimmer(FakePwm(), FakePin(), min_on_level=0)
    app = StreetlightApp(settings, link, tingcodec, clock, FakeStore(), dimmer,
                         EnergyMeter(FakeCounter(clock, 1.7), clock, 1.7))
    app.start("power_on")
    levels = []
    end_ms = clock.ticks_ms() + minutes * 60000
    for _ in range(minutes * 120):  # bounded: each step polls the module for up to a second
        if clock.ticks_ms() >= end_ms:
            break
        app.step()
        levels.append(dimmer.level)
    return app, uart, levels


def test_wio_e5_time_drives_the_schedule():
    app, uart, levels = run(wio, 12)
    # the time rode on the boot's device_info uplink (port 1): DeviceTimeReq, then the module's RTC
    assert uart.commands[1:6] == ["AT+PORT=1", "AT+LW=DTR", uart.commands[3], "AT+LW=ULDL", "AT+RTC=FULL"]
    assert levels[0] == 70 and levels[-1] == 20, (levels[0], levels[-1])  # 12:57 then past 13:00 local
    gps_now = app.link.network_time()
    assert GPS_2026_11_23 + 11 * 60 <= gps_now <= GPS_2026_11_23 + 13 * 60, gps_now


def test_rui3_time_drives_the_schedule():
    app, uart, levels = run(rui3, 12)
    assert "AT+TIMEREQ=1" in uart.commands and "AT+LTIME=?" in uart.commands
    assert levels[0] == 70 and levels[-1] == 20, (levels[0], levels[-1])


def test_no_answer_keeps_the_default_level():
    def silent_wio():
        clock, modem, uart, link = wio()
        modem.time_answer = False
        return clock, modem, uart, link

    app, uart, levels = run(silent_wio, 12)
    assert app.link.network_time() is None and levels[0] == levels[-1] == 100  # the default level
    assert uart.commands.count("AT+LW=DTR") >= 2  # asked again on later uplinks


mpytest.main(globals())
