# The streetlight's weekly schedule on local time, under the real MicroPython interpreter: Danish summer
# time (the hour skipped in March, the hour repeated in October), midnight and week wrap, the UTC zone
# option, and the fail-safe level when there is no valid time. The rig: streetlight_rig.py.
import mpytest
from streetlight_rig import KEYS, Rig, gps_at, unix_at
from tingfw import boards, config
from tingfw.localtime import utc_offset_s, wall_to_unix, weekday

EVERY_DAY = 127
MONDAY = 1
SUNDAY = 64


def clock(level, hh, mm, days=EVERY_DAY):
    return {"level_pct": level, "time_min": hh * 60 + mm, "anchor": "clock", "days_mask": days}


def levels_per_minute(rig, minutes):
    out = []
    for _ in range(minutes):
        rig.run_s(60)
        out.append(rig.level())
    return out


def test_offsets_and_wall_times_around_both_2026_transitions():
    spring = unix_at(2026, 3, 29, 1, 0)  # last Sunday of March, 01:00 UTC
    autumn = unix_at(2026, 10, 25, 1, 0)  # last Sunday of October, 01:00 UTC
    zone = "Europe/Copenhagen"
    assert utc_offset_s(spring - 1, zone) == 3600 and utc_offset_s(spring, zone) == 7200
    assert utc_offset_s(autumn - 1, zone) == 7200 and utc_offset_s(autumn, zone) == 3600
    assert utc_offset_s(spring, "UTC") == 0
    wall = unix_at(2026, 3, 29, 0, 0)  # local midnight, counted as wall seconds
    assert wall_to_unix(wall + 90 * 60, zone) == unix_at(2026, 3, 29, 0, 30)  # 01:30 CET
    assert wall_to_unix(wall + 150 * 60, zone) == spring  # 02:30 does not exist: the jump
    assert wall_to_unix(wall + 180 * 60, zone) == spring  # 03:00 CEST is the jump itself
    assert wall_to_unix(wall + 210 * 60, zone) == spring + 1800
    wall = unix_at(2026, 10, 25, 0, 0)
    assert wall_to_unix(wall + 150 * 60, zone) == autumn - 1800  # 02:30 twice: the first (CEST)
    assert wall_to_unix(wall + 210 * 60, zone) == autumn + 5400  # 03:30 CET
    assert wall_to_unix(wall + 150 * 60, "UTC") == wall + 150 * 60


def test_weekly_schedule_in_copenhagen_time_by_default():
    schedule = [clock(80, 18, 0), clock(30, 23, 0, 0x1F), clock(0, 6, 0)]  # 23:00 on Mon-Fri only
    rig = Rig(schedule=schedule)
    assert rig.settings["time_zone"] == "Europe/Copenhagen"
    rig.link.gps_time_s = gps_at(2026, 11, 23, 21, 50)  # Monday 22:50 CET
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 80
    rig.run_s(11 * 60)  # 23:01 CET
    assert rig.level() == 30
    rig.run_s(7 * 3600)  # 06:01 CET Tuesday
    assert rig.level() == 0


def test_time_zone_utc_reads_the_same_points_as_utc():
    schedule = [clock(80, 18, 0), clock(30, 23, 0, 0x1F), clock(0, 6, 0)]
    utc = Rig(schedule=schedule, location={"time_zone": "UTC"})
    local = Rig(schedule=schedule)
    for rig in (utc, local):
        rig.link.gps_time_s = gps_at(2026, 11, 23, 22, 50)  # Monday 22:50 UTC = 23:50 CET
        rig.app.start()
        rig.run_s(2)
    assert utc.level() == 80 and local.level() == 30
    utc.run_s(11 * 60)
    assert utc.level() == 30


def test_march_skipped_hour_fires_its_point_at_the_jump():
    schedule = [clock(90, 22, 0), clock(10, 1, 30), clock(20, 2, 30), clock(30, 3, 15)]
    rig = Rig(schedule=schedule)
    rig.link.gps_time_s = gps_at(2026, 3, 29, 0, 20)  # Sunday 01:20 CET
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 90
    rig.run_s(10 * 60)  # 01:30 CET
    assert rig.level() == 10
    before_jump = levels_per_minute(rig, 29)  # to 01:59:02 CET
    assert before_jump == [10] * 29, before_jump
    rig.run_s(60)  # 01:00:02 UTC = 03:00:02 CEST: 02:30 never came, its point applies now
    assert rig.level() == 20
    rig.run_s(15 * 60)  # 03:15 CEST
    assert rig.level() == 30


