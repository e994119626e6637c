"""tingfw.localtime (pure, CPython-compatible) cross-checked against CPython's zoneinfo (IANA data, `tzdata`).

The MicroPython scripts (mpy_streetlight_schedule.py) test the schedule around the transitions on the real
interpreter; this checks the conversion itself against an independent implementation for a dozen years.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tingfw.localtime import ZONE_NAMES, utc_offset_s, wall_to_unix

START_UNIX_S = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
END_UNIX_S = int(datetime(2036, 1, 1, tzinfo=UTC).timestamp())
STEP_S = 3600


def _offset(zone: ZoneInfo, unix_s: int) -> int:
    offset = datetime.fromtimestamp(unix_s, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def test_offsets_match_zoneinfo_every_hour_for_twelve_years() -> None:
    for name in ZONE_NAMES:
        zone = ZoneInfo(name)
        for unix_s in range(START_UNIX_S, END_UNIX_S, STEP_S):
            assert utc_offset_s(unix_s, name) == _offset(zone, unix_s), (name, unix_s)


def test_wall_times_name_one_instant_the_first_of_a_repeated_hour() -> None:
    zone = ZoneInfo("Europe/Copenhagen")
    repeated = 0
    for unix_s in range(START_UNIX_S, END_UNIX_S, STEP_S):
        wall_s = unix_s + _offset(zone, unix_s)
        found = wall_to_unix(wall_s, "Europe/Copenhagen")
        if found != unix_s:  # only the second pass through October's 02:00-03:00
            repeated += 1
            assert found == unix_s - 3600 and _offset(zone, found) == 7200, unix_s
    assert repeated == 12  # one hourly step in each year's repeated hour


def test_skipped_wall_times_name_the_jump() -> None:
    for year in range(2024, 2036):
        spring = datetime(year, 3, 31, 1, 0, tzinfo=UTC)
        while spring.weekday() != 6:
            spring = spring.replace(day=spring.day - 1)
        jump_s = int(spring.timestamp())
        wall_two_s = jump_s + 3600  # 02:00 as wall seconds: the jump instant read with CET's +1 h
        for minute in range(0, 60, 5):  # 02:00 .. 02:55 wall does not exist
            assert wall_to_unix(wall_two_s + minute * 60, "Europe/Copenhagen") == jump_s
        assert wall_to_unix(wall_two_s + 3600, "Europe/Copenhagen") == jump_s  # 03:00 CEST: the jump itself
        assert _offset(ZoneInfo("Europe/Copenhagen"), jump_s - 1) == 3600
        assert _offset(ZoneInfo("Europe/Copenhagen"), jump_s) == 7200