def test_october_repeated_hour_fires_each_point_once():
    schedule = [clock(90, 22, 0), clock(40, 2, 30), clock(50, 3, 30)]
    rig = Rig(schedule=schedule)
    rig.link.gps_time_s = gps_at(2026, 10, 25, 0, 20)  # Sunday 02:20 CEST
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 90
    rig.run_s(11 * 60)  # 02:31 CEST
    assert rig.level() == 40
    # 00:32 UTC .. 02:29 UTC: the rest of 02:xx CEST, all of 02:xx CET again, 03:00-03:29 CET.
    through = levels_per_minute(rig, 118)
    assert through == [40] * 118, "no flip back to 90 and no second 02:30 in the repeated hour"
    rig.run_s(60)  # 02:31:02 UTC = 03:31 CET
    assert rig.level() == 50


def test_weekday_is_local_across_midnight():
    schedule = [clock(100, 12, 0), clock(60, 23, 30, SUNDAY), clock(5, 0, 10, MONDAY)]
    rig = Rig(schedule=schedule)
    rig.link.gps_time_s = gps_at(2026, 11, 29, 22, 20)  # Sunday 23:20 CET
    assert weekday(unix_at(2026, 11, 29, 0, 0) // 86400) == 6
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 100
    rig.run_s(11 * 60)  # Sunday 23:31 CET
    assert rig.level() == 60
    rig.run_s(40 * 60)  # Monday 00:11 CET, still Sunday 23:11 in UTC
    assert rig.level() == 5


def test_week_wrap_finds_last_weeks_point():
    schedule = [clock(70, 8, 0, MONDAY), clock(15, 9, 0, MONDAY)]
    rig = Rig(schedule=schedule, thresholds={"default_level_pct": 33})
    rig.link.gps_time_s = gps_at(2026, 11, 30, 6, 58)  # Monday 07:58 CET: last point was a week ago
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 15
    rig.run_s(2 * 60)  # 08:00
    assert rig.level() == 70
    rig.run_s(3600)  # 09:00
    assert rig.level() == 15


def test_sunset_and_sunrise_points_are_instants():
    schedule = [{"level_pct": 100, "time_min": 0, "anchor": "sunset", "days_mask": 127},
                {"level_pct": 0, "time_min": 0, "anchor": "sunrise", "days_mask": 127}]
    rig = Rig(schedule=schedule, location={"latitude_deg": 55.68, "longitude_deg": 12.57})
    rig.link.gps_time_s = gps_at(2026, 12, 20, 12, 0)  # Sunday noon UTC; Copenhagen sunset ~14:38 UTC
    rig.app.start()
    rig.run_s(2)
    assert rig.level() == 0
    rig.run_s(3 * 3600)  # 15:00 UTC
    assert rig.level() == 100


def test_no_valid_time_burns_the_failsafe_level():
    schedule = [clock(10, 0, 0)]
    levels = {"default_level_pct": 90, "failsafe_level_pct": 70, "failsafe_after_s": 0}
    never = Rig(schedule=schedule, thresholds=levels)
    never.app.start()
    never.run_s(5)
    assert never.level() == 70, "a schedule but never a network time"
    no_schedule = Rig(thresholds=levels)
    no_schedule.app.start()
    no_schedule.run_s(5)
    assert no_schedule.level() == 90, "nothing to follow: the default level"
    stale = Rig(schedule=schedule, thresholds=levels)
    stale.link.gps_time_s = gps_at(2026, 6, 1, 12, 0)
    stale.app.start()
    stale.run_s(5)
    assert stale.level() == 10
    stale.link.gps_time_s = None  # the network stops answering DeviceTimeReq
    stale.clock.advance(7 * 86400 * 1000)
    stale.run_s(1)  # the step that notices the week gone by
    stale.run_s(5)
    assert stale.level() == 70, "a week without a time sync: the clock is no longer trusted"


def test_time_zone_is_validated_at_boot():
    raw = {"device": "streetlight", "board": "heltec_wifi_lora32_v3", "location": {"time_zone": "Europe/Berlin"}}
    raw.update(KEYS)
    error = mpytest.raises(config.ConfigError, config.validate, raw, boards.board_names())
    assert error.blink_code == config.BLINK_BAD_VALUE and "time_zone" in error.message, error.message


mpytest.main(globals())
